// `ensureModel`: turn `--model` (a folder or a hub id) into a folder on disk, downloading the model when
// it is nowhere local, as sentence-transformers does. It reports through callbacks and prints nothing: the CLI
// draws the notice and the progress bar (src/cli/download-progress.ts).
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { resolveModelDir } from '../loader/resolve.js';
import { hasCompleteWeights } from '../loader/weight-files.js';
import { parseEndpoint } from './client.js';
import { type DownloadOptions, type DownloadResult, downloadModel, isHubId } from './download.js';
import { HubError, HubUnreachableError } from './errors.js';
import { defaultModelDir } from './paths.js';

/** What a download on first use reports (each optional); `onProgress` as in DownloadOptions. */
export interface DownloadEvents {
  /** The model is not local: a download of `id` into `dir` from `endpoint` starts. */
  onStart?: (e: { id: string; dir: string; endpoint: string }) => void;
  onProgress?: DownloadOptions['onProgress'];
  onDone?: (res: DownloadResult) => void;
}

export interface EnsureOptions extends Omit<DownloadOptions, 'dir' | 'onProgress'>, DownloadEvents {
  /** @deprecated ensureModel prints nothing anyway; kept so existing callers compile. */
  quiet?: boolean;
}

const isDir = (p: string): boolean => existsSync(p) && statSync(p).isDirectory();

/** A folder with a config, weights (every shard of a sharded checkpoint) and a vocabulary: a finished download. */
export function isCompleteModelDir(dir: string): boolean {
  const has = (f: string): boolean => existsSync(join(dir, f));
  return has('config.json') && hasCompleteWeights(dir) && (has('vocab.txt') || has('tokenizer.json'));
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
  if (isDir(idOrDir) || existsSync(idOrDir)) return resolveModelDir(idOrDir); // a file: resolveModelDir says so
  if (!isHubId(idOrDir))
    throw new HubError(`${idOrDir}: no such model folder (and not a hub id such as uer/sbert-base-chinese-nli)`);
  const local = defaultModelDir(idOrDir);
  // weights/<id>/ or a huggingface_hub cache snapshot, when a finished download is there.
  const found = tryResolve(idOrDir);
  if (found && isCompleteModelDir(found)) return found;

  const endpoint = opts.endpoint ?? (process.env.HF_ENDPOINT || 'https://huggingface.co');
  // A bad endpoint is said before anything starts (HF_ENDPOINT=notaurl: a usage error, not "cannot reach").
  parseEndpoint(endpoint, opts.endpoint === undefined && process.env.HF_ENDPOINT ? 'HF_ENDPOINT' : 'option');
  const { onStart, onDone, quiet: _quiet, ...download } = opts;
  onStart?.({ id: idOrDir, dir: local, endpoint });
  try {
    // The endpoint is left to downloadModel, which knows then whether it came from HF_ENDPOINT (for its advice).
    const res = await downloadModel(idOrDir, { ...download, dir: local, purpose: 'model' });
    onDone?.(res);
    return res.dir;
  } catch (err) {
    if (err instanceof HubUnreachableError) throw err;
    if (err instanceof HubError && / not found at /.test(err.message)) {
      throw new HubError(`${idOrDir}: no such model folder, and ${err.message}`);
    }
    throw err;
  }
}
