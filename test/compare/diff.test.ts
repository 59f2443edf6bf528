import { describe, expect, it } from 'vitest';
import { compareTensors, describeIndex, unravel } from '../../src/compare/diff.js';
import { dataFlowRank, parseKey } from '../../src/compare/catalog.js';

const f32 = (xs: number[]): Float32Array => Float32Array.from(xs);

describe('compareTensors', () => {
  it('ignores padded tokens of [B, L, D] and finds the worst unpadded element', () => {
    // B=2, L=3, D=2; sentence 1 has one padded token (l=2) holding a huge difference that must not count.
    const ref = f32([0, 0, 0, 0, 0, 0, /* b1 */ 0, 0, 0, 0, 0, 0]);
    const ours = f32([0, 0.1, 0, 0, -0.25, 0, /* b1 */ 0, 0, 0.5, 0, 99, -99]);
    const mask = [1, 1, 1, 1, 1, 0];
    const d = compareTensors(ref, ours, [2, 3, 2], 'tokens', mask, 3);
    expect(d.count).toBe(10);
    expect(d.maxAbs).toBeCloseTo(0.5, 7);
    expect(d.worst).toEqual([1, 1, 0]);
    expect(d.meanAbs).toBeCloseTo((0.1 + 0.25 + 0.5) / 10, 7);
    expect(d.ourValue).toBeCloseTo(0.5, 7);
    expect(describeIndex(d.worst, 'tokens', (b, l) => ['那', '个'][l])).toBe('[sentence 1, token 1 (个), dim 0]');
  });

  it('masks attention on both query and key positions', () => {
    // B=1, heads=2, L=2; token 1 is padding: only [h, 0, 0] counts.
    const ref = f32([0.5, 0.5, 0.5, 0.5, 0.2, 0.8, 0.3, 0.7]);
    const ours = f32([0.5, 9, 9, 9, 0.1, 9, 9, 9]);
    const d = compareTensors(ref, ours, [1, 2, 2, 2], 'attention', [1, 0], 2);
    expect(d.count).toBe(2);
    expect(d.maxAbs).toBeCloseTo(0.1, 6);
    expect(d.worst).toEqual([0, 1, 0, 0]);
    expect(describeIndex(d.worst, 'attention', () => '[CLS]')).toBe(
      '[sentence 0, head 1, query 0 ([CLS]), key 0 ([CLS])]',
    );
  });

  it('compares every element of pooled rows', () => {
    const d = compareTensors(f32([1, 2, 3, 4]), f32([1, 2, 3, 3.5]), [2, 2], 'rows', null);
    expect(d).toMatchObject({ maxAbs: 0.5, count: 4, worst: [1, 1] });
    expect(describeIndex(d.worst, 'rows')).toBe('[sentence 1, dim 1]');
  });

  it('treats a NaN on our side as an infinite error', () => {
    const d = compareTensors(f32([1, 2]), f32([1, NaN]), [1, 2], 'rows', null);
    expect(d.maxAbs).toBe(Infinity);
    expect(d.worst).toEqual([0, 1]);
  });

  it('rejects a mask that does not fit the shape', () => {
    expect(() => compareTensors(f32([0, 0]), f32([0, 0]), [1, 2, 1], 'tokens', [1, 1, 1], 3)).toThrow(/mask/);
  });

  it('unravels row-major indices', () => {
    expect(unravel(0, [2, 3, 4])).toEqual([0, 0, 0]);
    expect(unravel(23, [2, 3, 4])).toEqual([1, 2, 3]);
    expect(unravel(13, [2, 3, 4])).toEqual([1, 0, 1]);
  });
});

describe('reference keys', () => {
  it("parses the fixtures' names", () => {
    expect(parseKey('hidden_states.0')).toEqual({
      name: 'hidden_states.0',
      tensor: { kind: 'hidden_states', index: 0 },
    });
    expect(parseKey('hidden_states.11.first2')).toEqual({
      name: 'hidden_states.11',
      tensor: { kind: 'hidden_states', index: 11 },
      firstRows: 2,
    });
    expect(parseKey('layer.1.attention_output')?.tensor).toEqual({ kind: 'attention_output', layer: 1 });
    expect(parseKey('pool.mean_sqrt_len')?.tensor).toEqual({ kind: 'pool', pool: 'mean_sqrt_len' });
    expect(parseKey('st.mean_normalized')?.tensor).toEqual({ kind: 'st', pool: 'mean_normalized' });
    expect(parseKey('pool.median')).toBeNull();
    expect(parseKey('pairs.last_hidden_state')).toBeNull();
  });

  it('orders tensors along the forward', () => {
    const names = [
      'pool.mean',
      'hidden_states.2',
      'layer.1.intermediate',
      'attentions.1',
      'layer.1.query',
      'last_hidden_state',
      'layer.0.attention_output',
      'hidden_states.1',
      'st.mean',
      'attentions.0',
      'hidden_states.0',
      'layer.10.query',
      'hidden_states.10',
    ];
    const sorted = [...names].sort((a, b) => dataFlowRank(parseKey(a)!.tensor) - dataFlowRank(parseKey(b)!.tensor));
    expect(sorted).toEqual([
      'hidden_states.0',
      'attentions.0',
      'layer.0.attention_output',
      'hidden_states.1',
      'layer.1.query',
      'attentions.1',
      'layer.1.intermediate',
      'hidden_states.2',
      'hidden_states.10',
      'layer.10.query',
      'last_hidden_state',
      'pool.mean',
      'st.mean',
    ]);
  });
});
