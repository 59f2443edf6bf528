// `sbert download [ID] [--revision R] [--dir D]`: fetch a hub model into weights/ID/.
import type { Command } from 'commander';
import { UsageError } from '../errors.js';
import { DEFAULT_MODEL_ID } from '../hub/paths.js';
import { createProgressBar, formatBytes } from './progress.js';

export function register(program: Command): void {
  program
    .command('download')
    .description('fetch a hub model into weights/ID/ (honours HF_ENDPOINT and HF_TOKEN; resumable; verified)')
    .argument('[id]', 'hub model id', DEFAULT_MODEL_ID)
    .option('--revision <rev>', 'branch, tag or commit', 'main')
    .option('--dir <dir>', 'target folder (default: weights/ID)')
    .action(async (id: string, opts: { revision: string; dir?: string }) => {
      const { downloadModel, isHubId } = await import('../hub/download.js');
      if (!isHubId(id))
        throw new UsageError(`"${id}" is not a hub model id (expected ORG/NAME, e.g. ${DEFAULT_MODEL_ID})`);
      const bar = createProgressBar({ unit: 'bytes', label: id });
      let started = false;
      try {
        const res = await downloadModel(id, {
          revision: opts.revision,
          dir: opts.dir,
          onProgress: (p) => {
            if (!started) bar.start(p.totalBytes, p.bytes);
            started = true;
            bar.update(p.bytes);
          },
        });
        bar.stop();
        const commit = res.commit ? `, commit ${res.commit.slice(0, 10)}` : '';
        process.stdout.write(
          `${id} (revision ${opts.revision}${commit}): ${res.files.length} files, ${formatBytes(res.totalBytes)} in ${res.dir}` +
            ` (${formatBytes(res.downloadedBytes)} downloaded)\n`,
        );
      } finally {
        bar.stop();
      }
    });
}
