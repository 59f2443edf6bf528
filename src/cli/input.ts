// Text input for every command that reads sentences (a file, or stdin): checked before any work starts, then
// read incrementally as lines of strict UTF-8. A compressed or binary file is refused by its first bytes; a
// byte sequence that is not UTF-8 is an error naming the input and the line (never silently U+FFFD); lines
// break at \n, \r\n or a lone \r, as Node's readline does.
import { closeSync, createReadStream, openSync, readSync, statSync } from 'node:fs';
import { isUtf8 } from 'node:buffer';
import { InputError, messageOf, UsageError } from '../errors.js';

export type InputFormat = 'lines' | 'jsonl';

/** What a command prints for stdin in its messages. */
export const STDIN = '<stdin>';

/** Bytes looked at to tell text from a compressed or binary file. */
const SNIFF = 64 * 1024;
/** A longer line would not fit a JavaScript string (V8 caps them near 512 M units); refused with its number. */
export const MAX_LINE_BYTES = 256 * 1024 * 1024;

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
      const hint = what.endsWith('compressed') ? `; decompress it first (e.g. ${what.split('-')[0] === 'gzip' ? 'gunzip -c' : 'unxz / bunzip2 / zstd -dc'} FILE | sbert ...)` : '';
      return `is ${what.startsWith('a ') || what.startsWith('UTF') ? '' : 'a '}${what} file, not UTF-8 text${hint}`;
    }
  }
  const nul = head.indexOf(0);
  if (nul >= 0) return `is a binary file, not UTF-8 text (a NUL byte at byte ${nul})`;
  return undefined;
}

/**
 * Checks an input file before any work: it exists, is not a folder, can be read, and its first bytes look like
 * text. (A FIFO or device is read as it comes, and checked as it arrives.)
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
  if (!st.isFile()) return;
  let fd: number | undefined;
  const head = Buffer.alloc(Math.min(SNIFF, st.size));
  try {
    fd = openSync(file, 'r');
    readSync(fd, head, 0, head.length, 0);
  } catch (e) {
    throw new InputError(`cannot read (${(e as NodeJS.ErrnoException).code ?? messageOf(e)})`, file);
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
  const why = notText(head);
  if (why) throw new InputError(why, file);
}

function lineError(name: string, n: number, what: string): InputError {
  return new InputError(`line ${n}: ${what}`, name);
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
 * an empty input has no lines.
 */
export async function* readLines(file: string | undefined): AsyncGenerator<{ text: string; n: number }> {
  if (file) checkInputFile(file);
  const stream = file ? createReadStream(file) : process.stdin;
  try {
    yield* linesOf(stream, file ?? STDIN);
  } finally {
    if (file) stream.destroy();
  }
}

/** The lines of a stream of bytes (`name` is what messages call it). */
export async function* linesOf(stream: AsyncIterable<Buffer>, name: string): AsyncGenerator<{ text: string; n: number }> {
  let n = 0;
  let pending: Buffer[] = []; // bytes of a line not ended yet
  let pendingBytes = 0;
  let first = true;
  let cr = false; // the previous chunk ended with \r: a \n first in this one belongs to it
  const emit = function* (bytes: Buffer): Generator<{ text: string; n: number }> {
    // Fast path: the whole run of complete lines is UTF-8; else line by line up to the one that is not.
    if (isUtf8(bytes)) {
      for (const text of bytes.toString('utf8').split(/\r\n|\r|\n/)) yield { text, n: ++n };
      return;
    }
    let start = 0;
    for (let i = 0; i <= bytes.length; i++) {
      if (i < bytes.length && bytes[i] !== 0x0a && bytes[i] !== 0x0d) continue;
      const line = bytes.subarray(start, i);
      if (!isUtf8(line)) throw lineError(name, n + 1, badByte(line));
      yield { text: line.toString('utf8'), n: ++n };
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
      // complete lines: up to the last line break in this chunk
      let end = buf.length;
      while (end > 0 && buf[end - 1] !== 0x0a && buf[end - 1] !== 0x0d) end--;
      if (end === 0) {
        pending.push(buf);
        pendingBytes += buf.length;
        if (pendingBytes > MAX_LINE_BYTES) throw lineError(name, n + 1, `longer than ${MAX_LINE_BYTES / 2 ** 20} MiB`);
        continue;
      }
      cr = buf[end - 1] === 0x0d;
      const cut = end >= 2 && buf[end - 1] === 0x0a && buf[end - 2] === 0x0d ? end - 2 : end - 1; // the last line break
      const head = pending.length ? Buffer.concat([...pending, buf.subarray(0, cut)]) : buf.subarray(0, cut);
      pending = [];
      pendingBytes = 0;
      yield* emit(head);
      if (end < buf.length) {
        pending.push(buf.subarray(end));
        pendingBytes = buf.length - end;
      }
    }
    if (pendingBytes > 0) yield* emit(Buffer.concat(pending));
  } catch (e) {
    if (e instanceof InputError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    throw new InputError(`cannot read (${code ?? messageOf(e)})`, name);
  }
}

/** Yields sentences in order; JSONL lines that are not JSON strings are an InputError naming the line. */
export async function* readSentences(file: string | undefined, format: InputFormat): AsyncGenerator<string> {
  if (format !== 'lines' && format !== 'jsonl') throw new UsageError(`unknown input format "${format}" (lines or jsonl)`);
  const name = file ?? STDIN;
  for await (const { text, n } of readLines(file)) {
    if (format === 'lines') {
      yield text;
      continue;
    }
    if (text.trim() === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      throw lineError(name, n, 'not valid JSON');
    }
    if (typeof value !== 'string') throw lineError(name, n, `expected a JSON string, got ${Array.isArray(value) ? 'an array' : value === null ? 'null' : typeof value}`);
    yield value;
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
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch (err) {
    return `invalid JSON (${messageOf(err)})`;
  }
  if (typeof v === 'string') return { a: v, b: null };
  if (!pairs) return `expected a JSON string, got ${Array.isArray(v) ? 'an array' : v === null ? 'null' : typeof v}${typeof v === 'object' && v ? ' (use --pairs for {"a": ..., "b": ...})' : ''}`;
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return 'expected a JSON string or an object {"a": ..., "b": ...}';
  const { a, b } = v as Record<string, unknown>;
  if (typeof a !== 'string') return '"a" must be a string';
  if (b !== undefined && b !== null && typeof b !== 'string') return '"b" must be a string or null';
  return { a, b: typeof b === 'string' ? b : null };
}

/**
 * Text items from a file or stdin: plain lines (each a text), or JSONL strings (with `pairs`, also
 * {"a", "b"} objects). Blank JSONL lines are skipped; any other bad line stops the read with its number.
 */
export async function* readTextItems(file: string | undefined, format: InputFormat, pairs: boolean): AsyncGenerator<TextItem> {
  if (pairs && format !== 'jsonl') throw new UsageError('--pairs reads JSONL {"a": ..., "b": ...} lines: use --input-format jsonl');
  const name = file ?? STDIN;
  for await (const { text, n } of readLines(file)) {
    if (format === 'lines') {
      yield { a: text, b: null };
      continue;
    }
    if (text.trim() === '') continue;
    const item = parseTextLine(text, pairs);
    if (typeof item === 'string') throw lineError(name, n, item);
    yield item;
  }
}
