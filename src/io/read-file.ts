// Reading the files we are given (model files, configs, tokenizer files, inputs, references) without trusting
// them: only regular files (symbolic links resolved), checked by `stat` before the open and by `fstat` on the
// open descriptor (so a swap in between is caught), opened non-blocking (a FIFO never hangs the open), and
// read with a size cap that holds even for files whose size the kernel does not know (`/proc`).
import {
  closeSync,
  constants,
  createReadStream,
  fstatSync,
  openSync,
  type ReadStream,
  readSync,
  type Stats,
  statSync,
} from 'node:fs';
import { InputError } from '../errors.js';

/** Size caps per kind of file, in bytes. Listed in the README's "Reliability" section. */
export const FILE_LIMITS = {
  /** JSON settings: config.json, modules.json, sentence_bert_config.json, 1_Pooling/config.json, *.index.json, ... */
  config: 16 * 2 ** 20,
  /** tokenizer.json, vocab.txt, sentencepiece models. */
  tokenizer: 64 * 2 ** 20,
  /** A font for attention pictures. */
  font: 64 * 2 ** 20,
  /** A file read whole into memory (reference activations): the largest buffer Node can make. */
  whole: 2 ** 32 - 1,
  /** One-line pointers such as an HF cache's `refs/main`. */
  pointer: 4096,
} as const;

export type FileKind = keyof typeof FILE_LIMITS;

export interface ReadOptions {
  /** Refuse files larger than this many bytes. */
  maxBytes: number;
  /** What the file is, for the size message ("config file", "tokenizer file"). */
  what?: string;
}

function kindOf(st: Stats): string | undefined {
  if (st.isFile()) return undefined;
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a FIFO (named pipe)';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isSocket()) return 'a socket';
  return 'not a regular file';
}

function notRegular(path: string, st: Stats): InputError {
  return new InputError(`is ${kindOf(st)}, expected a regular file`, path);
}

function readError(path: string, e: unknown): InputError {
  if (e instanceof InputError) return e;
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return new InputError('no such file', path);
  if (code === 'ELOOP') return new InputError('symbolic link loop', path);
  if (code === 'EISDIR') return new InputError('is a directory, expected a regular file', path);
  return new InputError(`cannot read (${code ?? (e instanceof Error ? e.message : String(e))})`, path);
}

/** `12.3 MiB` */
export function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} bytes`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = bytes / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${Number(v.toFixed(1))} ${units[u]}`;
}

function tooLarge(path: string, size: number | undefined, o: ReadOptions): InputError {
  const limit = `the ${formatSize(o.maxBytes)} allowed${o.what ? ` for a ${o.what}` : ''}`;
  return new InputError(
    size === undefined ? `is larger than ${limit}` : `is ${formatSize(size)}, more than ${limit}`,
    path,
  );
}

/** An open descriptor of a regular file and its size; the caller closes `fd`. */
export interface OpenFile {
  fd: number;
  size: number;
}

/** Opens `path` for reading if it is a regular file (after links), else an InputError naming it and what it is. */
export function openRegularFile(path: string): OpenFile {
  let fd: number | undefined;
  try {
    const before = statSync(path);
    if (!before.isFile()) throw notRegular(path, before);
    // O_NONBLOCK: should the path become a FIFO after the stat, the open still returns at once.
    fd = openSync(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
    const st = fstatSync(fd);
    if (!st.isFile()) throw notRegular(path, st);
    return { fd, size: st.size };
  } catch (e) {
    if (fd !== undefined) closeSync(fd);
    throw readError(path, e);
  }
}

/** Reads up to `max` bytes from `fd` (stops at end of file); returns how many. */
function readUpTo(fd: number, out: Uint8Array, max: number): number {
  let done = 0;
  while (done < max) {
    const n = readSync(fd, out, done, Math.min(max - done, 1 << 30), null);
    if (n === 0) break;
    done += n;
  }
  return done;
}

/**
 * The bytes of a regular file of at most `maxBytes`. A file that grows while it is read, or whose size the
 * kernel reports as 0 (`/proc`), is still cut off one byte past the cap and refused.
 */
export function readRegularFile(path: string, o: ReadOptions): Uint8Array {
  const { fd, size } = openRegularFile(path);
  try {
    if (size > o.maxBytes) throw tooLarge(path, size, o);
    // Room for one byte more than announced, to notice a file longer than its stat said.
    let buf = new Uint8Array(Math.min(o.maxBytes, size) + 1);
    let len = readUpTo(fd, buf, buf.length);
    while (len === buf.length) {
      if (len > o.maxBytes) throw tooLarge(path, undefined, o);
      const bigger = new Uint8Array(Math.min(o.maxBytes + 1, Math.max(buf.length * 2, 64 * 1024)));
      bigger.set(buf);
      buf = bigger;
      len += readUpTo(fd, buf.subarray(len), buf.length - len);
    }
    if (len > o.maxBytes) throw tooLarge(path, undefined, o);
    return len === buf.length ? buf : buf.subarray(0, len);
  } catch (e) {
    throw readError(path, e);
  } finally {
    closeSync(fd);
  }
}

/** A regular file's text: UTF-8 (a leading BOM dropped); invalid UTF-8 is an InputError naming the file. */
export function readTextFile(path: string, o: ReadOptions): string {
  const bytes = readRegularFile(path, o);
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new InputError('is not valid UTF-8 text', path);
  }
}

/** readRegularFile with the cap of a kind of file from FILE_LIMITS. */
export function readFileOfKind(path: string, kind: FileKind, what?: string): Uint8Array {
  return readRegularFile(path, { maxBytes: FILE_LIMITS[kind], what: what ?? `${kind} file` });
}

/** readTextFile with the cap of a kind of file from FILE_LIMITS. */
export function readTextOfKind(path: string, kind: FileKind, what?: string): string {
  return readTextFile(path, { maxBytes: FILE_LIMITS[kind], what: what ?? `${kind} file` });
}

/**
 * A text input read as a stream (`--input`, `--corpus`, `--data`; bytes unless `encoding`): a regular file, or a
 * FIFO, which is how a shell hands over a pipe (`--input <(zcat big.gz)`) and is then the user's own stream, like
 * stdin. Devices (`/dev/zero` never ends), sockets and directories are refused before anything is read.
 */
export function openInputStream(path: string, encoding?: BufferEncoding): ReadStream {
  let st: Stats;
  try {
    st = statSync(path);
  } catch (e) {
    throw readError(path, e);
  }
  if (st.isFIFO()) return createReadStream(path, { encoding });
  const { fd } = openRegularFile(path);
  return createReadStream('', { fd, encoding, autoClose: true });
}
