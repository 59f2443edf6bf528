// What the explorer's routes share: request fields checked with a message naming the field, a sentence tokenized
// as the model will see it (cut to the model's length), its batch-1 model inputs, and tensors on the wire.
import * as tf from '@tensorflow/tfjs-core';
import type { SentenceEncoder } from '../../encoder/sentence-encoder.js';
import type { BertInputs } from '../../model/bert.js';
import type { Encoding } from '../../tokenizer/index.js';
import { ApiError } from '../errors.js';
import { bodyObject, checkText } from '../texts.js';
import type { WireTensor } from './types.js';

export { bodyObject };

/** A sentence as the model sees it: its encoding (special tokens included) and whether it was cut. */
export interface Sentence {
  text: string;
  encoding: Encoding;
  truncated: boolean;
}

/** A request field (`key` names it in errors) that must be a non-blank string, tokenized and cut to the model's length. */
export function sentenceOf(encoder: SentenceEncoder, text: unknown, key: string): Sentence {
  if (typeof text !== 'string') {
    throw new ApiError(400, `\`${key}\` must be a string, got ${text === undefined ? 'nothing' : typeof text}`, {
      param: key,
    });
  }
  if (text.trim() === '') throw new ApiError(400, `\`${key}\` is empty: type a sentence`, { param: key });
  checkText(text, key); // a lone surrogate is no character (the other routes refuse it too)
  const max = encoder.maxSeqLength;
  // One token past the limit tells whether the text is longer, without tokenizing all of a huge text.
  const probe = encoder.tokenizer.encode(text, { maxLength: max + 1 });
  const truncated = probe.inputIds.length > max;
  const encoding = truncated ? encoder.tokenizer.encode(text, { maxLength: max }) : probe;
  return { text, encoding, truncated };
}

/** An integer field in [0, limit). */
export function indexField(body: Record<string, unknown>, key: string, limit: number, what: string): number {
  const v = body[key];
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v >= limit) {
    throw new ApiError(400, `\`${key}\` must be an integer ${what} in 0..${limit - 1}, got ${JSON.stringify(v)}`, {
      param: key,
    });
  }
  return v;
}

/** Batch-1 int32 model inputs of one encoding (the caller disposes them, or makes them inside a tidy). */
export function inputsOf(e: Encoding): BertInputs {
  const shape: [number, number] = [1, e.inputIds.length];
  return {
    inputIds: tf.tensor2d(e.inputIds, shape, 'int32'),
    attentionMask: tf.tensor2d(e.attentionMask, shape, 'int32'),
    tokenTypeIds: tf.tensor2d(e.tokenTypeIds, shape, 'int32'),
  };
}

/** float32 values and their shape → base64 of the little-endian bytes. */
export function wireTensor(values: Float32Array, shape: number[]): WireTensor {
  const n = shape.reduce((a, b) => a * b, 1);
  if (n !== values.length) throw new RangeError(`${values.length} values do not fill the shape [${shape}]`);
  const bytes = Buffer.from(values.buffer, values.byteOffset, values.byteLength);
  return { shape, dtype: 'float32', data: bytes.toString('base64') };
}
