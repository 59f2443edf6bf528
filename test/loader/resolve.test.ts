// Model folder resolution: plain folders, hub ids under weights/<id>/, the HF cache layout (with the
// blob symlinks the hub client makes), and sentence-transformers folders with a sub-folder transformer.
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.js';
import { loadModelDir } from '../../src/loader/model-dir.js';
import { resolveModelDir } from '../../src/loader/resolve.js';
import { fixture } from '../fixtures.js';
import { firstBitDifference, referenceWeights, scratch } from './helpers.js';

const tmp = scratch('resolve');
const link = (dir: string, names: string[], from = fixture('tiny', 'hf')) => {
  mkdirSync(dir, { recursive: true });
  for (const n of names) symlinkSync(join(from, n), join(dir, n));
};

describe('resolveModelDir', () => {
  it('returns an existing folder as an absolute path', () => {
    expect(resolveModelDir(fixture('tiny', 'hf'))).toBe(fixture('tiny', 'hf'));
    expect(resolveModelDir('tiny/uer', fixture())).toBe(fixture('tiny', 'uer'));
  });

  it('finds a hub id under weights/<id>/ relative to the working folder', () => {
    const dir = join(tmp, 'cwd1', 'weights', 'uer', 'tiny-test');
    link(dir, ['config.json', 'model.safetensors']);
    expect(resolveModelDir('uer/tiny-test', join(tmp, 'cwd1'))).toBe(dir);
  });

  it('follows the HF cache layout to the refs/main snapshot', () => {
    const repo = join(tmp, 'cwd2', 'weights', 'models--org--name');
    link(join(repo, 'snapshots', 'aaaa'), ['config.json']);
    link(join(repo, 'snapshots', 'bbbb'), ['config.json', 'model.safetensors', 'tokenizer.json']);
    mkdirSync(join(repo, 'refs'));
    writeFileSync(join(repo, 'refs', 'main'), 'bbbb\n');
    expect(resolveModelDir(repo)).toBe(join(repo, 'snapshots', 'bbbb'));
    expect(resolveModelDir('org/name', join(tmp, 'cwd2'))).toBe(join(repo, 'snapshots', 'bbbb'));
    const m = loadModelDir(resolveModelDir(repo));
    expect(m.format).toBe('safetensors');
    expect(m.weights.tensors.size).toBe(39);
  });

  it('says where it looked when nothing is there', () => {
    expect(() => resolveModelDir('nobody/nothing', tmp)).toThrow(InputError);
    expect(() => resolveModelDir('nobody/nothing', tmp)).toThrow(
      /nobody\/nothing: .*weights\/nobody\/nothing\/ .*sbert download nobody\/nothing/,
    );
    expect(() => resolveModelDir(fixture('tiny', 'hf', 'config.json'))).toThrow(/is a file/);
  });
});

describe('sentence-transformers layouts', () => {
  it('older layout: 0_Transformer/, boolean pooling flags, Normalize, max_seq_length', () => {
    const root = join(tmp, 'st-old');
    link(join(root, '0_Transformer'), ['config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json']);
    writeFileSync(
      join(root, '0_Transformer', 'sentence_bert_config.json'),
      JSON.stringify({ max_seq_length: 128, do_lower_case: false }),
    );
    mkdirSync(join(root, '1_Pooling'));
    writeFileSync(
      join(root, '1_Pooling', 'config.json'),
      JSON.stringify({
        word_embedding_dimension: 32,
        pooling_mode_cls_token: true,
        pooling_mode_mean_tokens: false,
        pooling_mode_max_tokens: false,
        pooling_mode_mean_sqrt_len_tokens: false,
      }),
    );
    writeFileSync(
      join(root, 'modules.json'),
      JSON.stringify([
        { idx: 0, name: '0', path: '0_Transformer', type: 'sentence_transformers.models.Transformer' },
        { idx: 1, name: '1', path: '1_Pooling', type: 'sentence_transformers.models.Pooling' },
        { idx: 2, name: '2', path: '2_Normalize', type: 'sentence_transformers.models.Normalize' },
      ]),
    );
    const m = loadModelDir(root);
    expect(m.pooling).toEqual({ mode: 'cls' });
    expect(m.normalize).toBe(true);
    expect(m.maxSeqLength).toBe(128);
    expect(m.tokenizerDir).toBe(join(root, '0_Transformer'));
    expect(m.weightsFile).toBe(join(root, '0_Transformer', 'model.safetensors'));
    const ref = referenceWeights();
    for (const [name, t] of ref) expect(firstBitDifference(m.weights.get(name).data, t.data), name).toBe(-1);
  });

  it('tiny/st: max_seq_length absent, mean pooling', () => {
    const m = loadModelDir(fixture('tiny', 'st'));
    expect(m.maxSeqLength).toBeUndefined();
    expect(m.normalize).toBeUndefined();
    expect(m.pooling?.mode).toBe('mean');
  });
});

describe('sharded checkpoints', () => {
  it('model.safetensors.index.json: tensors gathered from their shards', async () => {
    const { readSafetensors, serializeSafetensors } = await import('../../src/loader/safetensors.js');
    const dir = join(tmp, 'sharded');
    link(dir, ['config.json']);
    const src = readSafetensors(fixture('tiny', 'hf', 'model.safetensors'));
    const all = [...src.tensors.values()];
    const halves = [all.slice(0, 20), all.slice(20)];
    const weightMap: Record<string, string> = {};
    halves.forEach((h, i) => {
      const name = `model-0000${i + 1}-of-00002.safetensors`;
      writeFileSync(
        join(dir, name),
        serializeSafetensors(h.map((t) => ({ name: t.name, dtype: t.dtype, shape: t.shape, bytes: t.bytes }))),
      );
      for (const t of h) weightMap[t.name] = name;
    });
    writeFileSync(join(dir, 'model.safetensors.index.json'), JSON.stringify({ metadata: {}, weight_map: weightMap }));
    const m = loadModelDir(dir);
    expect(m.weightsFile).toBe(join(dir, 'model.safetensors.index.json'));
    const ref = referenceWeights();
    for (const [name, t] of ref) expect(firstBitDifference(m.weights.get(name).data, t.data), name).toBe(-1);
    // A weight_map that points outside the folder is refused.
    writeFileSync(
      join(dir, 'model.safetensors.index.json'),
      JSON.stringify({ weight_map: { 'pooler.dense.bias': '../hf/model.safetensors' } }),
    );
    expect(() => loadModelDir(dir)).toThrow(/not a file beside the index/);
  });
});
