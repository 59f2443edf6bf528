// Text input for every command that reads sentences (a file, or stdin): checked before any work starts, then
// read incrementally as lines of strict UTF-8. A compressed or binary file is refused by its first bytes; a
// byte sequence that is not UTF-8 is an error naming the input and the line (never silently U+FFFD); lines
// break at \n, \r\n or a lone \r, as Node's readline does.
import { closeSync, readSync, statSync } from 'node:fs';
import { isUtf8 } from 'node:buffer';
import { InputError, messageOf, UsageError } from '../errors.js';
import { MAX_JSON_DEPTH, scanJson } from '../io/json.js';
import { openInputStream, openRegularFile } from '../io/read-file.js';
import { loneSurrogateAt } from '../tokenizer/offsets.js';
import { JsonStringScanner, stringPrefixValue } from './json-prefix.js';

export type InputFormat = 'lines' | 'jsonl';

/** What a command prints for stdin in its messages. */
export const STDIN = '<stdin>';

/** Bytes looked at to tell text from a compressed or binary file. */
const SNIFF = 64 * 1024;
/** A longer line would not fit a JavaScript string (V8 caps them near 512 M units); refused with its number. */
export const MAX_LINE_BYTES = 256 * 1024 * 1024;
/**
 * What `sbert encode` keeps of a longer line (plain, or one JSON string): enough for any max length when words are shorter than
 * a few kB (the rest of such a line cannot change its first tokens); a line this long whose start does not
 * settle its tokens is refused (see encode.ts).
 */
export const HOLD_BYTES = 4 * 1024 * 1024;

/** The error for a line cut at HOLD_BYTES whose start does not settle its first `maxLength` tokens. */
export function unsettledLine(n: number, maxLength: number, name: string): InputError {
  const mib = `${HOLD_BYTES / 2 ** 20} MiB`;
  return lineError(
    name,
    n,
    `longer than ${mib}, and its first ${mib} do not settle its first ${maxLength} tokens (words of kilobytes?); split the line`,
  );
}

const MAGIC: [string, number[]][] = [
  ['gzip-compressed', [0x1f, 0x8b]],
  ['bzip2-compressed', [0x42, 0x5a, 0x68]],
  ['xz-compressed', [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]],
  ['zstd-compressed', [0x28, 0xb5, 0x2f, 0xfd]],
  ['a zip archive', [0x50, 0x4b, 0x03, 0x04]],
  ['a 7-zip archive', [0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c]],
  ['UTF-16 text (little-endian BOM)', [0xff, 0xfe]],
  ['UTF-16 text (big-endian BOM)', [0xfe, 0xff]],
];

/** Why `head` (a file's first bytes) is not UTF-8 text, or undefined when it may be. */
export function notText(head: Uint8Array): string | undefined {
  for (const [what, magic] of MAGIC) {
    if (head.length >= magic.length && magic.every((b, i) => head[i] === b)) {
      const hint = what.endsWith('compressed')
        ? `; decompress it first (e.g. ${what.split('-')[0] === 'gzip' ? 'gunzip -c' : 'unxz / bunzip2 / zstd -dc'} FILE | sbert ...)`
        : '';
      return `is ${what.startsWith('a ') || what.startsWith('UTF') ? '' : 'a '}${what} file, not UTF-8 text${hint}`;
    }
  }
  const nul = head.indexOf(0);
  if (nul >= 0) return `is a binary file, not UTF-8 text (a NUL byte at byte ${nul})`;
  return undefined;
}

/**
 * Checks an input file before any work: it exists, is not a folder, can be read, and its first bytes look like
 * text. A pipe (FIFO: `--input <(zcat x.gz)`) is the user's stream, read as it comes like stdin and checked as it
 * arrives; a device (/dev/zero never ends) or a socket is refused by name (src/io).
 */
