// Every model folder in tiny/ loads to the weights of tiny/hf/model.safetensors, tensor by tensor:
// bit-identical for float32 layouts; fp16/bf16 equal the hf weights rounded to nearest even.
import { describe, expect, it } from 'vitest';
import { toBFloat16Bits, toFloat16Bits } from '../../src/loader/dtype.js';
import { loadModelDir, type LoadedModel } from '../../src/loader/model-dir.js';
import { fixture } from '../fixtures.js';
import { firstBitDifference, referenceWeights } from './helpers.js';

const ref = referenceWeights();
const POOLER = ['pooler.dense.weight', 'pooler.dense.bias'];

function expectSameWeights(m: LoadedModel, round?: (x: number) => number): void {
  const names = [...m.weights.tensors.keys()].sort();
  const expected = [...ref.keys()].filter((n) => m.weights.tensors.has(n) || !POOLER.includes(n)).sort();
  expect(names).toEqual(expected);
  for (const name of names) {
    const got = m.weights.get(name);
    const want = ref.get(name)!;
    expect(got.shape, name).toEqual(want.shape);
    const w = round ? want.data.map(round) : want.data;
    expect(firstBitDifference(got.data, w), name).toBe(-1);
  }
}

// The exact value a float32 becomes after RNE rounding to half / bfloat16 and back.
const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);
function roundBf16(x: number): number {
  u32[0] = toBFloat16Bits(x) << 16;
  return f32[0]!;
}
function roundF16(x: number): number {
  const h = toFloat16Bits(x);
  const e = (h >> 10) & 31;
  const m = h & 1023;
  const s = h & 0x8000 ? -1 : 1;
  return e === 0 ? s * m * 2 ** -24 : e === 31 ? (m ? NaN : s * Infinity) : s * (1 + m / 1024) * 2 ** (e - 15);
}

describe('tiny model folders', () => {
  it('hf: safetensors, pooler, HF config, tokenizer.json', () => {
    const m = loadModelDir(fixture('tiny', 'hf'));
    expect(m.format).toBe('safetensors');
    expect(m.dtypes).toEqual(['F32']);
    expect(m.config).toMatchObject({
      vocabSize: 21128,
      hiddenSize: 32,
      numHiddenLayers: 2,
      numAttentionHeads: 4,
      intermediateSize: 64,
      typeVocabSize: 2,
      maxPositionEmbeddings: 512,
      hiddenAct: 'gelu',
      layerNormEps: 1e-12,
    });
    expect(m.report).toMatchObject({ missing: [], unexpected: [], renamed: [] });
    expect(m.report.ignoredConfigKeys).toContain('hidden_dropout_prob');
    expect(m.pooling).toBeUndefined();
    expect(m.tokenizerDir).toBe(fixture('tiny', 'hf'));
    expectSameWeights(m);
  });

  it('uer-converted: torch zip, no bert. prefix, no pooler, token types a storage-offset view', () => {
    const m = loadModelDir(fixture('tiny', 'uer-converted'));
    expect(m.format).toBe('torch-zip');
    expect(m.report.missing).toEqual(POOLER);
    expect(m.report.renamed).toEqual([]);
    expect(m.weights.has('pooler.dense.weight')).toBe(false);
    expectSameWeights(m);
  });

  it('zip-prefixed: bert. prefix renamed, non-contiguous intermediate weight materialized', () => {
    const m = loadModelDir(fixture('tiny', 'zip-prefixed'));
    expect(m.format).toBe('torch-zip');
    expect(m.report.renamed).toHaveLength(39);
    expect(m.report.renamed).toContainEqual([
      'bert.encoder.layer.0.intermediate.dense.weight',
      'encoder.layer.0.intermediate.dense.weight',
    ]);
    expect(m.report.missing).toEqual([]);
    expectSameWeights(m);
  });

  it('legacy: pre-1.6 torch format', () => {
    const m = loadModelDir(fixture('tiny', 'legacy'));
    expect(m.format).toBe('torch-legacy');
    expect(m.report.renamed).toHaveLength(39);
    expectSameWeights(m);
  });

  it('fp16: decodes exactly to the hf weights rounded to half (RNE)', () => {
    const m = loadModelDir(fixture('tiny', 'fp16'));
    expect(m.dtypes).toEqual(['F16']);
    expectSameWeights(m, roundF16);
  });

  it('bf16: decodes exactly to the hf weights rounded to bfloat16 (RNE)', () => {
    const m = loadModelDir(fixture('tiny', 'bf16'));
    expect(m.dtypes).toEqual(['BF16']);
    expectSameWeights(m, roundBf16);
  });

  it('uer: UER-py native names and config, stream 0 of the dual model, seg row 0 dropped', () => {
    const m = loadModelDir(fixture('tiny', 'uer'));
    expect(m.format).toBe('torch-zip');
    expect(m.config).toMatchObject({
      vocabSize: 21128,
      hiddenSize: 32,
      numHiddenLayers: 2,
      numAttentionHeads: 4,
      intermediateSize: 64,
      typeVocabSize: 2,
      maxPositionEmbeddings: 512,
    });
    expect(m.report.missing).toEqual(POOLER);
    expect(m.report.renamed).toContainEqual([
      'embedding.embedding_0.seg.embedding.weight',
      'embeddings.token_type_embeddings.weight',
    ]);
    expect(m.report.renamed).toContainEqual([
      'encoder.encoder_0.transformer.1.self_attn.linear_layers.2.bias',
      'encoder.layer.1.attention.self.value.bias',
    ]);
    expect(m.report.renamed).toContainEqual([
      'encoder.encoder_0.transformer.0.layer_norm_2.gamma',
      'encoder.layer.0.output.LayerNorm.weight',
    ]);
    // Stream 1 (sharing stream 0's storages) is reported, not used.
    expect(m.report.unexpected).toHaveLength(37);
    expect(m.report.unexpected.every((k) => /embedding_1|encoder_1/.test(k))).toBe(true);
    expect(m.report.ignoredConfigKeys).toContain('stream_1');
    expectSameWeights(m);
  });

  it('st: sentence-transformers folder with modules.json and 1_Pooling', () => {
    const m = loadModelDir(fixture('tiny', 'st'));
    expect(m.pooling).toEqual({ mode: 'mean' });
    expect(m.tokenizerDir).toBe(fixture('tiny', 'st'));
    expectSameWeights(m);
  });
});
