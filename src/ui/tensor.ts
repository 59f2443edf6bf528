// Tensors off the wire: base64 of little-endian float32 bytes → a Float32Array with its shape.
import type { WireTensor } from '../server/explorer/types.js';

export interface Tensor {
  shape: number[];
  values: Float32Array;
}

export function decodeTensor(t: WireTensor): Tensor {
  const bin = atob(t.data);
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  const view = new DataView(bytes.buffer);
  const values = new Float32Array(bytes.length / 4);
  for (let i = 0; i < values.length; i++) values[i] = view.getFloat32(i * 4, true);
  const n = t.shape.reduce((a, b) => a * b, 1);
  if (n !== values.length) throw new RangeError(`a tensor of shape [${t.shape}] came with ${values.length} values`);
  return { shape: t.shape, values };
}

/** The shortest decimal that reads back as the same float32 (what the page shows as a cell's exact value). */
export function f32(x: number): string {
  return Number.isFinite(x) ? String(Number(x.toPrecision(9))) : String(x);
}
