// Where the time of one forward goes on wasm: the forward, then only its matmuls (the same ops on
// same-shaped tensors: fused QKV [BL,H]·[H,3H] + bias, Q·Kᵀ and P·V per head, attention output, FFN in
// and out, 12 layers), timed in the same run. Matmul share = matmul time / forward time; the rest is
// LayerNorm, softmax, GELU, transposes, reshapes, the mask and the embeddings. The matmul-only time is
// also the ceiling: no forward with these matmuls can run faster. A tf.profile of one forward gives the
// same split from kernel times (bench/forward.ts, the model's own script, reports it the same way).
import * as tf from '@tensorflow/tfjs-core';
import { setupBackend } from '../../src/backend/index.js';
import type { BertConfig } from '../../src/loader/config.js';
import { BertModel } from '../../src/model/bert.js';
import type { BenchEnv } from '../env.js';
import { bertForwardFlops, MATMUL_KERNELS } from '../flops.js';
import { budgetFor, type Suite } from '../harness.js';
import { gridBatch } from '../inputs.js';
import type { Mode } from '../schema.js';

// ≤ 1 024 tokens each: a batch of 32 STS-B-length sentences, and longer texts (the grid has the big shapes)
export const SPLIT_SHAPES: Record<Mode, [number, number][]> = {
  quick: [[2, 32]],
  full: [
    [32, 32],
    [8, 128],
    [1, 512],
  ],
};

/** Random stand-ins for one forward's matmul operands (values do not change matmul speed). */
export function matmulOperands(c: BertConfig, batch: number, seqLen: number) {
  const { hiddenSize: H, intermediateSize: I, numAttentionHeads: h } = c;
  const d = H / h;
  const r = (shape: number[]) => tf.randomUniform(shape, -0.1, 0.1, 'float32', 7);
  const t = {
    x: r([batch * seqLen, H]) as tf.Tensor2D,
    inter: r([batch * seqLen, I]) as tf.Tensor2D,
    q: r([batch, h, seqLen, d]) as tf.Tensor4D,
    probs: r([batch, h, seqLen, seqLen]) as tf.Tensor4D,
    wQkv: r([H, 3 * H]) as tf.Tensor2D,
    bQkv: r([3 * H]) as tf.Tensor1D,
    wO: r([H, H]) as tf.Tensor2D,
    bO: r([H]) as tf.Tensor1D,
    wI: r([H, I]) as tf.Tensor2D,
    bI: r([I]) as tf.Tensor1D,
    wOut: r([I, H]) as tf.Tensor2D,
  };
  return { ...t, dispose: () => tf.dispose(Object.values(t)) };
}

/** Every matmul of one forward, nothing else; `await data()` on the last keeps async backends honest. */
export async function matmulsOnly(c: BertConfig, o: ReturnType<typeof matmulOperands>): Promise<void> {
  for (let l = 0; l < c.numHiddenLayers; l++) {
    const outs = [
      tf.fused.matMul({ a: o.x, b: o.wQkv, bias: o.bQkv }),
      tf.matMul(o.q, o.q, false, true), // Q·Kᵀ, [B, h, L, L]
      tf.matMul(o.probs, o.q), // P·V, [B, h, L, d]
      tf.fused.matMul({ a: o.x, b: o.wO, bias: o.bO }),
      tf.fused.matMul({ a: o.x, b: o.wI, bias: o.bI }),
      tf.fused.matMul({ a: o.inter, b: o.wOut, bias: o.bO }),
    ];
    if (l === c.numHiddenLayers - 1) await outs[5]!.data();
    tf.dispose(outs);
  }
}

/**
 * Kernel time of one forward by kernel, from tf.profile (the second view of the split, as bench/forward.ts
 * reports it): the share of matmul kernels, and the kernels that take the most time.
 */
