// SentenceEncoder end to end (text → tokenizer picked from the folder → model → the folder's pooling and
// Normalize) on the XLM-R, BertModel + XLM-R tokenizer and bge-like folders, against sentence-transformers'
// own encode() output (st.*), and its tokenization against the reference batch.
import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { SentenceEncoder } from '../../src/encoder/sentence-encoder.js';
import { readSafetensors } from '../../src/loader/safetensors.js';
import { decodeFloat32, decodeInt32 } from '../../src/loader/dtype.js';
import { fixture } from '../fixtures.js';
import { maxAbsRows } from './helpers.js';

function rowsOf(file: string, key: string): Float32Array[] {
  const t = readSafetensors(file).tensors.get(key);
  if (!t) throw new Error(`${file}: no ${key}`);
  const data =
    t.dtype === 'I32' || t.dtype === 'I64'
      ? Float32Array.from(decodeInt32(t.bytes, t.dtype, file, key))
      : decodeFloat32(t.bytes, t.dtype, file, key);
  const [n, d] = t.shape as [number, number];
  return Array.from({ length: n }, (_, i) => data.slice(i * d, (i + 1) * d));
}

const CASES: {
  name: string;
  dir: string[];
  refs: string[];
  st: string;
  kind: string;
  pooling: string;
  normalize: boolean;
}[] = [
  {
    name: 'xlmr-tiny/st',
    dir: ['xlmr', 'xlmr-tiny', 'st'],
    refs: ['xlmr', 'xlmr-tiny'],
    st: 'st.mean_normalized',
    kind: 'unigram',
    pooling: 'mean',
    normalize: true,
  },
  {
    name: 'xlmr-tiny/st-cls',
    dir: ['xlmr', 'xlmr-tiny', 'st-cls'],
    refs: ['xlmr', 'xlmr-tiny'],
    st: 'st.cls_normalized',
    kind: 'unigram',
    pooling: 'cls',
    normalize: true,
  },
  {
    name: 'bert-xlmr-tok/st',
    dir: ['xlmr', 'bert-xlmr-tok', 'st'],
    refs: ['xlmr', 'bert-xlmr-tok'],
    st: 'st.mean',
    kind: 'unigram',
    pooling: 'mean',
    normalize: false,
  },
  {
    name: 'bge-like/st',
    dir: ['bge-like', 'st'],
    refs: ['bge-like'],
    st: 'st.cls_normalized',
    kind: 'wordpiece',
    pooling: 'cls',
    normalize: true,
  },
];

describe('SentenceEncoder on multilingual and bge-like folders', () => {
  for (const c of CASES) {
    it(`${c.name}: tokenizes as the reference batch and encodes as sentence-transformers (≤ 1e-5)`, async () => {
      const refsFile = fixture(...c.refs, 'refs.safetensors');
      const meta = JSON.parse(readFileSync(fixture(...c.refs, 'refs.json'), 'utf8')) as { sentences: string[] };
      const enc = await SentenceEncoder.load(fixture(...c.dir), { backend: 'wasm', workers: 1 });
      try {
        expect(enc.tokenizer.kind).toBe(c.kind);
        expect(enc.pooling).toBe(c.pooling);
        expect(enc.loaded.normalize ?? false).toBe(c.normalize);
        expect(enc.maxSeqLength).toBe(512);
        // the reference batch, unpadded, is our tokenization of the sentences
        const ids = rowsOf(refsFile, 'input_ids');
        const mask = rowsOf(refsFile, 'attention_mask');
        enc.tokenize(meta.sentences).forEach((e, i) => {
          const n = mask[i]!.reduce((a, b) => a + b, 0);
          expect(e.inputIds, meta.sentences[i]).toEqual(Array.from(ids[i]!.subarray(0, n)));
        });
        await enc.encode(['warm-up: the model is uploaded on first use']);
        const before = tf.memory().numTensors;
        const got = await enc.encode(meta.sentences, { batchSize: 4 });
        expect(maxAbsRows(got, rowsOf(refsFile, c.st))).toBeLessThanOrEqual(1e-5);
        expect(tf.memory().numTensors).toBe(before);
      } finally {
        await enc.dispose();
      }
    });
  }

  it('a worker pool gives what one thread gives (XLM-R config travels to the workers)', async () => {
    const refsFile = fixture('xlmr', 'xlmr-tiny', 'refs.safetensors');
    const meta = JSON.parse(readFileSync(fixture('xlmr', 'xlmr-tiny', 'refs.json'), 'utf8')) as { sentences: string[] };
    const enc = await SentenceEncoder.load(fixture('xlmr', 'xlmr-tiny', 'st'), { backend: 'wasm', workers: 2 });
    try {
      const got = await enc.encode(meta.sentences, { batchSize: 3 });
      expect(maxAbsRows(got, rowsOf(refsFile, 'st.mean_normalized'))).toBeLessThanOrEqual(1e-5);
    } finally {
      await enc.dispose();
    }
  });
});
