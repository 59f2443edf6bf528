// Shared by the loader tests: a scratch folder under os.tmpdir() and the reference (tiny/hf) weights.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { readSafetensors } from '../../src/loader/safetensors.js';
import { decodeFloat32 } from '../../src/loader/dtype.js';
import { fixture } from '../fixtures.js';

/** A fresh temp folder removed after the file's tests. */
export function scratch(tag: string): string {
  const dir = mkdtempSync(join(tmpdir(), `sbert-loader-${tag}-`));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** tiny/hf/model.safetensors as name → {shape, data} (float32). */
export function referenceWeights(): Map<string, { shape: number[]; data: Float32Array }> {
  const f = readSafetensors(fixture('tiny', 'hf', 'model.safetensors'));
  const out = new Map<string, { shape: number[]; data: Float32Array }>();
  for (const [name, t] of f.tensors)
    out.set(name, { shape: t.shape, data: decodeFloat32(t.bytes, t.dtype, f.file, name) });
  return out;
}

/** Bitwise equality of two float32 arrays (NaN-safe), returning the first differing index or -1. */
export function firstBitDifference(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return 0;
  const ua = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const ub = new Uint32Array(b.buffer, b.byteOffset, b.length);
  // Views may sit at unaligned-to-4 offsets only if Float32Array allowed it, which it does not.
  for (let i = 0; i < ua.length; i++) if (ua[i] !== ub[i]) return i;
  return -1;
}
