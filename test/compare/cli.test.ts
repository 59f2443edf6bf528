// `sbert compare` against every fixture reference (passes with the default tolerance), against perturbed
// weights (exit 3, the first diverging tensor named first), and on bad input (exit 1 / 2, one error line).
import { copyFileSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { JsonReport } from '../../src/compare/report.js';
import { readSafetensors, writeSafetensors } from '../../src/loader/safetensors.js';
import { errorLine, sbert } from '../cli.js';
import { fixture } from '../fixtures.js';
import { MAIN_BACKEND } from '../model/helpers.js';

const TMP = mkdtempSync(join(tmpdir(), 'sbert-compare-'));

async function compareJson(
  model: string,
  reference: string,
  extra: string[] = [],
): Promise<{ code: number; json: JsonReport; stderr: string }> {
  const run = await sbert([
    'compare',
    '--model',
    model,
    '--reference',
    reference,
    '--json',
    '--backend',
    MAIN_BACKEND,
    ...extra,
  ]);
  if (run.code !== 0 && run.code !== 3) throw new Error(`exit ${run.code}: ${run.stderr}`);
  return { code: run.code, json: JSON.parse(run.stdout) as JsonReport, stderr: run.stderr };
}

/** A copy of tiny/hf whose tensor `name` is scaled by `factor` (not a shift: LayerNorm would cancel a uniform one). */
function perturbedTiny(name: string, factor: number): string {
  const src = fixture('tiny', 'hf');
  const dir = mkdtempSync(join(TMP, 'perturbed-'));
  for (const f of readdirSync(src)) if (f !== 'model.safetensors') copyFileSync(join(src, f), join(dir, f));
  const st = readSafetensors(join(src, 'model.safetensors'));
  expect(st.tensors.has(name)).toBe(true);
  const tensors = [...st.tensors.values()].map((t) => {
    if (t.name !== name) return { name: t.name, dtype: t.dtype, shape: t.shape, bytes: t.bytes };
    const x = new Float32Array(new Uint8Array(t.bytes).buffer); // a copy (Buffer#slice would alias the file)
    for (let i = 0; i < x.length; i++) x[i]! *= factor;
    return { name: t.name, dtype: t.dtype, shape: t.shape, bytes: new Uint8Array(x.buffer) };
  });
  writeSafetensors(join(dir, 'model.safetensors'), tensors);
  return dir;
}

describe('sbert compare passes every fixture reference with the default tolerance', () => {
  const cases: [string, string, string, number][] = [
    ['tiny/hf', 'tiny/refs.safetensors', 'main + pairs', 21],
    ['tiny/hf', 'tiny/refs_long.safetensors', 'long', 2],
    ['tiny/uer', 'tiny/refs.safetensors', 'UER-py native', 21],
    ['tiny/uer-converted', 'tiny/refs.safetensors', "the model card's conversion", 21],
    ['tiny/legacy', 'tiny/refs.safetensors', 'legacy torch format', 21],
    ['tiny/st', 'tiny/refs.safetensors', 'sentence-transformers folder', 21],
    ['tiny/fp16', 'tiny/refs.safetensors', 'fp16.* only', 2],
    ['tiny/bf16', 'tiny/refs.safetensors', 'bf16.* only', 2],
    ['activations/gelu_new/hf', 'activations/gelu_new/refs.safetensors', 'gelu_new', 21],
    ['activations/gelu_pytorch_tanh/hf', 'activations/gelu_pytorch_tanh/refs.safetensors', 'gelu_pytorch_tanh', 21],
    ['activations/relu/hf', 'activations/relu/refs.safetensors', 'relu', 21],
  ];
  it.each(cases)('%s vs %s (%s)', async (model, ref, _what, n) => {
    const { code, json } = await compareJson(fixture(...model.split('/')), fixture(...ref.split('/')));
    expect(Object.keys(json.tensors)).toHaveLength(n);
    for (const [name, t] of Object.entries(json.tensors)) {
      expect(t.max_abs, name).not.toBeNull();
      expect(t.max_abs!, name).toBeLessThanOrEqual(t.tolerance);
    }
    expect(json.ok).toBe(true);
    expect(code).toBe(0);
    if (model === 'tiny/fp16')
      expect(Object.keys(json.tensors).sort()).toEqual(['fp16.last_hidden_state', 'fp16.pool.mean']);
  });

  describe('base (synthetic weights, full BERT-base shape)', () => {
    let dir: string;
    beforeAll(async () => {
      dir = join(TMP, 'base');
      const run = await sbert(['synth', '--config', fixture('base', 'hf', 'config.json'), '--out', dir]);
      expect(run.code, run.stderr).toBe(0);
      for (const f of ['tokenizer.json', 'tokenizer_config.json']) copyFileSync(fixture('base', 'hf', f), join(dir, f));
    });

    it('refs.safetensors: every layer of the first two sentences, the last hidden state, the pools', async () => {
      const { code, json } = await compareJson(dir, fixture('base', 'refs.safetensors'));
      expect(Object.keys(json.tensors)).toHaveLength(21);
      expect(json.tensors['hidden_states.12.first2']!.max_abs!).toBeLessThanOrEqual(2e-5);
      expect(json.ok).toBe(true);
      expect(code).toBe(0);
    });

    it('refs_long.safetensors: 512 tokens', async () => {
      const { code, json } = await compareJson(dir, fixture('base', 'refs_long.safetensors'));
      expect(json.tensors['long.last_hidden_state']).toMatchObject({ shape: [1, 512, 768], ok: true });
      expect(code).toBe(0);
    });
  });
});

describe('sbert compare fails on perturbed weights, naming the first diverging tensor', () => {
  it('layer 1 FFN output weight: hidden_states.2 first, everything before it still within tolerance', async () => {
    const dir = perturbedTiny('encoder.layer.1.output.dense.weight', 1.001);
    const { code, json } = await compareJson(dir, fixture('tiny', 'refs.safetensors'));
    expect(code).toBe(3);
    expect(json.ok).toBe(false);
    expect(json.first_failure).toBe('hidden_states.2');
    for (const ok of [
      'hidden_states.0',
      'hidden_states.1',
      'attentions.1',
      'layer.1.attention_output',
      'layer.1.intermediate',
    ]) {
      expect(json.tensors[ok]!.ok, ok).toBe(true);
    }
    for (const bad of ['hidden_states.2', 'last_hidden_state', 'pool.mean', 'pairs.last_hidden_state'])
      expect(json.tensors[bad]!.ok, bad).toBe(false);

    const table = await sbert([
      'compare',
      '--model',
      dir,
      '--reference',
      fixture('tiny', 'refs.safetensors'),
      '--backend',
      MAIN_BACKEND,
    ]);
    expect(table.code).toBe(3);
    expect(table.stdout).toMatch(
      /^FAIL: \d+ of 21 tensors past tolerance; first divergence: hidden_states\.2 \(layer 1 output\), max abs \S+ > 2\.00e-5 at \[sentence \d+, token \d+ \(.+\), dim \d+\]/m,
    );
    expect(table.stdout).toMatch(/^hidden_states\.1 .* ok /m);
    expect(table.stdout).toMatch(/^hidden_states\.2 .* FAIL /m);
  });

  it('layer 0 key weight: the query still agrees, attentions.0 is first to diverge', async () => {
    const dir = perturbedTiny('encoder.layer.0.attention.self.key.weight', 1.001);
    const { code, json } = await compareJson(dir, fixture('tiny', 'refs.safetensors'));
    expect(code).toBe(3);
    expect(json.tensors['layer.0.query']!.ok).toBe(true);
    expect(json.first_failure).toBe('attentions.0');
  });

  it('a tolerance of 0 fails even the correct model; --groups restricts the batches', async () => {
    const strict = await compareJson(fixture('tiny', 'hf'), fixture('tiny', 'refs.safetensors'), ['--tolerance', '0']);
    expect(strict.code).toBe(3);
    const pairs = await compareJson(fixture('tiny', 'hf'), fixture('tiny', 'refs.safetensors'), ['--groups', 'pairs']);
    expect(Object.keys(pairs.json.tensors).sort()).toEqual(['pairs.last_hidden_state', 'pairs.pool.mean']);
    expect(pairs.code).toBe(0);
  });
});

describe('sbert compare on bad input', () => {
  it('exits 2 with one error line naming the file', async () => {
    const missing = join(TMP, 'missing.safetensors');
    let run = await sbert(['compare', '--model', fixture('tiny', 'hf'), '--reference', missing]);
    expect(run.code).toBe(2);
    expect(errorLine(run)).toBe(`error: ${missing}: no such file`);

    const garbage = join(TMP, 'garbage.safetensors');
    writeFileSync(garbage, 'not a safetensors file at all');
    run = await sbert(['compare', '--model', fixture('tiny', 'hf'), '--reference', garbage]);
    expect(run.code).toBe(2);
    expect(errorLine(run)).toMatch(new RegExp(`^error: ${garbage}: invalid safetensors: `));

    // base's reference needs 12 layers; the tiny model has 2.
    run = await sbert([
      'compare',
      '--model',
      fixture('tiny', 'hf'),
      '--reference',
      fixture('base', 'refs.safetensors'),
    ]);
    expect(run.code).toBe(2);
    expect(errorLine(run)).toMatch(
      /^error: .*base\/refs\.safetensors: hidden_states\.\d+ is beyond the model's 2 layers$/,
    );

    // The model's weights do not fit base's long text (hidden size 32 vs 768).
    run = await sbert([
      'compare',
      '--model',
      fixture('tiny', 'hf'),
      '--reference',
      fixture('base', 'refs_long.safetensors'),
    ]);
    expect(run.code).toBe(2);
    expect(errorLine(run)).toMatch(/long\.last_hidden_state has shape \[1,512,768\] but the model gives \[1,512,32\]/);

    run = await sbert([
      'compare',
      '--model',
      join(TMP, 'no-model'),
      '--reference',
      fixture('tiny', 'refs.safetensors'),
    ]);
    expect(run.code).toBe(2);
    expect(errorLine(run)).toMatch(/no-model: no such folder/);
  });

  it('exits 1 on a usage error', async () => {
    const run = await sbert([
      'compare',
      '--model',
      fixture('tiny', 'hf'),
      '--reference',
      fixture('tiny', 'refs.safetensors'),
      '--tolerance',
      'abc',
    ]);
    expect(run.code).toBe(1);
    const groups = await sbert([
      'compare',
      '--model',
      fixture('tiny', 'hf'),
      '--reference',
      fixture('tiny', 'refs.safetensors'),
      '--groups',
      'nope',
    ]);
    expect(groups.code).toBe(2);
    expect(errorLine(groups)).toMatch(/no group "nope" \(it has: main, pairs, fp16, bf16\)/);
  });
});
