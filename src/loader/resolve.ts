// `--model` → a model folder: a folder as given, an HF cache repo folder (`models--org--name`, → its snapshot), or a
// hub id looked up under weights/<id>/, weights/models--org--name/ and the huggingface_hub cache.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { InputError } from '../errors.js';
import { readTextOfKind } from '../io/read-file.js';
import { weightsRoot } from './paths.js';

export const isDir = (p: string) => existsSync(p) && statSync(p).isDirectory();

/**
 * A folder; an HF cache repo folder (`models--org--name`, → its `refs/main` snapshot); or a hub id, looked
 * up under `weights/<id>/` relative to `cwd`, then `weights/models--org--name/` and the HF hub cache.
 */
export function resolveModelDir(idOrDir: string, cwd = process.cwd()): string {
  const snapshot = (repo: string): string => {
    const snaps = join(repo, 'snapshots');
    const ref = join(repo, 'refs', 'main');
    if (existsSync(ref)) {
      const rev = readTextOfKind(ref, 'pointer').trim();
      if (isDir(join(snaps, rev))) return join(snaps, rev);
    }
    const revs = readdirSync(snaps).filter((r) => isDir(join(snaps, r)));
    if (!revs.length) throw new InputError('HF cache folder has no snapshots', repo);
    revs.sort((a, b) => statSync(join(snaps, b)).mtimeMs - statSync(join(snaps, a)).mtimeMs);
    return join(snaps, revs[0]!);
  };
  const asDir = (p: string) => (isDir(join(p, 'snapshots')) && !existsSync(join(p, 'config.json')) ? snapshot(p) : p);
  const given = resolve(cwd, idOrDir);
  if (isDir(given)) return asDir(given);
  if (existsSync(given))
    throw new InputError(
      `is a file; --model takes the folder that holds the model's files (${dirname(given)})`,
      idOrDir,
    );
  if (/^[\w.-]+(\/[\w.-]+)?$/.test(idOrDir) && !idOrDir.includes('..')) {
    const local = join(weightsRoot(cwd), idOrDir);
    if (isDir(local)) return asDir(local);
    const cacheName = `models--${idOrDir.replace('/', '--')}`;
    const hubCache =
      process.env.HF_HUB_CACHE ??
      join(process.env.HF_HOME ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'huggingface'), 'hub');
    for (const c of [join(weightsRoot(cwd), cacheName), resolve(cwd, hubCache, cacheName)])
      if (isDir(join(c, 'snapshots'))) return snapshot(c);
    throw new InputError(
      `no such folder, and hub id not found under weights/${idOrDir}/ (run \`sbert download ${idOrDir}\`)`,
      idOrDir,
    );
  }
  throw new InputError('no such folder', idOrDir);
}
