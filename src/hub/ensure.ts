// `ensureModel`: turn `--model` (a folder or a hub id) into a folder on disk, downloading the model when
// it is nowhere local, as sentence-transformers does.
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { createProgressBar, formatBytes } from '../cli/progress.js';
import { resolveModelDir } from '../loader/resolve.js';
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

function tryResolve(id: string): string | undefined {
  try {
    return resolveModelDir(id);
  } catch {
    return undefined;
  }
}

/** A folder for `idOrDir`: the folder itself, weights/<id>/, the HF cache, or a fresh download into weights/<id>/. */
export async function ensureModel(idOrDir: string, opts: EnsureOptions = {}): Promise<string> {
  if (isDir(idOrDir)) return resolveModelDir(idOrDir);
  if (!isHubId(idOrDir)) throw new HubError(`${idOrDir}: no such model folder (and not a hub id such as uer/sbert-base-chinese-nli)`);
  const local = defaultModelDir(idOrDir);
  // weights/<id>/ or a huggingface_hub cache snapshot, when a finished download is there.
  const found = tryResolve(idOrDir);
  if (found && isCompleteModelDir(found)) return found;

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
