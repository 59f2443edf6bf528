// Byte helpers shared by the checkpoint writers.

/** The parts in one fresh Uint8Array that owns its whole buffer (offset 0; unlike Buffer.concat, which may
 * return a view into Node's shared pool — callers hand `.buffer` on). */
export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((a, p) => a + p.byteLength, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.byteLength;
  }
  return out;
}
