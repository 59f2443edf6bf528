// `ensureModel`: turn `--model` (a folder or a hub id) into a folder on disk, downloading the model when
// it is nowhere local, as sentence-transformers does.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { createProgressBar, formatBytes } from '../cli/progress.js';
import { downloadModel, isHubId, type DownloadOptions } from './download.js';
import { HubError, HubUnreachableError } from './errors.js';
import { defaultModelDir } from './paths.js';

export interface EnsureOptions extends Omit<DownloadOptions, 'dir'> {
  /** Draw a progress bar on stderr (when it is a TTY); default true. */
  progress?: boolean;
  /** Print nothing on stderr (no notice, no bar). */
  quiet?: boolean;
}

const isDir = (p: string): boolean => existsSync(p) && statSync(p).isDirectory();

/** A folder with a config, weights and a vocabulary, i.e. one a previous download finished. */
export function isCompleteModelDir(dir: string): boolean {
  const has = (f: string): boolean => existsSync(join(dir, f));
  return (
    has('config.json') &&
    (has('model.safetensors') || has('pytorch_model.bin') || has('model.bin')) &&
    (has('vocab.txt') || has('tokenizer.json'))
  );
}

/** The snapshot of `id` in the huggingface_hub cache (~/.cache/huggingface/hub), when it is complete. */
export function hfCacheDir(id: string, revision = 'main'): string | undefined {
  const hubCache =
    process.env.HF_HUB_CACHE ??
    join(process.env.HF_HOME ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'huggingface'), 'hub');
  const repo = join(hubCache, `models--${id.split('/').join('--')}`);
  let commit = revision;
  const ref = join(repo, 'refs', revision);
  if (existsSync(ref)) commit = readFileSync(ref, 'utf8').trim();
  const snap = join(repo, 'snapshots', commit);
  return isDir(snap) && isCompleteModelDir(snap) ? snap : undefined;
}

/** A folder for `idOrDir`: the folder itself, weights/<id>/, the HF cache, or a fresh download into weights/<id>/. */
export async function ensureModel(idOrDir: string, opts: EnsureOptions = {}): Promise<string> {
  if (isDir(idOrDir)) return idOrDir;
  if (!isHubId(idOrDir)) throw new HubError(`${idOrDir}: no such model folder (and not a hub id such as uer/sbert-base-chinese-nli)`);
  const local = defaultModelDir(idOrDir);
  if (isCompleteModelDir(local)) return local;
  const cached = hfCacheDir(idOrDir, opts.revision);
  if (cached) return cached;

  const endpoint = opts.endpoint ?? process.env.HF_ENDPOINT ?? 'https://huggingface.co';
  if (!opts.quiet) process.stderr.write(`sbert: ${idOrDir} is not in ${local}; downloading it from ${endpoint}\n`);
  const bar = createProgressBar({ unit: 'bytes', label: idOrDir, enabled: opts.quiet || opts.progress === false ? false : undefined });
  let started = false;
  try {
    const res = await downloadModel(idOrDir, {
      ...opts,
      endpoint,
      dir: local,
      onProgress: (p) => {
        if (!started) {
          bar.start(p.totalBytes, p.bytes);
          started = true;
        }
        bar.update(p.bytes);
        opts.onProgress?.(p);
      },
    });
    bar.stop();
    if (!opts.quiet) process.stderr.write(`sbert: ${formatBytes(res.downloadedBytes)} downloaded into ${res.dir}\n`);
    return res.dir;
  } catch (err) {
    bar.stop();
    if (err instanceof HubUnreachableError) throw err;
    if (err instanceof HubError && / not found at /.test(err.message)) {
      throw new HubError(`${idOrDir}: no such model folder, and ${err.message}`);
    }
    throw err;
  }
}
