// Key normalisation: HF names under the usual wrappers, TF-era gamma/beta, UER-py native names.
import { describe, expect, it } from 'vitest';
import { bertShapes, keyStyle, knownNames, mapKeys } from '../../src/loader/keys.js';
import type { BertConfig } from '../../src/loader/config.js';

const known = knownNames(2);

describe('HF-style keys', () => {
  it('strips bert., module., sentence-transformers prefixes; renames gamma/beta', () => {
    const m = mapKeys(
      [
        'module.bert.embeddings.word_embeddings.weight',
        '0.auto_model.encoder.layer.1.output.dense.bias',
        'bert.embeddings.LayerNorm.gamma',
        'bert.embeddings.LayerNorm.beta',
        'encoder.layer.0.attention.self.query.weight',
        'bert.pooler.dense.weight',
      ],
      known,
    );
    expect(m.style).toBe('hf');
    expect(Object.fromEntries([...m.canonical].map(([k, v]) => [k, v.source]))).toEqual({
      'embeddings.word_embeddings.weight': 'module.bert.embeddings.word_embeddings.weight',
      'encoder.layer.1.output.dense.bias': '0.auto_model.encoder.layer.1.output.dense.bias',
      'embeddings.LayerNorm.weight': 'bert.embeddings.LayerNorm.gamma',
      'embeddings.LayerNorm.bias': 'bert.embeddings.LayerNorm.beta',
      'encoder.layer.0.attention.self.query.weight': 'encoder.layer.0.attention.self.query.weight',
      'pooler.dense.weight': 'bert.pooler.dense.weight',
    });
    expect(m.renamed).toHaveLength(5);
    expect(m.unexpected).toEqual([]);
  });

  it('reports heads, buffers and layers beyond the config as unexpected', () => {
    const m = mapKeys(
      [
        'bert.embeddings.position_ids',
        'cls.predictions.bias',
        'cls.seq_relationship.weight',
        'bert.encoder.layer.2.output.dense.bias',
        'encoder.layer.01.output.dense.bias',
      ],
      known,
    );
    expect(m.canonical.size).toBe(0);
    expect(m.unexpected).toHaveLength(5);
  });

  it('reports two keys claiming one name as a conflict', () => {
    const m = mapKeys(['embeddings.LayerNorm.weight', 'bert.embeddings.LayerNorm.weight'], known);
    expect(m.conflicts).toEqual([
      ['embeddings.LayerNorm.weight', 'bert.embeddings.LayerNorm.weight', 'embeddings.LayerNorm.weight'],
    ]);
  });
});

describe('UER-py keys', () => {
  it('maps the current and the older naming, drops nothing else silently', () => {
    const keys = [
      'embedding.word.embedding.weight',
      'embedding.position_embedding.weight',
      'embedding.segment_embedding.weight',
      'embedding.layer_norm.gamma',
      'encoder.transformer.0.self_attn.linear_layers.0.weight',
      'encoder.transformer.0.self_attn.linear_layers.1.bias',
      'encoder.transformer.0.self_attn.linear_layers.2.weight',
      'encoder.transformer.1.self_attn.final_linear.bias',
      'encoder.transformer.1.layer_norm_1.beta',
      'encoder.transformer.1.feed_forward.linear_1.weight',
      'encoder.transformer.1.feed_forward.linear_2.bias',
      'encoder.transformer.1.layer_norm_2.gamma',
      'target.mlm.linear_1.weight',
      'encoder.transformer.0.feed_forward.linear_1.gamma',
    ];
    expect(keyStyle(keys)).toBe('uer');
    const m = mapKeys(keys, known);
    expect(m.renamed).toEqual([
      ['embedding.word.embedding.weight', 'embeddings.word_embeddings.weight'],
      ['embedding.position_embedding.weight', 'embeddings.position_embeddings.weight'],
      ['embedding.segment_embedding.weight', 'embeddings.token_type_embeddings.weight'],
      ['embedding.layer_norm.gamma', 'embeddings.LayerNorm.weight'],
      ['encoder.transformer.0.self_attn.linear_layers.0.weight', 'encoder.layer.0.attention.self.query.weight'],
      ['encoder.transformer.0.self_attn.linear_layers.1.bias', 'encoder.layer.0.attention.self.key.bias'],
      ['encoder.transformer.0.self_attn.linear_layers.2.weight', 'encoder.layer.0.attention.self.value.weight'],
      ['encoder.transformer.1.self_attn.final_linear.bias', 'encoder.layer.1.attention.output.dense.bias'],
      ['encoder.transformer.1.layer_norm_1.beta', 'encoder.layer.1.attention.output.LayerNorm.bias'],
      ['encoder.transformer.1.feed_forward.linear_1.weight', 'encoder.layer.1.intermediate.dense.weight'],
      ['encoder.transformer.1.feed_forward.linear_2.bias', 'encoder.layer.1.output.dense.bias'],
      ['encoder.transformer.1.layer_norm_2.gamma', 'encoder.layer.1.output.LayerNorm.weight'],
    ]);
    expect(m.canonical.get('embeddings.token_type_embeddings.weight')!.dropFirstRow).toBe(true);
    expect(m.unexpected).toEqual(['target.mlm.linear_1.weight', 'encoder.transformer.0.feed_forward.linear_1.gamma']);
  });
});

it('bertShapes lists 5 + 16·N tensors with HF shapes', () => {
  const c = {
    vocabSize: 10,
    hiddenSize: 4,
    numHiddenLayers: 3,
    numAttentionHeads: 2,
    intermediateSize: 8,
    maxPositionEmbeddings: 6,
    typeVocabSize: 2,
  } as BertConfig;
  const s = bertShapes(c);
  expect(s.size).toBe(5 + 16 * 3);
  expect(s.get('encoder.layer.2.intermediate.dense.weight')).toEqual([8, 4]);
  expect(s.get('encoder.layer.2.output.dense.weight')).toEqual([4, 8]);
  expect(s.get('embeddings.token_type_embeddings.weight')).toEqual([2, 4]);
});

it('bertNames agrees with bertShapes', async () => {
  const { bertNames } = await import('../../src/loader/keys.js');
  const c = {
    vocabSize: 10,
    hiddenSize: 4,
    numHiddenLayers: 2,
    numAttentionHeads: 2,
    intermediateSize: 8,
    maxPositionEmbeddings: 6,
    typeVocabSize: 2,
  } as BertConfig;
  expect(bertNames(2).sort()).toEqual([...bertShapes(c).keys()].sort());
});
