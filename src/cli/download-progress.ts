// What the CLI shows while a model downloads on first use: a notice, a progress bar (on a TTY) and a summary on
// stderr. The library only reports through DownloadEvents; this is the one place that renders them.
import type { DownloadEvents } from '../hub/ensure.js';
import { createProgressBar, formatBytes, type ProgressBar } from './progress.js';

/** DownloadEvents that draw on stderr (nothing when SBERT_QUIET=1). */
export function downloadProgress(): DownloadEvents {
  if (process.env.SBERT_QUIET === '1') return {};
  let bar: ProgressBar | undefined;
  let started = false;
  return {
    onStart: ({ id, dir, endpoint }) => {
      process.stderr.write(`sbert: ${id} is not in ${dir}; downloading it from ${endpoint}\n`);
      bar = createProgressBar({ unit: 'bytes', label: id });
    },
    onProgress: (p) => {
      if (!started) bar?.start(p.totalBytes, p.bytes);
      started = true;
      bar?.update(p.bytes);
    },
    onDone: (res) => {
      bar?.stop();
      process.stderr.write(`sbert: ${formatBytes(res.downloadedBytes)} downloaded into ${res.dir}\n`);
    },
  };
}
