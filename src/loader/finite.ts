// Non-finite weights. PyTorch loads a NaN or ±Inf weight without a word and every output it touches is then
// NaN; we refuse it at load time, naming the file and the tensor, unless the caller opts out.
import { CheckpointError } from '../errors.js';

/** Index of the first NaN / ±Inf in `a`, or -1 (one pass over the exponent bits). */
export function firstNonFinite(a: Float32Array): number {
  const bits = new Uint32Array(a.buffer, a.byteOffset, a.length);
  for (let i = 0; i < bits.length; i++) if ((bits[i]! & 0x7f800000) === 0x7f800000) return i;
  return -1;
}

function countNonFinite(a: Float32Array, from: number): number {
  let n = 0;
  for (let i = from; i < a.length; i++) if (!Number.isFinite(a[i]!)) n++;
  return n;
}

/** Row-major index → `[i, j, ...]` for a message. */
function position(index: number, shape: readonly number[]): string {
  const idx: number[] = [];
  for (let d = shape.length - 1; d >= 0; d--) {
    const size = shape[d]!;
    idx.unshift(size > 0 ? index % size : 0);
    index = size > 0 ? Math.floor(index / size) : 0;
  }
  return `[${idx.join(', ')}]`;
}

/** Throws a CheckpointError naming `file` and `tensor` when `data` holds a NaN or an infinity. */
export function assertFinite(data: Float32Array, shape: readonly number[], tensor: string, file: string): void {
  const at = firstNonFinite(data);
  if (at < 0) return;
  const n = countNonFinite(data, at);
  throw new CheckpointError(
    `tensor ${tensor} holds ${data[at]} at ${position(at, shape)}${n > 1 ? ` (${n} non-finite values)` : ''}; ` +
      'every output it reaches would be NaN (--allow-nonfinite, or the load option allowNonFinite, loads it anyway)',
    file,
  );
}
