// Output files for every command that writes one (encode --output, dump --out, attention --out, synth --out):
// the path is checked before any work starts, and the file is written under a temporary name beside it and
// renamed into place only when complete, so a failed run never leaves a partial or empty file (nor touches an
// existing one). A path that is a link to a file is written through (the link stays); a path that is not a
// regular file (`/dev/null`, `/dev/stdout`, a FIFO) is written to directly: a rename would put a file in
// place of the device or pipe, for everyone. Errors are one InputError naming the path: exit 2.
import {
  accessSync,
  constants,
  createWriteStream,
  existsSync,
  realpathSync,
  renameSync,
  rmSync,
  statSync,
} from 'node:fs';
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

/** Where `file` is written: the file a link leads to, and whether it is a device or pipe written in place. */
function outputTarget(file: string): { path: string; special: boolean } {
  const abs = resolve(file);
  let st: ReturnType<typeof statSync>;
  try {
    st = statSync(abs);
  } catch {
    return { path: abs, special: false }; // a new file (or a dangling link, replaced)
  }
  if (st.isDirectory()) throw new InputError('is a folder, expected a file name', file);
  if (!st.isFile()) return { path: abs, special: true };
  return { path: realpathSync(abs), special: false };
}

/** Checks, before any work, that `file` can be created (or replaced): its folder exists and is writable. */
export function checkOutputFile(file: string): void {
  const t = outputTarget(file);
  if (t.special) {
    try {
      accessSync(t.path, constants.W_OK);
    } catch (e) {
      throw new InputError(`cannot write (${(e as NodeJS.ErrnoException).code})`, file);
    }
    return;
  }
  checkFolder(dirname(t.path), file);
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
  const { path, special } = outputTarget(file);
  if (special) {
    try {
      write(path);
    } catch (e) {
      throw writeError(e, file, path);
    }
    return;
  }
  const tmp = tempName(path);
  try {
    write(tmp);
    renameSync(tmp, path);
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
  const { path, special } = outputTarget(file);
  // A device or pipe (`/dev/stdout`, a FIFO) is written as it comes: there is nothing to rename.
  if (special) return streamOutput(file, path, 'w', () => {});
  const tmp = tempName(path);
  return streamOutput(file, tmp, 'wx', (ok) => (ok ? renameSync(tmp, path) : rmSync(tmp, { force: true })));
}

/** A stream into `path`, for `file`; `end(true)` runs after a complete write, `end(false)` after a failed one. */
async function streamOutput(
  file: string,
  path: string,
  flags: string,
  end: (complete: boolean) => void,
): Promise<AtomicOutput> {
  const stream = createWriteStream(path, { flags });
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
        end(true);
      } catch (e) {
        end(false);
        throw writeError(e, file);
      }
    },
    async abort() {
      stream.destroy();
      await finished(stream).catch(() => {});
      end(false);
    },
  };
}
