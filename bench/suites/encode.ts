// End to end: SentenceEncoder.encode of the distinct STS-B test sentences (2 456; 16 in quick mode),
// batch 32, mean pooling, on wasm, with 1 worker (in process) and N worker threads (N = cores, at least 2).
// The encoder is imported at run time so this suite reports "skipped" rather than failing the build
// where it is absent. A small encode in setup starts the pool and warms the kernels before timing.
import { availableParallelism } from 'node:os';
import type { BenchEnv } from '../env.js';
import { batchesFlops } from '../flops.js';
import type { Suite } from '../harness.js';
import { sentenceBatches, stsSentences } from '../inputs.js';

/** The slice of SentenceEncoder this suite uses. */
interface Encoder {
  encode(sentences: readonly string[], opts?: { batchSize?: number }): Promise<Float32Array[]>;
  dispose(): Promise<void>;
}
interface EncoderClass {
  load(dir: string, opts: { backend?: string; workers?: number }): Promise<Encoder>;
}

export const ENCODER_MODULE = '../../src/encoder/sentence-encoder.js';

async function importEncoder(): Promise<EncoderClass | string> {
  const specifier: string = ENCODER_MODULE; // a variable: tsc must not require the module to exist
  try {
    const m = (await import(specifier)) as { SentenceEncoder?: EncoderClass };
    return m.SentenceEncoder ?? `${specifier} has no SentenceEncoder export`;
  } catch (e) {
    return `SentenceEncoder not available (${e instanceof Error ? e.message.split('\n')[0] : String(e)})`;
  }
}

export function encodeSuite(env: BenchEnv): Suite {
  return {
    name: 'encode',
    title: 'End-to-end SentenceEncoder.encode, STS-B test sentences',
    async run(ctx) {
      // wasm, the default, with worker threads; otherwise the first backend asked for (webgpu: one process)
      const backend = env.backends.includes('wasm') ? 'wasm' : env.backends[0];
      if (!backend) return { skip: 'no backend requested' };
      const SentenceEncoder = await importEncoder();
      if (typeof SentenceEncoder === 'string') return { skip: SentenceEncoder };
      // quick: 16 sentences in batches of 8, so 2 workers still get a batch each
      const sentences = stsSentences('test', true).slice(
        0,
        env.overrides.sentences ?? (ctx.mode === 'quick' ? 16 : undefined),
      );
      const batchSize = env.overrides.batchSize ?? (ctx.mode === 'quick' ? 8 : 32);
      const batches = sentenceBatches(env.tokenizer(), sentences, batchSize);
      const work = {
        sentences: sentences.length,
        tokens: batches.reduce((a, b) => a + b.tokens, 0),
        flops: batchesFlops(
          env.model().config,
          batches.map((b) => [b.batch, b.length]),
        ),
      };
      const dir = env.model().dirs.safetensors;
      const n = Math.max(2, availableParallelism());
      const params = { backend, input: 'sts-b-encode', sentences: sentences.length, batch: batchSize };
      for (const workers of backend === 'wasm' ? [1, n] : [1]) {
        let enc: Encoder | undefined;
        const r = await ctx.runCase({
          name: `encode ${sentences.length} sentences, ${workers} worker${workers > 1 ? 's' : ''}`,
          params: { ...params, workers },
          work,
          setup: async () => {
            enc = await SentenceEncoder.load(dir, { backend, workers });
            await enc.encode(sentences.slice(0, 8 * workers), { batchSize: 4 });
          },
          fn: () => enc!.encode(sentences, { batchSize }),
          teardown: () => enc?.dispose(),
          budget: { warmup: 0, minSamples: 1, maxTime: 0 },
        });
        // PyTorch runs the same padded batches (ids only: tokenization and pooling are not timed there).
        if (workers === 1 && r.status === 'ok') {
          const { backend: _, ...same } = params;
          env.anchorCases.push({
            name: `encode ${sentences.length} sentences`,
            params: same,
            batches,
            work,
            tfjsS: r.meanS,
          });
        }
      }
    },
  };
}
