// Hook points (issue 6) on the tiny fixture: caches equal HF's tensors, patching and ablation change
// exactly what follows, identity hooks change nothing, and nothing leaks.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixture, ROOT } from '../fixtures.js';
import { UsageError } from '../../src/errors.js';
import type { BertInputs, BertModel, BertModelOutput } from '../../src/model/bert.js';
import { blasAttentionApplies } from '../../src/backend/blas/wasm-attention.js';
import { layerNormIsOneKernel, linearAddIsOneKernel, linearEpilogueIsOneKernel } from '../../src/backend/kernels.js';
import { fusedLayerNormApplies } from '../../src/backend/webgpu/layer-norm.js';
import { ablateHeads, headMask, runWithCache, runWithHooks } from '../../src/model/hooks.js';
import {
  disposeInputs,
  inputsFrom,
  loadHfDir,
  maxAbsDiff,
  readRefs,
  ref,
  useBackend,
  MAIN_BACKEND,
  maskLength,
} from './helpers.js';

const refs = readRefs(fixture('tiny', 'refs.safetensors'));
const mask = ref(refs, 'attention_mask');
const [B, L] = mask.shape as [number, number];
const lengths = Array.from({ length: B }, (_, b) => maskLength(mask, b));

const disposeOutput = (o: BertModelOutput): void => tf.dispose(o as unknown as tf.TensorContainer);
const data = async (t: tf.Tensor): Promise<Float32Array> => (await t.data()) as Float32Array;

/** Rows of the reference batch cut to `len` tokens (no padding). */
function sentences(idx: number[], len: number): BertInputs {
  const full = inputsFrom(refs);
  const pick = (t: tf.Tensor2D): tf.Tensor2D => tf.tidy(() => tf.slice(tf.gather(t, idx), [0, 0], [idx.length, len]));
  const out = {
    inputIds: pick(full.inputIds),
    attentionMask: pick(full.attentionMask),
    tokenTypeIds: pick(full.tokenTypeIds!),
  };
  disposeInputs(full);
  return out;
}

