// `sbert tokenize` end to end: spawns the built CLI (built by test/global-setup.ts).
import { mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { errorLine, sbert as run } from '../cli.js';
import { BertTokenizer } from '../../src/tokenizer/index.js';
import type { Case, PairCase } from './cases.js';
import { fixture } from '../fixtures.js';

const MODEL = fixture('tiny', 'hf');
const zh = BertTokenizer.fromDir(MODEL);

const sbert = (args: string[], input: string, cwd?: string): ReturnType<typeof run> =>
  run(['tokenize', ...args], { input, ...(cwd ? { cwd } : {}) });

const outputs = (stdout: string): Record<string, unknown>[] =>
  stdout
    .split('\n')
    .filter((l) => l)
    .map((l) => JSON.parse(l) as Record<string, unknown>);

describe('sbert tokenize', () => {
  it('prints what HF gives for each line: ids, types, mask, tokens, code-point offsets', async () => {
    const all = readFileSync(fixture('tokenizer', 'cases.jsonl'), 'utf8')
      .split('\n')
      .filter((l) => l);
    const cases = [...all.slice(0, 60), ...all.slice(60, 2516).filter((_, i) => i % 50 === 0)].map(
      (l) => JSON.parse(l) as Case,
    );
    const r = await sbert(['--model', MODEL], cases.map((c) => JSON.stringify(c.text)).join('\n') + '\n');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = outputs(r.stdout);
    expect(out.length).toBe(cases.length);
    cases.forEach((c, i) => {
      expect(out[i], c.text).toEqual({
        input_ids: c.input_ids,
        token_type_ids: c.input_ids.map(() => 0),
        attention_mask: c.input_ids.map(() => 1),
        tokens: c.tokens,
        offsets: c.offsets,
      });
    });
  });

  it('--pairs and --max-length truncate longest_first like HF', async () => {
    const pairs = JSON.parse(readFileSync(fixture('tokenizer', 'pairs.json'), 'utf8')) as PairCase[];
    const byMax = new Map<number | null, PairCase[]>();
    for (const p of pairs) byMax.set(p.max_length, [...(byMax.get(p.max_length) ?? []), p]);
    expect(byMax.size).toBeGreaterThan(2);
    for (const [max, group] of byMax) {
      const args = ['--model', MODEL, '--pairs', ...(max === null ? [] : ['--max-length', String(max)])];
      const r = await sbert(args, group.map((p) => JSON.stringify({ a: p.a, b: p.b })).join('\n'));
      expect(r.code, r.stderr).toBe(0);
      const out = outputs(r.stdout);
      group.forEach((p, i) => {
        expect([out[i]!.input_ids, out[i]!.token_type_ids, out[i]!.attention_mask], `${p.a} / ${p.b} / ${max}`).toEqual(
          [p.input_ids, p.token_type_ids, p.attention_mask],
        );
      });
    }
  });

  it('stops at a bad line like encode: the lines before it printed, one error naming the line, exit 2', async () => {
    // blank JSONL lines are skipped, as encode skips them
    const r = await sbert(['--model', MODEL], '"那个人很开心"\n\n"你好"\n{not json\n42\n"再见"\n');
    expect(r.code).toBe(2);
    expect(errorLine(r)).toMatch(/^error: <stdin>: line 4: invalid JSON/);
    expect(outputs(r.stdout).map((o) => o.tokens)).toEqual([
      ['[CLS]', '那', '个', '人', '很', '开', '心', '[SEP]'],
      ['[CLS]', '你', '好', '[SEP]'],
    ]);
    const n = await sbert(['--model', MODEL], '"ok"\n42\n');
    expect(errorLine(n)).toBe('error: <stdin>: line 2: expected a JSON string, got number');
    const p = await sbert(
      ['--model', MODEL, '--pairs'],
      '{"a": "你", "b": "好"}\n{"a": "你", "b": 3}\n{"a": "你", "b": "好"}\n',
    );
    expect(p.code).toBe(2);
    expect(p.stderr).toBe('error: <stdin>: line 2: "b" must be a string or null\n');
    expect(outputs(p.stdout).map((o) => o.token_type_ids)).toEqual([[0, 0, 0, 1, 1]]);
  });

  it('--input-format lines: plain text lines (as encode), from stdin or --input', async () => {
    const text = '那个人很开心\n\n{"not": "json"}\r\n你好';
    const r = await sbert(['--model', MODEL, '--input-format', 'lines'], text);
    expect(r.code, r.stderr).toBe(0);
    const want = ['那个人很开心', '', '{"not": "json"}', '你好'].map((t) => zh.encode(t).tokens);
    expect(outputs(r.stdout).map((o) => o.tokens)).toEqual(want);
    const file = join(mkdtempSync(join(tmpdir(), 'sbert-tok-lines-')), 'in.txt');
    writeFileSync(file, text);
    const f = await sbert(['--model', MODEL, '--input-format', 'lines', '--input', file], '');
    expect(f.stdout).toBe(r.stdout);
    // --pairs needs JSON objects
    const bad = await sbert(['--model', MODEL, '--input-format', 'lines', '--pairs'], 'x\n');
    expect([bad.code, errorLine(bad)]).toEqual([
      1,
      'error: --pairs reads JSONL {"a": ..., "b": ...} lines: use --input-format jsonl',
    ]);
    const missing = await sbert(['--model', MODEL, '--input', join(tmpdir(), 'no-such-input.txt')], '');
    expect([missing.code, errorLine(missing)]).toEqual([
      2,
      `error: ${join(tmpdir(), 'no-such-input.txt')}: no such file`,
    ]);
  });

  it('fails with exit 2 on a missing model or a folder without vocabulary, exit 1 on a bad --max-length', async () => {
    const missing = await sbert(['--model', join(tmpdir(), 'no-such-model-dir')], '"x"\n');
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/^error: .*no-such-model-dir: no such folder/);
    expect(missing.stdout).toBe('');
    const noVocab = await sbert(['--model', fixture('tiny')], '"x"\n');
    expect(noVocab.code).toBe(2);
    expect(noVocab.stderr).toMatch(/^error: .*tiny: no tokenizer.json, sentencepiece.bpe.model or vocab.txt/);
    const badMax = await sbert(['--model', MODEL, '--max-length', 'ten'], '"x"\n');
    expect(badMax.code).toBe(1);
    expect(badMax.stderr).toMatch(/^error: .*max-length/);
    const pairMax = await sbert(['--model', MODEL, '--pairs', '--max-length', '2'], '"x"\n');
    expect(pairMax.code).toBe(1);
    expect(pairMax.stderr).toMatch(/^error: --max-length must be at least 3 with --pairs/);
  });

  it('finds a hub id under weights/<id>/ in the working directory', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'sbert-tok-cli-'));
    mkdirSync(join(cwd, 'weights', 'test-org'), { recursive: true });
    symlinkSync(fixture('tiny', 'uer-converted'), join(cwd, 'weights', 'test-org', 'tiny'));
    const r = await sbert(['--model', 'test-org/tiny', '--max-length', '4'], '"那个人很开心"\n', cwd);
    expect(r.code, r.stderr).toBe(0);
    expect(outputs(r.stdout)[0]!.input_ids).toEqual([101, 6929, 702, 102]);
  });
});
