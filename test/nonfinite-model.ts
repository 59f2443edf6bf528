// Models with a weight that is NaN (or large enough to overflow): tiny/fp16 with one half-precision element
// replaced, written under a temp folder. For the tests that every entry point refuses them at load, and that
// with allowNonFinite no NaN reaches an output.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fixture } from './fixtures.js';

/** tiny/fp16 copied to `tmp/name` with `tensor`'s element `at` set to the half-precision bits `bits`. */
export function patchedFp16(tmp: string, name: string, tensor: string, at: number, bits: number): string {
  const dir = join(tmp, name);
  const src = fixture('tiny', 'fp16');
  mkdirSync(dir, { recursive: true });
  for (const f of ['config.json', 'vocab.txt']) writeFileSync(join(dir, f), readFileSync(join(src, f)));
  const buf = Buffer.from(readFileSync(join(src, 'model.safetensors')));
  const n = Number(buf.readBigUInt64LE(0));
  const header = JSON.parse(buf.subarray(8, 8 + n).toString()) as Record<string, { data_offsets: [number, number] }>;
  buf.writeUInt16LE(bits, 8 + n + header[tensor]!.data_offsets[0] + 2 * at);
  writeFileSync(join(dir, 'model.safetensors'), buf);
  return dir;
}

/** A model whose embeddings.LayerNorm.weight[3] is NaN (fp16 0x7E00): every output it reaches is NaN. */
export const nanModel = (tmp: string): string => patchedFp16(tmp, 'nan', 'embeddings.LayerNorm.weight', 3, 0x7e00);
