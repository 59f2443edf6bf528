// XLM-RoBERTa (RoBERTa position ids), a BertModel with XLM-R's tokenizer, and the bge-like cased Chinese BERT
// against HF transformers 5.17 + sentence-transformers 6.0.1: every tensor of refs.safetensors and
// refs_long.safetensors within 1e-5 on unpadded positions, in every checkpoint layout, on wasm and cpu.
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { runComparison } from '../../src/compare/run.js';
import { loadModelDir } from '../../src/loader/index.js';
import { readSafetensors, serializeSafetensors } from '../../src/loader/safetensors.js';
import { contiguousState, legacyBytes } from '../../src/loader/torch-writer.js';
import { BertModel } from '../../src/model/bert.js';
import { runWithCache, runWithHooks } from '../../src/model/hooks.js';
import { fixture } from '../fixtures.js';
import { BACKENDS, readRefs, ref, useBackend } from './helpers.js';

const TOL = 1e-5;

/** Every reference tensor compared by `sbert compare`'s machinery; returns max abs by key. */
async function compareFolder(dir: string, refsFile: string): Promise<Record<string, number>> {
  const loaded = loadModelDir(dir);
  const model = BertModel.load(loaded.config, loaded.weights);
  const before = tf.memory().numTensors;
  try {
    const report = await runComparison(model, undefined, refsFile, { tolerance: TOL });
    expect(report.skipped).toEqual([]);
    expect(tf.memory().numTensors).toBe(before);
    return Object.fromEntries(report.results.map((r) => [r.key, r.maxAbs]));
  } finally {
    model.dispose();
  }
}

/**
 * More layouts of xlmr-tiny's weights, written under the temp dir: a `RobertaModel` config; `roberta.`-prefixed
 * safetensors with an `XLMRobertaForMaskedLM` head (`lm_head.*`, unused); the legacy torch format, prefixed.
 */
function moreLayouts(): [string, string][] {
  const hf = fixture('xlmr', 'xlmr-tiny', 'hf');
  const st = readSafetensors(join(hf, 'model.safetensors'));
  const raw = [...st.tensors.values()];
  const config = JSON.parse(readFileSync(join(hf, 'config.json'), 'utf8')) as Record<string, unknown>;
  const root = mkdtempSync(join(tmpdir(), 'sbert-xlmr-layouts-'));
  const folder = (name: string, cfg: Record<string, unknown>, file: string, bytes: Uint8Array): [string, string] => {
    const dir = join(root, name);
    mkdirSync(dir);
    writeFileSync(join(dir, 'config.json'), JSON.stringify(cfg));
    writeFileSync(join(dir, file), bytes);
    return [`${name} (written)`, dir];
  };
  const plain = raw.map((t) => ({ name: t.name, dtype: 'F32' as const, shape: t.shape, bytes: t.bytes }));
  const prefixed = plain.map((t) => ({ ...t, name: `roberta.${t.name}` }));
  const head = [{ name: 'lm_head.bias', dtype: 'F32' as const, shape: [8002], bytes: new Uint8Array(4 * 8002) }];
  const { storages, tensors } = contiguousState(prefixed);
  return [
    folder(
      'roberta',
      { ...config, model_type: 'roberta', architectures: ['RobertaModel'] },
      'model.safetensors',
      serializeSafetensors(plain),
    ),
    folder(
      'masked-lm',
      { ...config, architectures: ['XLMRobertaForMaskedLM'] },
      'model.safetensors',
      serializeSafetensors([...prefixed, ...head]),
    ),
    folder('legacy', config, 'pytorch_model.bin', legacyBytes(storages, tensors)),
  ];
}

