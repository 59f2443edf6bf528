// Tensors off the wire: base64 of little-endian float32 bytes → a Float32Array with its shape.
import type { WireTensor } from '../server/explorer/types.js';

export interface Tensor {
  shape: number[];
  values: Float32Array;
}

export function decodeTensor(t: WireTensor): Tensor {
  const bytes = fromBase64(t.data);
  if (bytes.length % 4 !== 0) throw new RangeError(`a float32 tensor came with ${bytes.length} bytes`);
  let values: Float32Array;
  if (LITTLE_ENDIAN) {
    values = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4);
  } else {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    values = new Float32Array(bytes.length / 4);
    for (let i = 0; i < values.length; i++) values[i] = view.getFloat32(i * 4, true);
  }
  const n = t.shape.reduce((a, b) => a * b, 1);
  if (n !== values.length) throw new RangeError(`a tensor of shape [${t.shape}] came with ${values.length} values`);
  return { shape: t.shape, values };
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Base64 → bytes: the browser's own decoder where it has one (Uint8Array.fromBase64), else atob. */
function fromBase64(data: string): Uint8Array {
  const native = (Uint8Array as unknown as { fromBase64?: (s: string) => Uint8Array }).fromBase64;
  if (native) return native(data);
  const bin = atob(data);
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  return bytes;
}

/** Nine significant digits, trailing zeros dropped: enough to read back as the same float32 (a cell's exact value). */
export function f32(x: number): string {
  return Number.isFinite(x) ? String(Number(x.toPrecision(9))) : String(x);
}