export function checkInputFile(file: string): void {
  let st;
  try {
    st = statSync(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new InputError(code === 'ENOENT' ? 'no such file' : `cannot read (${code})`, file);
  }
  if (st.isDirectory()) throw new InputError('is a directory, expected a text file', file);
  if (st.isFIFO()) return;
  const { fd, size } = openRegularFile(file);
  const head = Buffer.alloc(Math.min(SNIFF, size));
  try {
    readSync(fd, head, 0, head.length, 0);
  } catch (e) {
    throw new InputError(`cannot read (${(e as NodeJS.ErrnoException).code ?? messageOf(e)})`, file);
  } finally {
    closeSync(fd);
  }
  const why = notText(head);
  if (why) throw new InputError(why, file);
}

function lineError(name: string, n: number, what: string): InputError {
  return new InputError(`line ${n}: ${what}`, name);
}

/** A line error for a JSON string value holding a lone surrogate, or undefined when it holds none. */
function surrogateError(name: string, n: number, value: string, field = 'the JSON string'): InputError | undefined {
  const at = loneSurrogateAt(value);
  if (at < 0) return undefined;
  const code = value.charCodeAt(at).toString(16);
  return lineError(
    name,
    n,
    `${field} holds a lone surrogate \\u${code} at character ${at + 1}, which is not a Unicode character`,
  );
}

/** Where `line` (bytes that are not UTF-8) first goes wrong, for the message. */
function badByte(line: Buffer): string {
  // Decoding replaces each bad sequence with U+FFFD; the first one that does not stand for EF BF BD is it.
  let at = 0;
  for (const ch of line.toString('utf8')) {
    if (ch === '\ufffd' && !(line[at] === 0xef && line[at + 1] === 0xbf && line[at + 2] === 0xbd)) {
      return `not valid UTF-8 (byte 0x${line[at]!.toString(16).padStart(2, '0')} at byte ${at + 1} of the line)`;
    }
    at += Buffer.byteLength(ch);
  }
  return 'not valid UTF-8';
}

/**
 * The lines of a file or stdin, in order, each with its number (from 1). A final line without a newline counts;
 * an empty input has no lines. `hold`: see `linesOf`.
 */
export async function* readLines(file: string | undefined, hold?: number, json = false): AsyncGenerator<Line> {
  if (file) checkInputFile(file);
  const stream = file ? openInputStream(file) : process.stdin;
  try {
    yield* linesOf(stream, file ?? STDIN, hold, json);
  } finally {
    if (file) stream.destroy();
  }
}

const isBreak = (b: number | undefined): boolean => b === 0x0a || b === 0x0d;

/** A line of input: its text, its number (from 1), and whether `text` is only its first `hold` bytes. */
export interface Line {
  text: string;
  n: number;
  cut: boolean;
}

/**
 * The lines of a stream of bytes (`name` is what messages call it). With `hold`, a longer line keeps only its
 * first `hold` bytes (whole characters; `cut` set), the rest is read, checked as UTF-8 and dropped, so memory
 * stays bounded however long the line.
 */
export async function* linesOf(
  stream: AsyncIterable<Buffer>,
  name: string,
  hold = Infinity,
  json = false,
): AsyncGenerator<Line> {
  let n = 0;
  // The bytes of the line not ended yet, in one growing buffer (a long line is held once, then as text).
  let openBuf = Buffer.alloc(0);
  let openBytes = 0;
  let dropped = 0; // bytes of the open line past `hold`, checked by `rest` (and `jsonRest`)
  let rest: TextDecoder | undefined;
  let jsonRest: JsonStringScanner | undefined;
  let first = true;
  let cr = false; // the previous chunk ended with \r: a \n first in this one belongs to it
  const drop = (bytes: Buffer, end: boolean): void => {
    try {
      rest!.decode(bytes, { stream: !end });
    } catch {
      throw lineError(name, n + 1, `not valid UTF-8 (past byte ${openBytes + dropped} of the line)`);
    }
    if (jsonRest && !jsonRest.feed(bytes))
      throw lineError(name, n + 1, `not valid JSON (at byte ${jsonRest.position + 1} of the line)`);
    dropped += bytes.length;
    if (end && jsonRest && !jsonRest.closed) throw lineError(name, n + 1, 'not valid JSON (the string is not closed)');
  };
  const open = (bytes: Buffer): void => {
    if (rest) return drop(bytes, false);
    if (openBytes + bytes.length > hold) {
      // keep whole characters: back off over UTF-8 continuation bytes
      let keep = hold - openBytes;
      while (keep > 0 && (bytes[keep]! & 0xc0) === 0x80) keep--;
      if (keep === 0 && (bytes[0]! & 0xc0) === 0x80) {
        // The character at the cut began in the bytes already held (the cut fell on a chunk's end): its
        // first bytes go with the rest, so that both sides are whole characters.
        let from = openBytes;
        while (from > 0 && openBytes - from < 3 && (openBuf[from - 1]! & 0xc0) === 0x80) from--;
        if (from > 0 && openBuf[from - 1]! >= 0xc0) from--;
        if (from < openBytes) {
          const carried = Buffer.concat([openBuf.subarray(from, openBytes), bytes]);
          openBytes = from;
          return open(carried);
        }
      }
      open(bytes.subarray(0, keep));
      if (json) {
        // only a line that is one JSON string can be read in part
        jsonRest = new JsonStringScanner();
        if (!jsonRest.feed(openBuf.subarray(0, openBytes)) || !jsonRest.started) {
          throw lineError(name, n + 1, `longer than ${hold / 2 ** 20} MiB and not one JSON string`);
        }
      }
      rest = new TextDecoder('utf-8', { fatal: true });
      return drop(bytes.subarray(keep), false);
    }
    if (openBytes + bytes.length > MAX_LINE_BYTES)
      throw lineError(name, n + 1, `longer than ${MAX_LINE_BYTES / 2 ** 20} MiB`);
    if (openBytes + bytes.length > openBuf.length) {
      const grown = Buffer.allocUnsafe(
        Math.min(MAX_LINE_BYTES, Math.max(2 * openBuf.length, openBytes + bytes.length, 4096)),
      );
      openBuf.copy(grown, 0, 0, openBytes);
      openBuf = grown;
    }
    bytes.copy(openBuf, openBytes);
    openBytes += bytes.length;
  };
  const close = (bytes: Buffer): Line => {
    let line = bytes;
    if (openBytes > 0 || rest || bytes.length > hold) {
      open(bytes);
      if (rest) drop(Buffer.alloc(0), true);
      line = openBuf.subarray(0, openBytes);
    }
    if (!isUtf8(line)) throw lineError(name, n + 1, badByte(line));
    const text = line.toString('utf8');
    const cut = rest !== undefined;
    if (openBuf.length > 1 << 20) openBuf = Buffer.alloc(0); // a long line's buffer goes with it
    openBytes = 0;
    dropped = 0;
    rest = undefined;
    jsonRest = undefined;
    return { text, n: ++n, cut };
  };
  // Complete lines with no line open before them: all checked at once, else line by line up to the bad one.
  const complete = function* (bytes: Buffer): Generator<Line> {
    if (bytes.length > hold) {
      // a line in here may be longer than `hold`: line by line through the same path as an open one
      let start = 0;
      for (let i = 0; i <= bytes.length; i++) {
        if (i < bytes.length && !isBreak(bytes[i])) continue;
        yield close(bytes.subarray(start, i));
        if (bytes[i] === 0x0d && bytes[i + 1] === 0x0a) i++;
        start = i + 1;
      }
      return;
    }
    if (isUtf8(bytes)) {
      for (const text of bytes.toString('utf8').split(/\r\n|\r|\n/)) yield { text, n: ++n, cut: false };
      return;
    }
    let start = 0;
    for (let i = 0; i <= bytes.length; i++) {
      if (i < bytes.length && !isBreak(bytes[i])) continue;
      const line = bytes.subarray(start, i);
      if (!isUtf8(line)) throw lineError(name, n + 1, badByte(line));
      yield { text: line.toString('utf8'), n: ++n, cut: false };
      if (bytes[i] === 0x0d && bytes[i + 1] === 0x0a) i++;
      start = i + 1;
    }
  };
  try {
    for await (const chunk of stream) {
      let buf = chunk;
      if (first) {
        first = false;
        const why = notText(buf.subarray(0, SNIFF));
        if (why) throw new InputError(why, name);
      }
      if (cr && buf[0] === 0x0a) buf = buf.subarray(1);
      cr = false;
      let f = 0; // the first line break
      while (f < buf.length && !isBreak(buf[f])) f++;
      if (f === buf.length) {
        open(buf);
        continue;
      }
      yield close(buf.subarray(0, f));
      const afterFirst = f + (buf[f] === 0x0d && buf[f + 1] === 0x0a ? 2 : 1);
      let tail = buf.length; // bytes after the last line break
      while (!isBreak(buf[tail - 1])) tail--;
      const last = buf[tail - 1] === 0x0a && buf[tail - 2] === 0x0d ? tail - 2 : tail - 1;
      cr = buf[tail - 1] === 0x0d;
      if (last > f) yield* complete(buf.subarray(afterFirst, last));
      if (tail < buf.length) open(buf.subarray(tail));
    }
    if (openBytes > 0 || rest) yield close(Buffer.alloc(0));
  } catch (e) {
    if (e instanceof InputError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    throw new InputError(`cannot read (${code ?? messageOf(e)})`, name);
  }
}

/** A JSONL line cut by `hold` (one JSON string, checked to the end by the reader): the value of its start. */
function cutJsonValue(text: string): { value: string; cut: boolean } {
  const scan = new JsonStringScanner();
  scan.feedText(text);
  // closed already: a whole string, then a long run of whitespace
  return scan.closed
    ? { value: JSON.parse(text) as string, cut: false }
    : { value: stringPrefixValue(text), cut: true };
}

/**
 * Sentences in order, each with its line number; JSONL lines that are not JSON strings are an InputError naming
 * the line. `hold` keeps only the start of longer lines (a JSONL line then only when it is one JSON string).
 */
export async function* readSentences(
  file: string | undefined,
  format: InputFormat,
  hold?: number,
): AsyncGenerator<Line> {
  if (format !== 'lines' && format !== 'jsonl')
    throw new UsageError(`unknown input format "${format}" (lines or jsonl)`);
  const name = file ?? STDIN;
  for await (const line of readLines(file, hold, format === 'jsonl')) {
    if (format === 'lines') {
      yield line;
      continue;
    }
    const { text, n } = line;
    if (line.cut) {
      let { value, cut } = cutJsonValue(text);
      // The cut may fall between the two halves of an escaped pair: its first half goes with the rest.
      if (cut && /[\ud800-\udbff]$/.test(value)) value = value.slice(0, -1);
      const bad = surrogateError(name, n, value);
      if (bad) throw bad;
      yield { text: value, n, cut };
      continue;
    }
    if (text.trim() === '') continue;
    // A line of millions of nested arrays would cost JSON.parse seconds and gigabytes: measured first.
    if (text.length > MAX_JSON_DEPTH && scanJson(text).tooDeep)
      throw lineError(name, n, `not a JSON string (nested deeper than ${MAX_JSON_DEPTH} levels)`);
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      throw lineError(name, n, 'not valid JSON');
    }
    if (typeof value !== 'string')
      throw lineError(
        name,
        n,
        `expected a JSON string, got ${Array.isArray(value) ? 'an array' : value === null ? 'null' : typeof value}`,
      );
    const bad = surrogateError(name, n, value);
    if (bad) throw bad;
    yield { text: value, n, cut: false };
  }
}

/** Groups an async stream into arrays of at most `size`. */
export async function* chunks<T>(source: AsyncIterable<T>, size: number): AsyncGenerator<T[]> {
  let buf: T[] = [];
  for await (const x of source) {
    buf.push(x);
    if (buf.length >= size) {
      yield buf;
      buf = [];
    }
  }
  if (buf.length > 0) yield buf;
}

/** One input text, or a sentence pair (`b` null for a single text). */
export type TextItem = { a: string; b: string | null };

/** A JSONL line: a JSON string, or with `pairs` also {"a": ..., "b": ...}; a string result is what is wrong. */
export function parseTextLine(line: string, pairs: boolean): TextItem | string {
  if (line.trim() === '') return 'empty line, expected a JSON string';
  // A line of millions of nested arrays would cost JSON.parse seconds and gigabytes: measured first.
  if (line.length > MAX_JSON_DEPTH && scanJson(line).tooDeep)
    return `invalid JSON (nested deeper than ${MAX_JSON_DEPTH} levels)`;
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch (err) {
    return `invalid JSON (${messageOf(err)})`;
  }
  const lone = (x: string, field: string) =>
    loneSurrogateAt(x) < 0
      ? undefined
      : `${field} holds a lone surrogate \\u${x.charCodeAt(loneSurrogateAt(x)).toString(16)} at character ${loneSurrogateAt(x) + 1}, which is not a Unicode character`;
  if (typeof v === 'string') return lone(v, 'the JSON string') ?? { a: v, b: null };
  if (!pairs)
    return `expected a JSON string, got ${Array.isArray(v) ? 'an array' : v === null ? 'null' : typeof v}${typeof v === 'object' && v ? ' (use --pairs for {"a": ..., "b": ...})' : ''}`;
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    return 'expected a JSON string or an object {"a": ..., "b": ...}';
  const { a, b } = v as Record<string, unknown>;
  if (typeof a !== 'string') return '"a" must be a string';
  if (b !== undefined && b !== null && typeof b !== 'string') return '"b" must be a string or null';
  const bad = lone(a, '"a"') ?? (typeof b === 'string' ? lone(b, '"b"') : undefined);
  if (bad) return bad;
  return { a, b: typeof b === 'string' ? b : null };
}

/**
 * Text items from a file or stdin: plain lines (each a text), or JSONL strings (with `pairs`, also
 * {"a", "b"} objects). Blank JSONL lines are skipped; any other bad line stops the read with its number.
 * `hold`: as in readSentences (plain lines only).
 */
export async function* readTextItems(
  file: string | undefined,
  format: InputFormat,
  pairs: boolean,
  hold?: number,
): AsyncGenerator<TextItem & Omit<Line, 'text'>> {
  if (pairs && format !== 'jsonl')
    throw new UsageError('--pairs reads JSONL {"a": ..., "b": ...} lines: use --input-format jsonl');
  const name = file ?? STDIN;
  // a pair's object must be read whole
  for await (const { text, n, cut } of readLines(file, pairs ? undefined : hold, format === 'jsonl')) {
    if (format === 'lines') {
      yield { a: text, b: null, n, cut };
      continue;
    }
    if (cut) {
      const { value, cut: partial } = cutJsonValue(text);
      yield { a: value, b: null, n, cut: partial };
      continue;
    }
    if (text.trim() === '') continue;
    const item = parseTextLine(text, pairs);
    if (typeof item === 'string') throw lineError(name, n, item);
    yield { ...item, n, cut: false };
  }
}
