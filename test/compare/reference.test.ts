import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compareReference, type ActivationSource, type OurTensor } from '../../src/compare/compare.js';
import { loadReference, type Reference } from '../../src/compare/reference.js';
import { formatTable, toJson } from '../../src/compare/report.js';
import { InputError } from '../../src/errors.js';
import { fixture } from '../fixtures.js';

/** A source that answers with the reference's own tensors, after `edit` (which may perturb them). */
function echoSource(
  ref: Reference,
  edit: (group: string, name: string, t: OurTensor) => void = () => {},
): ActivationSource {
  return async (inputs, names) => {
    const group = ref.groups.find((g) => g.inputs === inputs && g.tensors.some((t) => names.includes(t.name)))!;
    const out = new Map<string, OurTensor>();
    for (const name of names) {
      const t = group.tensors.find((x) => x.name === name)!;
      const mine = { shape: [...t.shape], data: t.data.slice() };
      edit(group.name, name, mine);
      out.set(name, mine);
    }
    return out;
  };
}

function writeSafetensors(
  file: string,
  tensors: Record<string, { dtype: 'F32' | 'I32'; shape: number[]; data: number[] }>,
): void {
  const header: Record<string, unknown> = {};
  const parts: Buffer[] = [];
  let offset = 0;
  for (const [name, t] of Object.entries(tensors)) {
    const buf = Buffer.from((t.dtype === 'F32' ? Float32Array.from(t.data) : Int32Array.from(t.data)).buffer);
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + buf.length] };
    parts.push(buf);
    offset += buf.length;
  }
  const json = Buffer.from(JSON.stringify(header));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.length));
  writeFileSync(file, Buffer.concat([len, json, ...parts]));
}

describe('loadReference', () => {
  it('splits tiny/refs.safetensors into the main batch, pairs and the fp16/bf16 groups', () => {
    const ref = loadReference(fixture('tiny', 'refs.safetensors'));
    expect(ref.groups.map((g) => g.name)).toEqual(['', 'pairs', 'fp16', 'bf16']);
    const [main, pairs, fp16] = ref.groups as [Reference['groups'][0], Reference['groups'][0], Reference['groups'][0]];
    expect([main.inputs.batch, main.inputs.length]).toEqual([14, 18]);
    expect([pairs.inputs.batch, pairs.inputs.length]).toEqual([3, 25]);
    expect(fp16.sharesMainInputs).toBe(true);
    expect(fp16.inputs).toBe(main.inputs);
    expect(main.inputs.inputIds[0]).toBe(101); // [CLS]
    expect(pairs.inputs.tokenTypeIds.some((t) => t === 1)).toBe(true);
    expect(main.tensors.map((t) => t.key)).toContain('layer.1.intermediate');
    expect(pairs.tensors.map((t) => t.name).sort()).toEqual(['last_hidden_state', 'pool.mean']);
    expect(ref.unknown).toEqual([]);
  });

  it('gives refs_long a mask of ones and zero token types', () => {
    const ref = loadReference(fixture('tiny', 'refs_long.safetensors'));
    const long = ref.groups.find((g) => g.name === 'long')!;
    expect([long.inputs.batch, long.inputs.length]).toEqual([1, 512]);
    expect(long.inputs.attentionMask.every((m) => m === 1)).toBe(true);
    expect(long.inputs.tokenTypeIds.every((m) => m === 0)).toBe(true);
  });

  it("reads base's first-two-sentence hidden states", () => {
    const ref = loadReference(fixture('base', 'refs.safetensors'));
    const hs = ref.groups[0]!.tensors.find((t) => t.key === 'hidden_states.7.first2')!;
    expect(hs).toMatchObject({ name: 'hidden_states.7', firstRows: 2, shape: [2, 14, 768] });
  });

  it('rejects files that are not references, naming the file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sbert-ref-'));
    const noIds = join(dir, 'no-ids.safetensors');
    writeSafetensors(noIds, { last_hidden_state: { dtype: 'F32', shape: [1, 1, 1], data: [0] } });
    expect(() => loadReference(noIds)).toThrow(InputError);
    expect(() => loadReference(noIds)).toThrow(`${noIds}: not a reference file: it has no input_ids tensor`);
    const badMask = join(dir, 'bad-mask.safetensors');
    writeSafetensors(badMask, {
      input_ids: { dtype: 'I32', shape: [1, 2], data: [101, 102] },
      attention_mask: { dtype: 'I32', shape: [2, 1], data: [1, 1] },
    });
    expect(() => loadReference(badMask)).toThrow(/attention_mask has shape \[2,1\], but input_ids is \[1, 2\]/);
    expect(() => loadReference(join(dir, 'missing.safetensors'))).toThrow(/missing.safetensors: no such file/);
  });
});

