// References for the encoder tests: the fixture sentences and sentence-transformers' embeddings of them.
import { readFileSync } from 'node:fs';
import { fixture } from '../fixtures.js';
import { maxDiff } from '../values.js';
import { readSafetensors } from '../../src/loader/safetensors.js';
import { decodeFloat32 } from '../../src/loader/dtype.js';

export interface StRefs {
  sentences: string[];
  /** rows of st.mean / st.mean_normalized, one per sentence */
  mean: Float32Array[];
  normalized: Float32Array[];
}

export function stRefs(name: 'tiny' | 'base'): StRefs {
  const meta = JSON.parse(readFileSync(fixture(name, 'refs.json'), 'utf8')) as { sentences: string[] };
  const file = fixture(name, 'refs.safetensors');
  const st = readSafetensors(file);
  const rows = (key: string): Float32Array[] => {
    const t = st.tensors.get(key);
    if (!t) throw new Error(`${file}: no ${key}`);
    const data = decodeFloat32(t.bytes, t.dtype, file, key);
    const [n, d] = t.shape as [number, number];
    return Array.from({ length: n }, (_, i) => data.slice(i * d, (i + 1) * d));
  };
  return { sentences: meta.sentences, mean: rows('st.mean'), normalized: rows('st.mean_normalized') };
}

/** Max over rows of max |got − want|; NaN if any row is missing. */
export function maxAbsRows(got: ArrayLike<number>[], want: ArrayLike<number>[]): number {
  if (got.length !== want.length) throw new Error(`${got.length} rows vs ${want.length}`);
  return Math.max(...got.map((g, i) => maxDiff(g, want[i]!)));
}

/** A deterministic permutation with duplicates: every index at least once, some twice. */
export function shuffledWithDuplicates(n: number): number[] {
  const idx = Array.from({ length: n }, (_, i) => i);
  let s = 12345;
  for (let i = n - 1; i > 0; i--) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    const j = s % (i + 1);
    [idx[i], idx[j]] = [idx[j]!, idx[i]!];
  }
  return [...idx, idx[0]!, idx[n - 1]!, idx[Math.floor(n / 2)]!];
}
