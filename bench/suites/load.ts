// Checkpoint load: the synthetic BERT-base (≈ 410 MB float32) from each container the loader reads,
// through `loadModelDir` (find files, parse config, read and validate the container, canonical names,
// float32 Weights). Files come from os.tmpdir() and are usually in the page cache: this times parsing
// and copying, not the disk.
import { loadModelDir } from '../../src/loader/index.js';
import { FORMATS, fileBytes } from '../checkpoints.js';
import type { BenchEnv } from '../env.js';
import type { Suite } from '../harness.js';

export function loadSuite(env: BenchEnv): Suite {
  return {
    name: 'load',
    title: 'Checkpoint load, synthetic BERT-base (loadModelDir → float32 Weights)',
    async run(ctx) {
      const m = env.model();
      ctx.note('files', m.files);
      ctx.note('writeSeconds', m.writeS);
      for (const format of FORMATS) {
        const bytes = fileBytes(m.files[format]);
        await ctx.runCase({
          name: `load ${format}`,
          params: { format, megabytes: Math.round(bytes / 1e6) },
          work: { bytes },
          fn: () => {
            const loaded = loadModelDir(m.dirs[format]);
            if (loaded.format !== format)
              throw new Error(`${m.dirs[format]}: loaded as ${loaded.format}, expected ${format}`);
          },
          budget:
            ctx.mode === 'quick' ? { warmup: 1, minSamples: 1, maxTime: 0 } : { warmup: 1, minSamples: 3, maxTime: 0 },
        });
      }
    },
  };
}