describe('compareReference', () => {
  const ref = loadReference(fixture('tiny', 'refs.safetensors'));

  it('passes with zero error when our tensors equal the reference', async () => {
    const report = await compareReference(ref, echoSource(ref));
    expect(report.ok).toBe(true);
    expect(report.results.every((r) => r.maxAbs === 0)).toBe(true);
    expect(report.results[0]!.key).toBe('hidden_states.0');
    expect(report.results.map((r) => r.key)).toContain('pairs.pool.mean');
    // fp16/bf16 tensors belong to half-precision checkpoints: skipped unless selected.
    expect(report.skipped.map((s) => s.key)).toEqual([
      'fp16.last_hidden_state',
      'fp16.pool.mean',
      'bf16.last_hidden_state',
      'bf16.pool.mean',
    ]);
    const fp16 = await compareReference(ref, echoSource(ref), { groups: ['fp16'] });
    expect(fp16.results.map((r) => r.key)).toEqual(['fp16.last_hidden_state', 'fp16.pool.mean']);
  });

  it('names the first diverging tensor and its worst unpadded position', async () => {
    // Break layer 1's output at sentence 2, token 3, dim 5 and everything downstream of it; also damage a
    // padded position of layer 0's output, which must not count.
    const L = 18;
    const H = 32;
    const mask = ref.groups[0]!.inputs.attentionMask;
    const padded = [...mask].findIndex((m) => m === 0);
    const report = await compareReference(
      ref,
      echoSource(ref, (group, name, t) => {
        if (group !== '') return;
        if (name === 'hidden_states.1') t.data[padded * H] = 1e3;
        if (name === 'hidden_states.2' || name === 'last_hidden_state') t.data[(2 * L + 3) * H + 5]! += 0.5;
        if (name.startsWith('pool.')) t.data[2 * H + 5]! += 0.01;
      }),
      { idToToken: (id) => `#${id}` },
    );
    expect(report.ok).toBe(false);
    expect(report.firstFailure?.key).toBe('hidden_states.2');
    expect(report.firstFailure?.worst).toEqual([2, 3, 5]);
    const id = ref.groups[0]!.inputs.inputIds[2 * L + 3];
    expect(report.firstFailure?.worstLabel).toBe(`[sentence 2, token 3 (#${id}), dim 5]`);
    expect(report.firstFailure!.maxAbs).toBeCloseTo(0.5, 5);
    const byKey = Object.fromEntries(report.results.map((r) => [r.key, r]));
    expect(byKey['hidden_states.1']!.ok).toBe(true);
    expect(byKey['layer.1.intermediate']!.ok).toBe(true);
    expect(byKey['pool.mean']!.ok).toBe(false);
    expect(byKey['pairs.last_hidden_state']!.ok).toBe(true);

    const table = formatTable(report);
    expect(table).toMatch(/^hidden_states\.2\s+\[14, 18, 32\]\s+5\.00e-1 .* FAIL\s+\[sentence 2, token 3/m);
    expect(table).toContain('FAIL: 7 of 21 tensors past tolerance; first divergence: hidden_states.2 (layer 1 output)');
    const json = toJson(report);
    expect(json.ok).toBe(false);
    expect(json.first_failure).toBe('hidden_states.2');
    expect(json.tensors['hidden_states.0']).toMatchObject({ max_abs: 0, mean_abs: 0, ok: true });
    expect(json.tensors['hidden_states.2']!.max_abs).toBeCloseTo(0.5, 5);
  });

  it('refuses a reference whose shapes do not fit the model', async () => {
    const source: ActivationSource = async (inputs, names) =>
      new Map(
        names.map((n) => [
          n,
          { shape: [inputs.batch, inputs.length, 16], data: new Float32Array(inputs.batch * inputs.length * 16) },
        ]),
      );
    const only = {
      ...ref,
      groups: [{ ...ref.groups[0]!, tensors: ref.groups[0]!.tensors.filter((t) => t.key === 'hidden_states.0') }],
    };
    await expect(compareReference(only, source)).rejects.toThrow(
      /hidden_states.0 has shape \[14,18,32\] but the model gives \[14,18,16\]/,
    );
  });
});
