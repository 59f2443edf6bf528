// `sbert dump` / dumpActivations: the tiny fixture's sentences dumped hold the fixture's ids and match every
// HF reference tensor; `sbert compare` reads a dump back exactly; selection, hooks, metadata and bad input.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compareReference, type OurTensor } from '../../src/compare/compare.js';
import { dumpActivations, dumpKeys } from '../../src/compare/dump.js';
import { loadReference } from '../../src/compare/reference.js';
import type { JsonReport } from '../../src/compare/report.js';
import { UsageError } from '../../src/errors.js';
import { decodeFloat32, decodeInt32 } from '../../src/loader/dtype.js';
import { readSafetensors, writeSafetensors } from '../../src/loader/safetensors.js';
import type { BertModel } from '../../src/model/bert.js';
import { BertTokenizer } from '../../src/tokenizer/index.js';
import { errorLine, sbert } from '../cli.js';
import { fixture } from '../fixtures.js';
import { loadHfDir, MAIN_BACKEND, useBackend } from '../model/helpers.js';

const TMP = mkdtempSync(join(tmpdir(), 'sbert-dump-'));
const TINY = fixture('tiny', 'hf');
const SENTENCES = (JSON.parse(readFileSync(fixture('tiny', 'refs.json'), 'utf8')) as { sentences: string[] }).sentences;

/** The file's tensors by name, decoded (ids as int32, the rest as float32). */
function readDump(file: string): Map<string, { shape: number[]; data: Float32Array | Int32Array }> {
  const st = readSafetensors(file);
  return new Map(
    [...st.tensors].map(([k, t]) => [
      k,
      {
        shape: t.shape,
        data: t.dtype === 'I32' ? decodeInt32(t.bytes, t.dtype, file, k) : decodeFloat32(t.bytes, t.dtype, file, k),
      },
    ]),
  );
}

