// Sentences from a file or stdin, one per line or one JSON string per line, read incrementally.
import { createReadStream, statSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { InputError, messageOf, UsageError } from '../errors.js';

export type InputFormat = 'lines' | 'jsonl';

/** Yields sentences in order; JSONL lines that are not JSON strings are an InputError naming the line. */
export async function* readSentences(file: string | undefined, format: InputFormat): AsyncGenerator<string> {
  if (format !== 'lines' && format !== 'jsonl') throw new UsageError(`unknown input format "${format}" (lines or jsonl)`);
  const name = file ?? '<stdin>';
  let stream: NodeJS.ReadableStream;
  if (file) {
    let isDir = false;
    try {
      isDir = statSync(file).isDirectory();
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new InputError(code === 'ENOENT' ? 'no such file' : `cannot read (${code})`, file);
    }
    if (isDir) throw new InputError('is a directory, expected a text file', file);
    stream = createReadStream(file, 'utf8');
  } else {
    stream = process.stdin;
    process.stdin.setEncoding('utf8');
  }
  const rl = createInterface({ input: stream, crlfDelay: Infinity });
  let n = 0;
  try {
    for await (const line of rl) {
      n++;
      if (format === 'lines') {
        yield line;
        continue;
      }
      if (line.trim() === '') continue;
      let value: unknown;
      try {
        value = JSON.parse(line);
      } catch {
        throw new InputError(`line ${n}: not valid JSON`, name);
      }
      if (typeof value !== 'string') throw new InputError(`line ${n}: expected a JSON string, got ${Array.isArray(value) ? 'an array' : typeof value}`, name);
      yield value;
    }
  } catch (e) {
    if (e instanceof InputError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    throw new InputError(`cannot read (${code ?? (e as Error).message})`, name);
  } finally {
    rl.close();
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