describe(`hook points (tiny, ${MAIN_BACKEND})`, () => {
  let model: BertModel;
  let inputs: BertInputs;
  let before = 0;

  beforeAll(async () => {
    await useBackend(MAIN_BACKEND);
    before = tf.memory().numTensors;
    model = loadHfDir(fixture('tiny', 'hf'));
    inputs = inputsFrom(refs);
  });
  afterAll(() => {
    disposeInputs(inputs);
    model.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('hookNames() is generated from the model, in data-flow order', () => {
    const names = model.hookNames();
    const ln = (p: string) => [`${p}.hook_scale`, `${p}.hook_normalized`, `${p}.hook_out`];
    const perBlock = [
      'hook_resid_pre',
      'attn.hook_q',
      'attn.hook_k',
      'attn.hook_v',
      'attn.hook_attn_scores',
      'attn.hook_pattern',
      'attn.hook_z',
      'hook_attn_out',
      'hook_resid_mid',
      'hook_mlp_in',
      ...ln('ln1'),
      'mlp.hook_pre',
      'mlp.hook_post',
      'hook_mlp_out',
      'hook_resid_post',
      ...ln('ln2'),
      'hook_normalized_resid_post',
    ];
    expect(names).toEqual([
      'embed.hook_embed',
      'embed.hook_pos_embed',
      'embed.hook_token_type_embed',
      ...ln('embed.ln'),
      'hook_full_embed',
      ...[0, 1].flatMap((i) => perBlock.map((p) => `blocks.${i}.${p}`)),
    ]);
  });

  it('docs/hooks.md lists exactly the hook points, in order, each with a shape', () => {
    const text = readFileSync(join(ROOT, 'docs', 'hooks.md'), 'utf8');
    const rows = [...text.matchAll(/^\| `([\w.{}]+)` \| (\[[^\]]+\]) \|/gm)].map((m) => m[1]!);
    const perBlock = (n: string) => n.replace(/^blocks\.\d+\./, 'blocks.{i}.');
    const names = [...new Set(model.hookNames().map(perBlock))];
    expect(rows).toEqual(names);
  });

  it('cached activations equal HF hidden_states, attentions, query and intermediate (≤ 1e-5)', async () => {
    const n0 = tf.memory().numTensors;
    const { output, cache } = runWithCache(model, inputs, { outputHiddenStates: true });
    expect(cache.keys().length).toBe(model.hookNames().length);
    const errs: Record<string, number> = {
      hook_full_embed: maxAbsDiff(await data(cache.get('hook_full_embed')), ref(refs, 'hidden_states.0'), mask),
    };
    for (let i = 0; i < 2; i++) {
      errs[`${i}.normalized_resid_post`] = maxAbsDiff(
        await data(cache.get('normalized_resid_post', i)),
        ref(refs, `hidden_states.${i + 1}`),
        mask,
      );
      errs[`${i}.pattern`] = maxAbsDiff(await data(cache.get('pattern', i)), ref(refs, `attentions.${i}`), mask, 2);
      errs[`${i}.mlp.post`] = maxAbsDiff(
        await data(cache.get(`blocks.${i}.mlp.hook_post`)),
        ref(refs, `layer.${i}.intermediate`),
        mask,
      );
      errs[`${i}.q`] = maxAbsDiff(await data(cache.get('q', i)), ref(refs, `layer.${i}.query`), mask);
      errs[`${i}.ln1`] = maxAbsDiff(
        await data(cache.get('ln1.hook_out', i)),
        ref(refs, `layer.${i}.attention_output`),
        mask,
      );
      // The forward's own outputs are the same tensors' values.
      expect(await data(output.hiddenStates![i + 1]!)).toEqual(
        await data(cache.get(`blocks.${i}.hook_normalized_resid_post`)),
      );
    }
    console.log(`[${MAIN_BACKEND}] cache vs HF max abs:`, JSON.stringify(errs));
    for (const [k, e] of Object.entries(errs)) expect(e, k).toBeLessThanOrEqual(1e-5);

    expect(cache.get('q', 0).shape).toEqual([B, L, 4, 8]);
    expect(cache.get('z', 1).shape).toEqual([B, L, 4, 8]);
    expect(cache.get('attn_scores', 0).shape).toEqual([B, 4, L, L]);
    expect(cache.get('pos_embed').shape).toEqual([B, L, 32]);
    // Scores are pre-softmax: scaled, with HF's finfo.min on padded keys; softmax of them is the pattern.
    const scores = await data(cache.get('attn_scores', 1));
    const lastKey = L - 1; // row 0 is short, so its last key is padding
    expect(mask.data[lastKey]).toBe(0);
    expect(scores[lastKey]).toBeLessThan(-3e38);
    // (tfjs's softmax of them: the same bits where tfjs computed the pattern; within float32 rounding where the wasm
    // backend's BLAS attention kernel did, with a softmax of its own)
    const p = tf.softmax(cache.get('attn_scores', 1));
    expect(
      maxAbsDiff(await data(p), { shape: p.shape, data: await data(cache.get('pattern', 1)) }),
    ).toBeLessThanOrEqual(blasAttentionApplies() ? 1e-6 : 0);
    p.dispose();
    // Residual stream arithmetic as the names promise.
    const mid = tf.add(cache.get('attn_out', 0), cache.get('hook_full_embed'));
    expect(await data(mid)).toEqual(await data(cache.get('resid_mid', 0)));
    mid.dispose();

    expect(() => cache.get('resid_post')).toThrow(UsageError); // needs a layer
    expect(() => cache.get('no_such', 0)).toThrow(/no hook point/);
    cache.dispose();
    disposeOutput(output);
    expect(tf.memory().numTensors).toBe(n0);
  });

  it('caches only the names asked for', () => {
    const n0 = tf.memory().numTensors;
    const { output, cache } = runWithCache(model, inputs, { names: (n) => n.endsWith('hook_pattern') });
    expect(cache.keys()).toEqual(['blocks.0.attn.hook_pattern', 'blocks.1.attn.hook_pattern']);
    expect(() => cache.get('q', 0)).toThrow(/not cached/);
    expect(() => runWithCache(model, inputs, { names: ['blocks.9.hook_resid_post'] })).toThrow(UsageError);
    cache.dispose();
    disposeOutput(output);
    expect(tf.memory().numTensors).toBe(n0);
  });

  it('a hook returning its input (or nothing) leaves every output bit-identical', async () => {
    const plain = model.forward(inputs, { outputHiddenStates: true, outputAttentions: true });
    // A LayerNorm's hook_scale / hook_normalized take it apart into tfjs ops: bit-identical where the unhooked
    // norm runs as those ops too, within float32 rounding where it is one kernel (webgpu's, or wasm + BLAS's).
    const lnInside = (n: string) => /\.hook_(scale|normalized)$/.test(n);
    const fused = layerNormIsOneKernel();
    // hook_pre likewise runs the activation apart from the matmul whose epilogue applies it unhooked (tensorflow's
    // oneDNN GELU), and a hook between an output Linear and its residual add runs the add apart from the matmul
    // whose epilogue adds it unhooked (tensorflow): within float32 rounding there; every other hook leaves every
    // backend bit-identical.
    const preAct = (n: string) =>
      /\.mlp\.hook_pre$/.test(n) ||
      (linearAddIsOneKernel() && /\.hook_(attn_out|resid_mid|mlp_in|mlp_out|resid_post)$/.test(n));
    const epilogue = linearEpilogueIsOneKernel() || linearAddIsOneKernel();
    const picks = [(n: string) => !lnInside(n) && !preAct(n), (n: string) => !lnInside(n), () => true];
    for (const pick of picks) {
      const hooks = Object.fromEntries(
        model
          .hookNames()
          .filter(pick)
          .map((n, i) => [n, (t: tf.Tensor) => (i % 2 ? t : undefined)]),
      );
      const hooked = runWithHooks(model, inputs, hooks, { outputHiddenStates: true, outputAttentions: true });
      const names = Object.keys(hooks);
      const exact = (!fused || !names.some(lnInside)) && (!epilogue || !names.some(preAct));
      for (let i = 0; i < 3; i++) {
        const [h, p] = [await data(hooked.hiddenStates![i]!), await data(plain.hiddenStates![i]!)];
        if (exact) expect(h).toEqual(p);
        else expect(maxAbsDiff(h, { shape: [], data: p })).toBeLessThanOrEqual(1e-5);
      }
      for (let i = 0; i < 2; i++) {
        const [h, p] = [await data(hooked.attentions![i]!), await data(plain.attentions![i]!)];
        if (exact) expect(h).toEqual(p);
        else expect(maxAbsDiff(h, { shape: [], data: p })).toBeLessThanOrEqual(1e-5);
      }
      disposeOutput(hooked);
    }
    disposeOutput(plain);
  });

  it('without hooks (rows between layers, the residual add in the matmul where that is one kernel) as with them', async () => {
    // No hook at all: the encoder passes rows [B·L, H] and, on tensorflow, each output Linear adds its residual
    // in oneDNN's epilogue. With hooks the layers pass [B, L, H]: the same numbers, bit for bit, as long as no
    // hook reads a point between a Linear and its residual add (so the explorer's ablations leave the layers
    // before them untouched); a hook there makes the add apart, which rounds apart from the epilogue's on
    // tensorflow: within float32 rounding.
    const n0 = tf.memory().numTensors;
    const plain = model.forward(inputs, { outputHiddenStates: true });
    const last = model.forward(inputs);
    expect(await data(last.lastHiddenState)).toEqual(await data(plain.lastHiddenState));
    const between = (n: string) => /\.hook_(attn_out|resid_mid|mlp_in|mlp_out|resid_post)$/.test(n);
    // Not the LayerNorms' insides, hook_pre (the activation apart), nor the attention's scores and probabilities
    // (webgpu's fused attention is then a composite): hooks that change kernels, above.
    const neutral = (n: string) => !/\.hook_(scale|normalized|pre|attn_scores|pattern)$/.test(n);
    for (const [pick, exact] of [
      [(n: string) => neutral(n) && !between(n), true],
      [neutral, !linearAddIsOneKernel()],
    ] as const) {
      const names = model.hookNames().filter(pick);
      expect(names.length).toBeGreaterThan(10);
      const hooks = Object.fromEntries(names.map((n) => [n, (t: tf.Tensor) => t]));
      const hooked = runWithHooks(model, inputs, hooks, { outputHiddenStates: true });
      expect(plain.hiddenStates).toHaveLength(3);
      for (let i = 0; i < 3; i++) {
        const [a, b] = [await data(plain.hiddenStates![i]!), await data(hooked.hiddenStates![i]!)];
        expect(plain.hiddenStates![i]!.shape).toEqual(hooked.hiddenStates![i]!.shape);
        if (exact) expect(a, `hidden state ${i}`).toEqual(b);
        else expect(maxAbsDiff(a, { shape: [], data: b }), `hidden state ${i}`).toBeLessThanOrEqual(1e-5);
      }
      disposeOutput(hooked);
    }
    disposeOutput(plain);
    disposeOutput(last);
    expect(tf.memory().numTensors).toBe(n0);
  });

  it("hook names mean what TransformerLens's mean (BertBlock, NormalizationBridge), on the fixture's tensors", async () => {
    const n0 = tf.memory().numTensors;
    const { output, cache } = runWithCache(model, inputs, { outputHiddenStates: true });
    const H = model.config.hiddenSize;
    const eps = model.config.layerNormEps;
    const same = async (a: tf.Tensor, b: tf.Tensor, what: string) => expect(await data(a), what).toEqual(await data(b));
    const sum = (a: string, b: string, i?: number) => tf.add(cache.get(a, i), cache.get(b, i));
    // hook_scale = √(var(x) + eps) [B, L, 1]; hook_normalized = (x − mean) / scale, before the affine; hook_out after.
    const checkNorm = async (
      scope: string,
      x: tf.Tensor,
      ln: { weight: tf.Tensor1D; bias: tf.Tensor1D },
      want: string,
    ) => {
      const scale = cache.get(`${scope}.hook_scale`);
      const normalized = cache.get(`${scope}.hook_normalized`);
      const out = cache.get(`${scope}.hook_out`);
      expect(scale.shape, scope).toEqual([B, L, 1]);
      expect(normalized.shape, scope).toEqual([B, L, H]);
      const [xs, ss, ns] = [await data(x), await data(scale), await data(normalized)];
      let worstScale = 0;
      let worstNorm = 0;
      for (let r = 0; r < B * L; r++) {
        const row = Array.from(xs.subarray(r * H, (r + 1) * H));
        const mean = row.reduce((a, v) => a + v, 0) / H;
        const s = Math.sqrt(row.reduce((a, v) => a + (v - mean) ** 2, 0) / H + eps); // float64
        worstScale = Math.max(worstScale, Math.abs(ss[r]! - s) / s);
        for (let c = 0; c < H; c++) worstNorm = Math.max(worstNorm, Math.abs(ns[r * H + c]! - (row[c]! - mean) / s));
      }
      expect(worstScale, `${scope}.hook_scale`).toBeLessThanOrEqual(1e-6);
      expect(worstNorm, `${scope}.hook_normalized`).toBeLessThanOrEqual(1e-5);
      const affine = tf.tidy(() => tf.add(tf.mul(normalized, ln.weight), ln.bias));
      expect(
        maxAbsDiff(await data(affine), { shape: [], data: await data(out) }),
        `${scope} affine`,
      ).toBeLessThanOrEqual(1e-5);
      expect(
        maxAbsDiff(await data(normalized), { shape: [], data: await data(out) }),
        `${scope}: normalized is before the affine`,
      ).toBeGreaterThan(0.1);
      expect(maxAbsDiff(await data(out), ref(refs, want), mask), `${scope}.hook_out vs ${want}`).toBeLessThanOrEqual(
        1e-5,
      );
      affine.dispose();
    };
    const { embeddings, encoder } = model;
    const embedSum = tf.tidy(() =>
      tf.add(
        tf.add(cache.get('embed.hook_embed'), cache.get('embed.hook_token_type_embed')),
        cache.get('embed.hook_pos_embed'),
      ),
    );
    await checkNorm('embed.ln', embedSum, embeddings.layerNorm, 'hidden_states.0');
    await same(cache.get('hook_full_embed'), cache.get('embed.ln.hook_out'), 'hook_full_embed');
    for (let i = 0; i < 2; i++) {
      const block = encoder.layers[i]!;
      expect(
        maxAbsDiff(await data(cache.get('resid_pre', i)), ref(refs, `hidden_states.${i}`), mask),
        `${i}.resid_pre`,
      ).toBeLessThanOrEqual(1e-5);
      const mid = sum('attn_out', 'resid_pre', i);
      await same(cache.get('resid_mid', i), mid, `${i}: resid_mid = resid_pre + attn_out`);
      await same(cache.get('mlp_in', i), cache.get('resid_mid', i), `${i}: mlp_in = resid_mid (before ln1)`);
      await checkNorm(
        `blocks.${i}.ln1`,
        cache.get('mlp_in', i),
        block.attention.output.layerNorm,
        `layer.${i}.attention_output`,
      );
      const post = sum('ln1.hook_out', 'mlp_out', i);
      await same(cache.get('resid_post', i), post, `${i}: resid_post = normalized_resid_mid + mlp_out (before ln2)`);
      await checkNorm(`blocks.${i}.ln2`, cache.get('resid_post', i), block.output.layerNorm, `hidden_states.${i + 1}`);
      await same(
        cache.get('normalized_resid_post', i),
        cache.get('ln2.hook_out', i),
        `${i}: normalized_resid_post = ln2(resid_post)`,
      );
      tf.dispose([mid, post]);
    }
    tf.dispose(embedSum);
    cache.dispose();
    disposeOutput(output);
    expect(tf.memory().numTensors).toBe(n0);
  });

  it("a LayerNorm's hook_scale is live: doubling it halves hook_normalized", async () => {
    const names = ['blocks.1.ln1.hook_normalized'];
    const plain = runWithCache(model, inputs, { names });
    const doubled = runWithCache(model, inputs, { names, hooks: { 'blocks.1.ln1.hook_scale': (s) => tf.mul(s, 2) } });
    const [p, d] = [await data(plain.cache.get(names[0]!)), await data(doubled.cache.get(names[0]!))];
    expect(
      maxAbsDiff(
        d.map((v) => v * 2),
        { shape: [], data: p },
      ),
    ).toBeLessThanOrEqual(1e-6);
    expect(
      maxAbsDiff(await data(doubled.output.lastHiddenState), {
        shape: [],
        data: await data(plain.output.lastHiddenState),
      }),
    ).toBeGreaterThan(1e-2);
    for (const r of [plain, doubled]) {
      r.cache.dispose();
      disposeOutput(r.output);
    }
  });

  it('with no hooks set, hook points add no kernels; a reading hook adds none but reshapes and the sum it reads', async () => {
    // Reshapes aside: with a hook set the layers pass [B, L, H] (hook points see that shape) instead of rows, a
    // view everywhere but on tfjs-node. hook_resid_post reads dense + residual: where a kernel computes that sum
    // inside it (tensorflow's Linear epilogue, webgpu's add + LayerNorm program), reading it makes the one add
    // apart; nothing else may change.
    const count = async (f: () => BertModelOutput): Promise<string[]> => {
      const info = await tf.profile(() => {
        const o = f();
        return o.lastHiddenState;
      });
      (info.result as tf.Tensor).dispose();
      return info.kernels.filter((k) => k.name !== 'Reshape').map((k) => k.name);
    };
    const plain = await count(() => model.forward(inputs));
    const empty = await count(() => runWithHooks(model, inputs, {}));
    const reading = await count(() => runWithHooks(model, inputs, { 'blocks.1.hook_resid_post': () => undefined }));
    expect(empty).toEqual(plain);
    const extra = [...reading];
    for (const k of plain) {
      const i = extra.indexOf(k);
      expect(i, `${k} missing from the hooked run`).toBeGreaterThanOrEqual(0);
      extra.splice(i, 1);
    }
    expect(extra).toEqual(linearAddIsOneKernel() || fusedLayerNormApplies() ? ['Add'] : []);
  });

  it('patching resid (normalized_resid_post of layer 0) of A with B makes every later hidden state equal B’s', async () => {
    const len = lengths[0]!;
    const bIdx = lengths.findIndex((l, i) => i > 0 && l === len);
    expect(bIdx).toBeGreaterThan(0);
    const a = sentences([0], len);
    const b = sentences([bIdx], len);
    const { output: outB, cache } = runWithCache(model, b, {
      names: ['blocks.0.hook_normalized_resid_post'],
      outputHiddenStates: true,
    });
    const patched = runWithHooks(
      model,
      a,
      { 'blocks.0.hook_normalized_resid_post': () => cache.get('normalized_resid_post', 0) },
      { outputHiddenStates: true },
    );
    const plainA = model.forward(a, { outputHiddenStates: true });
    expect(await data(patched.hiddenStates![0]!)).toEqual(await data(plainA.hiddenStates![0]!)); // before: A's
    for (const i of [1, 2]) expect(await data(patched.hiddenStates![i]!)).toEqual(await data(outB.hiddenStates![i]!));
    expect(
      maxAbsDiff(await data(plainA.lastHiddenState), { shape: [], data: await data(outB.lastHiddenState) }),
    ).toBeGreaterThan(1e-2);
    // The caller's cached tensor survives the patched run's disposal.
    disposeOutput(patched);
    expect(cache.get('normalized_resid_post', 0).isDisposed).toBe(false);
    cache.dispose();
    [outB, plainA].forEach(disposeOutput);
    disposeInputs(a);
    disposeInputs(b);
  });

  it('zero-ablating a head changes only what follows it', async () => {
    const names = ['blocks.1.attn.hook_pattern', 'blocks.1.attn.hook_z', 'blocks.1.hook_attn_out'];
    const plain = runWithCache(model, inputs, { names, outputHiddenStates: true });
    const abl = runWithCache(model, inputs, {
      names,
      outputHiddenStates: true,
      hooks: ablateHeads(model, [{ layer: 1, head: 2 }]),
    });
    for (const i of [0, 1])
      expect(await data(abl.output.hiddenStates![i]!)).toEqual(await data(plain.output.hiddenStates![i]!));
    expect(await data(abl.cache.get('pattern', 1))).toEqual(await data(plain.cache.get('pattern', 1)));
    const z = (await abl.cache.get('z', 1).array()) as number[][][][];
    const z0 = (await plain.cache.get('z', 1).array()) as number[][][][];
    for (let b = 0; b < B; b++) {
      for (let l = 0; l < L; l++) {
        expect(z[b]![l]![2]!.every((v) => v === 0)).toBe(true);
        for (const h of [0, 1, 3]) expect(z[b]![l]![h]).toEqual(z0[b]![l]![h]);
      }
    }
    const diff = maxAbsDiff(await data(abl.output.hiddenStates![2]!), {
      shape: [],
      data: await data(plain.output.hiddenStates![2]!),
    });
    expect(diff).toBeGreaterThan(1e-3);
    for (const r of [plain, abl]) {
      r.cache.dispose();
      disposeOutput(r.output);
    }
    expect(() => ablateHeads(model, [{ layer: 2, head: 0 }])).toThrow(UsageError);
  });

  it("HF head_mask semantics: masked heads' probabilities are 0, the others unchanged", async () => {
    const plain = model.forward(inputs, { outputAttentions: true, outputHiddenStates: true });
    const masked = runWithHooks(
      model,
      inputs,
      headMask(model, [
        [1, 0, 1, 1],
        [1, 1, 1, 1],
      ]),
      { outputAttentions: true, outputHiddenStates: true },
    );
    const att = (await masked.attentions![0]!.array()) as number[][][][];
    const att0 = (await plain.attentions![0]!.array()) as number[][][][];
    expect(att[0]![1]!.flat().every((v) => v === 0)).toBe(true);
    expect(att[0]![0]).toEqual(att0[0]![0]);
    expect(await data(masked.hiddenStates![0]!)).toEqual(await data(plain.hiddenStates![0]!));
    expect(
      maxAbsDiff(await data(masked.hiddenStates![1]!), { shape: [], data: await data(plain.hiddenStates![1]!) }),
    ).toBeGreaterThan(1e-3);
    disposeOutput(plain);
    disposeOutput(masked);
  });

  it('bad hooks fail clearly and leak nothing', () => {
    const n0 = tf.memory().numTensors;
    expect(() => runWithHooks(model, inputs, { 'blocks.7.hook_resid_post': () => undefined })).toThrow(
      /unknown hook point/,
    );
    expect(() => runWithHooks(model, inputs, { 'blocks.0.hook_resid_post': (t) => tf.sum(t) })).toThrow(
      /expected float32 \[14,18,32\]/,
    );
    expect(() =>
      runWithCache(model, inputs, { hooks: { 'blocks.1.attn.hook_z': (t) => tf.reshape(t, [-1]) } }),
    ).toThrow(UsageError);
    expect(tf.memory().numTensors).toBe(n0);
  });
});