export async function kernelProfile(model: BertModel, ids: tf.Tensor2D, mask: tf.Tensor2D) {
  const info = await tf.profile(() => model.forward({ inputIds: ids, attentionMask: mask }).lastHiddenState);
  tf.dispose(info.result as tf.Tensor);
  const byKernel = new Map<string, number>();
  for (const k of info.kernels) {
    if (k.name.endsWith('__op')) continue; // op wrappers, not kernels
    byKernel.set(k.name, (byKernel.get(k.name) ?? 0) + Number(k.kernelTimeMs));
  }
  const total = [...byKernel.values()].reduce((a, b) => a + b, 0);
  const matmul = [...byKernel].filter(([k]) => MATMUL_KERNELS.has(k)).reduce((a, [, v]) => a + v, 0);
  const top = [...byKernel]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 8)
    .map(([k, v]) => ({ kernel: k, ms: Math.round(v * 10) / 10 }));
  return { kernelMs: total, matmulShare: matmul / total, top };
}

export function matmulSuite(env: BenchEnv): Suite {
  return {
    name: 'matmul',
    title: 'Where the time goes in one wasm forward: matmuls vs the rest',
    async run(ctx) {
      if (!env.backends.includes('wasm')) return { skip: 'wasm backend not requested' };
      const dead = env.deadBackends.get('wasm');
      if (dead) return { skip: `the wasm runtime failed earlier in this process (${dead})` };
      try {
        await setupBackend('wasm');
      } catch (e) {
        return { skip: `wasm backend not available: ${e instanceof Error ? e.message : String(e)}` };
      }
      const loaded = env.loaded();
      const c = loaded.config;
      const model = BertModel.load(c, loaded.weights);
      const split: Record<string, unknown>[] = [];
      try {
        for (const [b, l] of SPLIT_SHAPES[ctx.mode]) {
          const flops = bertForwardFlops(c, b, l);
          const budget = budgetFor(ctx.mode, flops / 15e9);
          const work = { sentences: b, tokens: b * l, flops };
          const params = { backend: 'wasm', batch: b, seqLen: l };
          let ids: tf.Tensor2D | undefined;
          let mask: tf.Tensor2D | undefined;
          const g = gridBatch(b, l, c.vocabSize);
          const fwd = await ctx.runCase({
            name: `forward b${b}×l${l}`,
            params: { ...params, part: 'forward' },
            work,
            setup: () => {
              ids = tf.tensor2d(g.inputIds, [b, l], 'int32');
              mask = tf.tensor2d(g.attentionMask, [b, l], 'int32');
            },
            fn: async () => {
              const out = model.forward({ inputIds: ids!, attentionMask: mask! });
              await out.lastHiddenState.data();
              out.lastHiddenState.dispose();
            },
            teardown: () => tf.dispose([ids!, mask!]),
            budget,
          });
          let ops: ReturnType<typeof matmulOperands> | undefined;
          const mm = await ctx.runCase({
            name: `matmuls only b${b}×l${l}`,
            params: { ...params, part: 'matmuls' },
            work,
            setup: () => void (ops = matmulOperands(c, b, l)),
            fn: () => matmulsOnly(c, ops!),
            teardown: () => ops?.dispose(),
            budget,
          });
          if (fwd.status === 'ok' && mm.status === 'ok') {
            ids = tf.tensor2d(g.inputIds, [b, l], 'int32');
            mask = tf.tensor2d(g.attentionMask, [b, l], 'int32');
            const prof = await kernelProfile(model, ids, mask);
            tf.dispose([ids, mask]);
            split.push({
              batch: b,
              seqLen: l,
              forwardS: fwd.meanS,
              matmulS: mm.meanS,
              // shares from CPU time per call (wasm is single-threaded: what a shared machine inflates least)
              forwardCpuS: fwd.cpuSPerCall,
              matmulCpuS: mm.cpuSPerCall,
              matmulShare: (mm.cpuSPerCall ?? mm.meanS) / (fwd.cpuSPerCall ?? fwd.meanS),
              restShare: 1 - (mm.cpuSPerCall ?? mm.meanS) / (fwd.cpuSPerCall ?? fwd.meanS),
              matmulShareWall: mm.meanS / fwd.meanS,
              matmulGflops: flops / mm.meanS / 1e9,
              forwardGflops: flops / fwd.meanS / 1e9,
              ceilingSentencesPerSec: b / mm.meanS,
              profiledMatmulShare: prof.matmulShare,
              profiledTopKernels: prof.top,
            });
          }
        }
      } finally {
        model.dispose();
      }
      ctx.note('split', split);
    },
  };
}
