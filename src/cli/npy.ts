// NumPy .npy (format 1.0) for float32 [rows, cols]: a 64-byte-aligned header, then little-endian data.
// https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html

export function npyHeader(rows: number, cols: number): Uint8Array {
  const dict = `{'descr': '<f4', 'fortran_order': False, 'shape': (${rows}, ${cols}), }`;
  const unpadded = 10 + dict.length + 1; // magic(6) + version(2) + len(2) + dict + '\n'
  const total = Math.ceil(unpadded / 64) * 64;
  const headerText = dict + ' '.repeat(total - unpadded) + '\n';
  const out = new Uint8Array(total);
  out.set([0x93, ...Buffer.from('NUMPY'), 1, 0]);
  new DataView(out.buffer).setUint16(8, headerText.length, true);
  out.set(Buffer.from(headerText, 'latin1'), 10);
  return out;
}

/** Parses a float32 2-D .npy (the format we write) → { shape, data }. */
export function readNpy(buf: Uint8Array): { shape: [number, number]; data: Float32Array } {
  if (buf[0] !== 0x93 || Buffer.from(buf.subarray(1, 6)).toString('latin1') !== 'NUMPY')
    throw new Error('not a .npy file');
  const len = new DataView(buf.buffer, buf.byteOffset).getUint16(8, true);
  const header = Buffer.from(buf.subarray(10, 10 + len)).toString('latin1');
  const m = /'shape': \((\d+), (\d+)\)/.exec(header);
  if (!m || !header.includes("'<f4'")) throw new Error(`unsupported .npy header ${header.trim()}`);
  const shape: [number, number] = [Number(m[1]), Number(m[2])];
  const bytes = buf.slice(10 + len);
  return { shape, data: new Float32Array(bytes.buffer, bytes.byteOffset, shape[0] * shape[1]) };
}