const FOLDERS: [string, string[], string][] = [
  ['xlmr-tiny/hf (XLMRobertaModel, safetensors)', ['xlmr', 'xlmr-tiny', 'hf'], 'xlmr/xlmr-tiny'],
  ['xlmr-tiny/st (+ mean pooling, Normalize)', ['xlmr', 'xlmr-tiny', 'st'], 'xlmr/xlmr-tiny'],
  ['xlmr-tiny/st-cls (+ CLS pooling, Normalize)', ['xlmr', 'xlmr-tiny', 'st-cls'], 'xlmr/xlmr-tiny'],
  ['xlmr-tiny/bin (pytorch_model.bin, roberta. prefix)', ['xlmr', 'xlmr-tiny', 'bin'], 'xlmr/xlmr-tiny'],
  ['bert-xlmr-tok/st (BertModel, vocab 8 037)', ['xlmr', 'bert-xlmr-tok', 'st'], 'xlmr/bert-xlmr-tok'],
  ['bge-like/st (cased Chinese BERT, CLS + Normalize)', ['bge-like', 'st'], 'bge-like'],
];

for (const backend of BACKENDS) {
  describe(`multilingual and bge-like models on ${backend}`, () => {
    beforeAll(async () => {
      await useBackend(backend);
    });

    for (const [name, dir] of moreLayouts()) {
      it(`${name}: every tensor of refs within 1e-5`, async () => {
        const errs = await compareFolder(dir, fixture('xlmr', 'xlmr-tiny', 'refs.safetensors'));
        expect(Object.keys(errs).length).toBe(24);
        for (const [k, v] of Object.entries(errs)) expect(v, k).toBeLessThanOrEqual(TOL);
      });
    }

    for (const [name, dir, refs] of FOLDERS) {
      it(`${name}: every tensor of refs and refs_long within 1e-5`, async () => {
        const errs = await compareFolder(fixture(...dir), fixture(...refs.split('/'), 'refs.safetensors'));
        const long = await compareFolder(fixture(...dir), fixture(...refs.split('/'), 'refs_long.safetensors'));
        // position ids, hidden states 0..2, attentions, query / attention_output / intermediate per layer, the
        // pools, sentence-transformers' output, the pairs' hidden state and pools: everything the reference holds.
        const layers = [0, 1].flatMap((l) => [
          `attentions.${l}`,
          ...['query', 'attention_output', 'intermediate'].map((k) => `layer.${l}.${k}`),
        ]);
        const pools = ['mean', 'cls', 'max', 'mean_sqrt_len', 'mean_normalized', 'cls_normalized'].map(
          (p) => `pool.${p}`,
        );
        const st = Object.keys(errs).filter((k) => k.startsWith('st.'));
        expect(st.length).toBeGreaterThan(0);
        expect(Object.keys(errs).sort()).toEqual(
          [
            'position_ids',
            'hidden_states.0',
            'hidden_states.1',
            'hidden_states.2',
            'last_hidden_state',
            ...layers,
            ...pools,
            ...st,
          ]
            .concat(['pairs.last_hidden_state', 'pairs.pool.cls', 'pairs.pool.mean'])
            .sort(),
        );
        expect(Object.keys(long).sort()).toEqual([
          'long.last_hidden_state',
          'long.pool.cls',
          'long.pool.mean',
          'long.position_ids',
        ]);
        for (const [k, v] of Object.entries({ ...errs, ...long })) expect(v, k).toBeLessThanOrEqual(TOL);
      });
    }
  });
}

describe('XLM-R hook points', () => {
  it('have the same names as a BertModel of the same shape, and runWithHooks patches them', async () => {
    await useBackend(BACKENDS[0]!);
    const xl = loadModelDir(fixture('xlmr', 'xlmr-tiny', 'hf'));
    const bt = loadModelDir(fixture('xlmr', 'bert-xlmr-tok', 'st'));
    const x = BertModel.load(xl.config, xl.weights);
    const b = BertModel.load(bt.config, bt.weights);
    expect(x.hookNames()).toEqual(b.hookNames());
    expect(x.hookNames()).toContain('embed.hook_pos_embed');
    // zeroing the position embeddings changes the embeddings output: the hook reaches RoBERTa's positions
    const inputs = {
      inputIds: tf.tensor2d([[0, 902, 728, 2]], [1, 4], 'int32'),
      attentionMask: tf.ones([1, 4], 'int32') as tf.Tensor2D,
    };
    const plain = runWithHooks(x, inputs, {}, { outputHiddenStates: true });
    const zeroed = runWithHooks(
      x,
      inputs,
      { 'embed.hook_pos_embed': (t) => tf.zerosLike(t) },
      { outputHiddenStates: true },
    );
    const diff = tf.max(tf.abs(tf.sub(plain.hiddenStates![0]!, zeroed.hiddenStates![0]!)));
    expect((await diff.data())[0]).toBeGreaterThan(0.1);
    tf.dispose([diff, inputs.inputIds, inputs.attentionMask]);
    for (const o of [plain, zeroed]) tf.dispose([o.lastHiddenState, ...(o.hiddenStates ?? [])]);
    x.dispose();
    b.dispose();
  });
});

