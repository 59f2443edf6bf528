// The inputs every suite and the PyTorch anchor share: STS-B sentences, the token-id grid batches and
// the length-sorted STS-B batches, built the same way each run so both sides see identical ids.
import { readFileSync } from 'node:fs';
import { encodeJobs, padBatch, planBatches } from '../src/encoder/batches.js';
import type { Tokenizer } from '../src/tokenizer/index.js';
import { corpus } from '../test/fixtures.js';

/** Both sentences of every line of `sts-b.<split>.tsv`, in file order; `distinct` drops repeats. */
export function stsSentences(split: 'train' | 'test', distinct = false): string[] {
  const out: string[] = [];
  for (const line of readFileSync(corpus(`sts-b.${split}.tsv`), 'utf8').split('\n')) {
    const cols = line.split('\t');
    if (cols.length < 2) continue;
    out.push(cols[0]!, cols[1]!);
  }
  return distinct ? [...new Set(out)] : out;
}

/** One padded batch of ids, row-major [batch, length]. */
export interface IdBatch {
  batch: number;
  length: number;
  inputIds: Int32Array;
  attentionMask: Int32Array;
  /** Unpadded tokens in the batch. */
  tokens: number;
}

/**
 * A [batch, length] batch of ids with no padding: [CLS] (101), pseudo-random ids from the word-piece
 * range of the Chinese vocabulary, [SEP] (102). The generator is a fixed LCG, so every run, and the
 * PyTorch side, get the same ids.
 */
export function gridBatch(batch: number, length: number, vocabSize = 21128): IdBatch {
  const inputIds = new Int32Array(batch * length);
  let s = (batch * 7919 + length) >>> 0;
  for (let i = 0; i < inputIds.length; i++) {
    const col = i % length;
    if (col === 0) inputIds[i] = 101;
    else if (col === length - 1) inputIds[i] = 102;
    else {
      s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
      inputIds[i] = 1000 + (s % (vocabSize - 1000));
    }
  }
  return { batch, length, inputIds, attentionMask: new Int32Array(batch * length).fill(1), tokens: batch * length };
}

/** The sentences as SentenceEncoder batches them: tokenized, truncated, longest first, padded per batch. */
export function sentenceBatches(
  tok: Tokenizer,
  sentences: readonly string[],
  batchSize: number,
  maxLength = 512,
): IdBatch[] {
  const enc = sentences.map((s) => tok.encode(s, { maxLength }));
  return planBatches(enc, batchSize).map((rows) => {
    const j = padBatch(enc, rows, tok.padId);
    const tokens = rows.reduce((a, r) => a + enc[r]!.inputIds.length, 0);
    return { batch: j.batch, length: j.length, inputIds: j.ids, attentionMask: j.mask, tokens };
  });
}

/**
 * The padded batches SentenceEncoder runs for `sentences` under batching key `key` (a backend's name, or
 * `wasm+blas`: the encoder's `batching`; sorted, cut for a CPU backend), with the input positions of each batch's
 * rows: what the anchors run to time the same work.
 */
export function encodeBatches(
  tok: Tokenizer,
  sentences: readonly string[],
  batchSize: number,
  key: string,
  maxLength = 512,
): (IdBatch & { rows: number[] })[] {
  const enc = sentences.map((s) => tok.encode(s, { maxLength }));
  return encodeJobs(enc, batchSize, tok.padId, key).map((j) => ({
    batch: j.batch,
    length: j.length,
    inputIds: j.ids,
    attentionMask: j.mask,
    tokens: j.rows.reduce((a, r) => a + enc[r]!.inputIds.length, 0),
    rows: j.rows,
  }));
}

/** Nested arrays for JSON (the anchor's input). */
export function toRows(b: IdBatch): { input_ids: number[][]; attention_mask: number[][] } {
  const rows = (a: Int32Array) =>
    Array.from({ length: b.batch }, (_, r) => Array.from(a.subarray(r * b.length, (r + 1) * b.length)));
  return { input_ids: rows(b.inputIds), attention_mask: rows(b.attentionMask) };
}