describe(`dumpActivations on the tiny fixture (${MAIN_BACKEND})`, () => {
  let model: BertModel;
  const tokenizer = BertTokenizer.fromDir(TINY);
  beforeAll(async () => {
    await useBackend(MAIN_BACKEND);
    model = loadHfDir(TINY);
  });
  afterAll(() => model.dispose());

  it("holds the fixture batch's ids and every reference tensor within its tolerance (unpadded positions)", async () => {
    const before = tf.memory().numTensors;
    const file = join(TMP, 'lib.safetensors');
    writeSafetensors(file, await dumpActivations(model, tokenizer.encodeBatch(SENTENCES)));
    expect(tf.memory().numTensors).toBe(before);

    const dump = readDump(file);
    const refs = readDump(fixture('tiny', 'refs.safetensors'));
    for (const k of ['input_ids', 'attention_mask', 'token_type_ids']) {
      expect(dump.get(k)!.shape, k).toEqual(refs.get(k)!.shape);
      expect([...dump.get(k)!.data], k).toEqual([...refs.get(k)!.data]);
    }
    expect([...dump.keys()].slice(3)).toEqual(dumpKeys(model.config));

    // The fixture's own reference, compared by sbert compare's rules with what the dump holds
    // (st.* is sentence-transformers' mean pooling, i.e. pool.mean / pool.mean_normalized).
    const fromDump = async (_: unknown, names: string[]) =>
      new Map(names.map((n): [string, OurTensor] => [n, dump.get(n.replace(/^st\./, 'pool.')) as OurTensor]));
    const report = await compareReference(loadReference(fixture('tiny', 'refs.safetensors')), fromDump, {
      groups: ['main'],
    });
    expect(report.results.map((r) => r.key).sort()).toEqual(
      [...dumpKeys(model.config), 'st.mean', 'st.mean_normalized'].sort(),
    );
    for (const r of report.results) expect(r.maxAbs, r.key).toBeLessThanOrEqual(1e-5);
    expect(report.ok).toBe(true);
  });

  it('writes only the selected tensors and hook points; a hook equals its reference twin', async () => {
    const encs = tokenizer.encodeBatch(SENTENCES.slice(0, 3));
    const tensors = await dumpActivations(model, encs, {
      tensors: ['attentions.1', 'pool'],
      hooks: ['blocks.1.attn.hook_pattern', 'blocks.0.mlp.hook_post'],
    });
    expect(tensors.map((t) => t.name)).toEqual([
      'input_ids',
      'attention_mask',
      'token_type_ids',
      'attentions.1',
      'pool.mean',
      'pool.cls',
      'pool.max',
      'pool.mean_sqrt_len',
      'pool.mean_normalized',
      'blocks.0.mlp.hook_post',
      'blocks.1.attn.hook_pattern',
    ]);
    const bytes = (n: string) => tensors.find((t) => t.name === n)!.bytes as Uint8Array;
    expect(Buffer.from(bytes('blocks.1.attn.hook_pattern')).equals(Buffer.from(bytes('attentions.1')))).toBe(true);
    const full = await dumpActivations(model, encs, { tensors: ['layer.0.intermediate'] });
    expect(Buffer.from(bytes('blocks.0.mlp.hook_post')).equals(Buffer.from(full[3]!.bytes as Uint8Array))).toBe(true);
  });

  it('refuses what would be too big, unknown selections and unpadded batches, before any forward', async () => {
    const encs = tokenizer.encodeBatch(SENTENCES);
    const before = tf.memory().numTensors;
    await expect(dumpActivations(model, encs, { maxBytes: 10_000 })).rejects.toThrow(
      /would hold .* GiB \(14 texts × \d+ tokens; limit/,
    );
    await expect(dumpActivations(model, encs, { tensors: ['attention'] })).rejects.toThrow(UsageError);
    await expect(dumpActivations(model, encs, { tensors: ['attentions.2'] })).rejects.toThrow(
      /"attentions.2" names no tensor/,
    );
    await expect(dumpActivations(model, encs, { hooks: ['blocks.0.hook_nothing'] })).rejects.toThrow(
      /no hook point "blocks.0.hook_nothing"/,
    );
    await expect(dumpActivations(model, tokenizer.encodeBatch(SENTENCES, { padding: false }))).rejects.toThrow(
      /padded to one length/,
    );
    await expect(dumpActivations(model, [])).rejects.toThrow(/no texts/);
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('sbert dump', () => {
  it('writes what sbert compare reads back exactly, with the texts in its metadata', async () => {
    const input = join(TMP, 'sentences.txt');
    writeFileSync(input, `${SENTENCES.join('\n')}\n`);
    const out = join(TMP, 'cli.safetensors');
    const run = await sbert(['dump', '--model', TINY, '--input', input, '--out', out, '--backend', MAIN_BACKEND]);
    expect(run.code, run.stderr).toBe(0);
    const meta = readSafetensors(out).metadata;
    expect(JSON.parse(meta.texts!)).toEqual(SENTENCES);
    expect(meta.backend).toBe(MAIN_BACKEND);

    const back = await sbert(['compare', '--model', TINY, '--reference', out, '--json', '--backend', MAIN_BACKEND]);
    expect(back.code, back.stderr).toBe(0);
    const json = JSON.parse(back.stdout) as JsonReport;
    expect(Object.keys(json.tensors)).toEqual(dumpKeys(loadHfDir(TINY).config));
    for (const [name, t] of Object.entries(json.tensors)) expect(t.max_abs, name).toBe(0); // same backend, same batches
  });

  it('takes texts as arguments, and --tensors / --hooks', async () => {
    const out = join(TMP, 'args.safetensors');
    const run = await sbert([
      'dump',
      '那个人很开心',
      '一个男人在弹吉他。',
      '--model',
      TINY,
      '--out',
      out,
      '--tensors',
      'hidden_states.2,last_hidden_state',
      '--hooks',
      'blocks.1.hook_resid_post',
      '--backend',
      MAIN_BACKEND,
    ]);
    expect(run.code, run.stderr).toBe(0);
    const dump = readDump(out);
    expect([...dump.keys()]).toEqual([
      'input_ids',
      'attention_mask',
      'token_type_ids',
      'hidden_states.2',
      'last_hidden_state',
      'blocks.1.hook_resid_post',
    ]);
    expect(dump.get('input_ids')!.shape).toEqual([2, 11]);
    expect([...dump.get('hidden_states.2')!.data]).toEqual([...dump.get('last_hidden_state')!.data]);
    expect(dump.get('blocks.1.hook_resid_post')!.shape).toEqual([2, 11, 32]);
  });

  it("--pairs: the fixture's sentence pairs give its pairs.* ids and tensors (≤ 1e-5)", async () => {
    const pairs = (JSON.parse(readFileSync(fixture('tiny', 'refs.json'), 'utf8')) as { pairs: [string, string][] })
      .pairs;
    const out = join(TMP, 'pairs.safetensors');
    const input = pairs.map(([a, b]) => JSON.stringify({ a, b })).join('\n');
    const run = await sbert(
      [
        'dump',
        '--pairs',
        '--model',
        TINY,
        '--out',
        out,
        '--tensors',
        'last_hidden_state,pool.mean',
        '--backend',
        MAIN_BACKEND,
      ],
      { input },
    );
    expect(run.code, run.stderr).toBe(0);
    const dump = readDump(out);
    const refs = readDump(fixture('tiny', 'refs.safetensors'));
    for (const k of ['input_ids', 'attention_mask', 'token_type_ids'])
      expect([...dump.get(k)!.data], k).toEqual([...refs.get(`pairs.${k}`)!.data]);
    expect(Math.max(...dump.get('token_type_ids')!.data)).toBe(1);
    const mask = dump.get('attention_mask')!.data;
    const H = 32;
    const got = dump.get('last_hidden_state')!.data;
    const want = refs.get('pairs.last_hidden_state')!.data;
    let worst = 0;
    for (let t = 0; t < mask.length; t++)
      if (mask[t]) for (let c = 0; c < H; c++) worst = Math.max(worst, Math.abs(got[t * H + c]! - want[t * H + c]!));
    expect(worst).toBeLessThanOrEqual(1e-5);
    const pm = dump.get('pool.mean')!.data;
    const pw = refs.get('pairs.pool.mean')!.data;
    expect(Math.max(...[...pm].map((x, i) => Math.abs(x - pw[i]!)))).toBeLessThanOrEqual(1e-5);
    expect(JSON.parse(readSafetensors(out).metadata.texts!)).toEqual(pairs.map(([a, b]) => ({ a, b })));
  });

  it('fails with one error line: bad selection, no texts, wrong --out, pairs as arguments (1); missing model, bad pair line (2)', async () => {
    const out = join(TMP, 'bad.safetensors');
    const cases: [string[], number, RegExp][] = [
      [['dump', 'x', '--model', TINY, '--out', out, '--tensors', 'attn'], 1, /--tensors: "attn" names no tensor/],
      [
        ['dump', 'x', '--model', TINY, '--out', out, '--hooks', 'blocks.9.hook_resid_post'],
        1,
        /--hooks: no hook point/,
      ],
      [['dump', '--model', TINY, '--out', out], 1, /no texts/],
      [['dump', 'x', '--model', TINY, '--out', join(TMP, 'x.npy')], 1, /--out must end in \.safetensors/],
      [['dump', 'x', '--model', join(TMP, 'nowhere'), '--out', out], 2, /nowhere/],
      [['dump', 'x', '--pairs', '--model', TINY, '--out', out], 1, /--pairs reads \{"a", "b"\} lines/],
    ];
    for (const [args, code, message] of cases) {
      const run = await sbert([...args, '--backend', MAIN_BACKEND]);
      expect(run.code, args.join(' ')).toBe(code);
      expect(errorLine(run)).toMatch(message);
    }
    const badPair = await sbert(['dump', '--pairs', '--model', TINY, '--out', out, '--backend', MAIN_BACKEND], {
      input: '{"a": "x", "b": 3}\n',
    });
    expect(badPair.code).toBe(2);
    expect(errorLine(badPair)).toMatch(/<stdin>: line 1: "b" must be a string or null/);
  });
});