describe('RoBERTa position ids', () => {
  it('come from the input ids (HF create_position_ids_from_input_ids), padding and a typed <pad> at padding_idx', async () => {
    await useBackend(BACKENDS[0]!);
    const loaded = loadModelDir(fixture('xlmr', 'xlmr-tiny', 'hf'));
    const model = BertModel.load(loaded.config, loaded.weights);
    const table = loaded.weights.get('embeddings.position_embeddings.weight').data;
    const H = loaded.config.hiddenSize;
    const check = async (refsFile: string, prefix: string, extra?: (ids: Int32Array) => void): Promise<void> => {
      const refs = readRefs(refsFile);
      const ids = Int32Array.from(ref(refs, `${prefix}input_ids`).data);
      const expected = Int32Array.from(ref(refs, `${prefix}position_ids`).data);
      extra?.(ids);
      const [B, L] = ref(refs, `${prefix}input_ids`).shape as [number, number];
      if (extra) {
        // a <pad> (id 1) typed in the text: position 1, and the count does not advance (HF's rule)
        for (let b = 0; b < B; b++) {
          let n = 0;
          for (let i = b * L; i < (b + 1) * L; i++) expected[i] = ids[i] === 1 ? 1 : ++n + 1;
        }
      }
      const inputs = {
        inputIds: tf.tensor2d(ids, [B, L], 'int32'),
        attentionMask: tf.tensor2d(Int32Array.from(ref(refs, `${prefix}attention_mask`).data), [B, L], 'int32'),
      };
      const { output, cache } = runWithCache(model, inputs, { names: ['embed.hook_pos_embed'] });
      const got = (await cache.get('embed.hook_pos_embed').data()) as Float32Array;
      for (let i = 0; i < B * L; i++) {
        const p = expected[i]!;
        expect(got.subarray(i * H, (i + 1) * H), `row ${i}`).toEqual(table.subarray(p * H, (p + 1) * H));
      }
      cache.dispose();
      tf.dispose([output.lastHiddenState, inputs.inputIds, inputs.attentionMask]);
    };
    await check(fixture('xlmr', 'xlmr-tiny', 'refs.safetensors'), '');
    await check(fixture('xlmr', 'xlmr-tiny', 'refs_long.safetensors'), 'long.'); // 2..513
    await check(fixture('xlmr', 'xlmr-tiny', 'refs.safetensors'), '', (ids) => {
      ids[3] = 1; // sentence 0, token 3 becomes <pad> with attention 1
    });
    model.dispose();
  });

  it('a sequence longer than max_position_embeddings less the padding offset is an error naming both', async () => {
    await useBackend(BACKENDS[0]!);
    const loaded = loadModelDir(fixture('xlmr', 'xlmr-tiny', 'hf'));
    const model = BertModel.load(loaded.config, loaded.weights);
    const inputs = {
      inputIds: tf.ones([1, 513], 'int32') as tf.Tensor2D,
      attentionMask: tf.ones([1, 513], 'int32') as tf.Tensor2D,
    };
    expect(() => model.forward(inputs)).toThrow(
      /sequence of 513 tokens exceeds max_position_embeddings 514 less the padding offset 2/,
    );
    tf.dispose([inputs.inputIds, inputs.attentionMask]);
    model.dispose();
  });
});
