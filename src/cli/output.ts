// Output files for every command that writes one (encode --output, dump --out, attention --out, synth --out):
// the path is checked before any work starts, and the file is written under a temporary name beside it and
// renamed into place only when complete, so a failed run never leaves a partial or empty file (nor touches an
// existing one). Errors are one InputError naming the path: exit 2.
import { accessSync, constants, createWriteStream, existsSync, renameSync, rmSync, statSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join, resolve } from 'node:path';
import type { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { InputError, messageOf } from '../errors.js';

function writeError(e: unknown, path: string, tmp?: string): InputError {
  // a writer's own error about the temporary file is about `path`
  if (e instanceof InputError && tmp && e.file === tmp) return new InputError(e.message.slice(tmp.length + 2), path);
  if (e instanceof InputError) return e;
  const code = (e as NodeJS.ErrnoException).code;
  return new InputError(`cannot write (${code ?? messageOf(e)})`, path);
}

/** The folder that must exist and take new files for `path` to be written. */
function checkFolder(folder: string, path: string): void {
  if (!existsSync(folder)) throw new InputError(`cannot write: no such folder ${folder}`, path);
  if (!statSync(folder).isDirectory()) throw new InputError(`cannot write: ${folder} is not a folder`, path);
  try {
    accessSync(folder, constants.W_OK);
  } catch (e) {
    throw new InputError(`cannot write into ${folder} (${(e as NodeJS.ErrnoException).code})`, path);
  }
}

/** Checks, before any work, that `file` can be created (or replaced): its folder exists and is writable. */
export function checkOutputFile(file: string): void {
  const abs = resolve(file);
  if (existsSync(abs) && statSync(abs).isDirectory()) throw new InputError('is a folder, expected a file name', file);
  checkFolder(dirname(abs), file);
}

/** Checks, before any work, that `dir` is a folder or can be made one (its nearest existing ancestor is writable). */
export function checkOutputFolder(dir: string): void {
  let p = resolve(dir);
  if (existsSync(p)) {
    if (!statSync(p).isDirectory()) throw new InputError('exists and is not a folder', dir);
    return checkFolder(p, dir);
  }
  while (!existsSync(p) && dirname(p) !== p) p = dirname(p);
  checkFolder(p, dir);
}

const tempName = (file: string): string =>
  join(dirname(resolve(file)), `.${basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.partial`);

/** Writes `file` whole or not at all: `write` gets a temporary path beside it, which is then renamed to `file`. */
export function writeFileAtomic(file: string, write: (tmp: string) => void): void {
  checkOutputFile(file);
  const tmp = tempName(file);
  try {
    write(tmp);
    renameSync(tmp, file);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw writeError(e, file, tmp);
  }
}

/** A stream into a temporary file that becomes `file` on `commit()`, and disappears on `abort()`. */
export interface AtomicOutput {
  stream: Writable;
  commit(): Promise<void>;
  abort(): Promise<void>;
}

export async function openOutputFile(file: string): Promise<AtomicOutput> {
  checkOutputFile(file);
  const tmp = tempName(file);
  const stream = createWriteStream(tmp, { flags: 'wx' });
  try {
    await new Promise<void>((ok, fail) => stream.once('open', () => ok()).once('error', fail));
  } catch (e) {
    throw writeError(e, file);
  }
  // A write error (ENOSPC, EIO) surfaces in commit() or the next awaited write; keep it from going unhandled.
  let failure: unknown;
  stream.on('error', (e) => (failure ??= e));
  return {
    stream,
    async commit() {
      try {
        stream.end();
        await finished(stream);
        if (failure) throw failure;
        renameSync(tmp, file);
      } catch (e) {
        rmSync(tmp, { force: true });
        throw writeError(e, file);
      }
    },
    async abort() {
      stream.destroy();
      await finished(stream).catch(() => {});
      rmSync(tmp, { force: true });
    },
  };
}
