// SYNTHETIC.md: the generator reproduces base/refs.json → weights (every tensor's float64 sum and first four
// values), and `sbert synth` writes a folder that loads back to the same values in f32, f16 and bf16.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { synthDir } from '../../src/cli/synth.js';
import { parseHfConfig } from '../../src/loader/config.js';
import { toBFloat16Bits, toFloat16Bits } from '../../src/loader/dtype.js';
import { bertShapes } from '../../src/loader/keys.js';
import { loadModelDir } from '../../src/loader/model-dir.js';
import { fnv1a32, synthesize, synthTensor, synthValue } from '../../src/loader/synth.js';
import { fixture } from '../fixtures.js';
import { scratch } from './helpers.js';

interface RefWeight {
  shape: number[];
  sum: number;
  first: number[];
  fnv1a32: number;
  scale_offset: [number, number];
}
const refs = JSON.parse(readFileSync(fixture('base', 'refs.json'), 'utf8')) as { weights: Record<string, RefWeight> };
const tmp = scratch('synth');

describe('synthetic weights', () => {
  it('matches the worked example of SYNTHETIC.md', () => {
    const name = 'encoder.layer.0.attention.self.query.weight';
    expect(fnv1a32(name)).toBe(2551864694);
    const v = synthTensor(name, [1, 4]);
    expect([...v].map((x) => Number(x.toFixed(8)))).toEqual([0.06495506, 0.04321143, 0.01538535, -0.00144062]);
    expect(synthValue(name, 3)).toBe(v[3]);
  });

  it('reproduces every tensor of base/refs.json (names, shapes, sums, first values)', () => {
    const { config } = parseHfConfig(
      'base/hf/config.json',
      JSON.parse(readFileSync(fixture('base', 'hf', 'config.json'), 'utf8')),
    );
    expect([...bertShapes(config).keys()].sort()).toEqual(Object.keys(refs.weights).sort());
    const w = synthesize(config);
    let worst = 0;
    for (const [name, r] of Object.entries(refs.weights)) {
      const t = w.get(name, r.shape);
      expect(fnv1a32(name), name).toBe(r.fnv1a32);
      let sum = 0;
      for (let i = 0; i < t.data.length; i++) sum += t.data[i]!;
      worst = Math.max(worst, Math.abs(sum - r.sum) / Math.max(1, Math.abs(r.sum)));
      expect([...t.data.subarray(0, 4)], name).toEqual(r.first.map(Math.fround));
    }
    expect(worst).toBeLessThan(1e-9);
  });

  it.each(['f32', 'f16', 'bf16'] as const)(
    'sbert synth --dtype %s writes a folder that loads back exactly',
    (dtype) => {
      const out = join(tmp, dtype);
      synthDir(fixture('tiny', 'hf', 'config.json'), out, dtype);
      const m = loadModelDir(out);
      expect(m.dtypes).toEqual([dtype === 'f32' ? 'F32' : dtype.toUpperCase()]);
      expect(JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'))).toEqual(
        JSON.parse(readFileSync(fixture('tiny', 'hf', 'config.json'), 'utf8')),
      );
      const f = new Float32Array(1);
      const u = new Uint32Array(f.buffer);
      for (const [name, shape] of bertShapes(m.config)) {
        const want = synthTensor(name, shape);
        const got = m.weights.get(name, shape).data;
        for (let i = 0; i < want.length; i += 97) {
          if (dtype === 'f32') expect(got[i]).toBe(want[i]);
          else if (dtype === 'bf16') {
            u[0] = toBFloat16Bits(want[i]!) << 16;
            expect(got[i]).toBe(f[0]);
          } else {
            // half ↔ float32 is exact for every half, so re-encoding the decoded value gives the same bits.
            expect(toFloat16Bits(got[i]!)).toBe(toFloat16Bits(want[i]!));
            expect(Math.abs(got[i]! - want[i]!)).toBeLessThanOrEqual(Math.abs(want[i]!) * 2 ** -11 + 2 ** -25);
          }
        }
      }
    },
  );
});
