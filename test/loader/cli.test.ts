// `sbert inspect` and `sbert synth` as a user runs them (needs `npx tsc -p tsconfig.json` first).
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { InspectReport } from '../../src/cli/inspect.js';
import { fixture, ROOT } from '../fixtures.js';
import { scratch } from './helpers.js';

const built = existsSync(join(ROOT, 'dist', 'src', 'cli', 'inspect.js'));
const sbert = (...args: string[]) =>
  spawnSync(process.execPath, [join(ROOT, 'bin', 'sbert.js'), ...args], { encoding: 'utf8', timeout: 60_000 });
const tmp = scratch('cli');
/** stdout parsed as JSON, after checking the command succeeded (stderr shown otherwise). */
function json(r: ReturnType<typeof sbert>): InspectReport {
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout);
}

describe.skipIf(!built)('sbert inspect / synth', () => {
  it('inspect prints format, dtypes, config, tensors and renamed keys', () => {
    const r = sbert('inspect', fixture('tiny', 'zip-prefixed'));
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('format:  torch-zip   dtypes: F32');
    expect(r.stdout).toContain('config:  2 layers, hidden 32, 4 heads, intermediate 64, vocab 21128');
    expect(r.stdout).toMatch(/bert\.encoder\.layer\.0\.intermediate\.dense\.weight\s+F32\s+\[64, 32\]/);
    expect(r.stdout).toContain('renamed (39):');
    expect(r.stdout).toContain('  bert.pooler.dense.bias → pooler.dense.bias');
  });

  it('inspect --json on a file and on a UER folder', () => {
    const j = json(sbert('inspect', '--json', fixture('tiny', 'uer-converted', 'pytorch_model.bin')));
    expect(j.format).toBe('torch-zip');
    expect(j.tensors).toHaveLength(37);
    expect(j.tensors.find((t) => t.name === 'embeddings.token_type_embeddings.weight')?.shape).toEqual([2, 32]);
    expect(j.missing).toEqual(['pooler.dense.weight', 'pooler.dense.bias']);
    const u = json(sbert('inspect', '--json', fixture('tiny', 'uer')));
    expect(u.keyStyle).toBe('uer');
    expect(u.config?.type_vocab_size).toBe(2);
    expect(u.unexpected).toHaveLength(37);
  });

  it('inspect of an activation file (a reference) names its batches and metadata, not missing weights', () => {
    const j = json(sbert('inspect', '--json', fixture('tiny', 'refs.safetensors')));
    expect(j.reference?.groups).toEqual([
      { name: 'main', batch: 14, length: 18, tensors: 19 },
      { name: 'pairs', batch: 3, length: 25, tensors: 2 },
      { name: 'fp16', batch: 14, length: 18, tensors: 2 },
      { name: 'bf16', batch: 14, length: 18, tensors: 2 },
    ]);
    expect(j.missing).toEqual([]);
    expect(j.reference?.metadata.producer).toMatch(/^transformers 5\.17/);
    const r = sbert('inspect', fixture('tiny', 'refs.safetensors'));
    expect(r.stdout).toContain(
      'activations (sbert compare --reference reads them): main 14 × 18 tokens, 19 tensors; pairs 3 × 25 tokens, 2 tensors',
    );
    expect(r.stdout).not.toContain('missing');
  });

  it('synth writes a loadable folder; bad dtype is a usage error; missing config exits 2', () => {
    const out = join(tmp, 'tiny-bf16');
    const r = sbert('synth', '--config', fixture('tiny', 'hf', 'config.json'), '--out', out, '--dtype', 'bf16');
    expect(r.status, r.stderr).toBe(0);
    const j = json(sbert('inspect', '--json', out));
    expect(j.dtypes).toEqual(['BF16']);
    expect(j.tensors).toHaveLength(37);
    expect(JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')).hidden_size).toBe(32);
    const bad = sbert('synth', '--config', fixture('tiny', 'hf', 'config.json'), '--out', out, '--dtype', 'f8');
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/^error: --dtype must be f32, f16 or bf16/);
    const missing = sbert('synth', '--config', join(tmp, 'nope.json'), '--out', out);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toBe(`error: ${join(tmp, 'nope.json')}: no such file\n`);
  });

  it('inspect of a folder whose tokenizer cannot be loaded: the whole report, then one error line and exit 2', () => {
    for (const [name, content, problem] of [
      ['broken-json', '{"model": {"vocab": ', /tokenizer\.json: invalid JSON/],
      ['no-model', '{"version": "1.0"}', /tokenizer\.json: /],
    ] as const) {
      const dir = join(tmp, `tok-${name}`);
      mkdirSync(dir, { recursive: true });
      for (const f of ['config.json', 'model.safetensors']) copyFileSync(fixture('tiny', 'hf', f), join(dir, f));
      writeFileSync(join(dir, 'tokenizer.json'), content);
      const r = sbert('inspect', dir);
      expect(r.status, r.stderr).toBe(2);
      expect(r.stdout).toContain('config:  2 layers, hidden 32, 4 heads, intermediate 64, vocab 21128');
      const said = r.stdout.split('\n').find((l) => l.startsWith('tokenizer: '))!;
      expect(said).toMatch(problem);
      expect(r.stderr).toBe(`error: ${said.slice('tokenizer: '.length)}\n`); // the same words, one line
      const j = sbert('inspect', '--json', dir);
      expect(j.status).toBe(2);
      expect((JSON.parse(j.stdout) as InspectReport).tokenizer).toEqual({ error: said.slice('tokenizer: '.length) });
      // encode refuses the folder with the same error
      const e = spawnSync(process.execPath, [join(ROOT, 'bin', 'sbert.js'), 'encode', '--model', dir], {
        input: '你好\n',
        encoding: 'utf8',
        env: { ...process.env, SBERT_QUIET: '1' },
      });
      expect([e.status, e.stderr]).toEqual([2, r.stderr]);
    }
  });

  it('inspect of a missing path exits 2', () => {
    const r = sbert('inspect', join(tmp, 'nothing-here'));
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^error: .*nothing-here: no such folder/);
  });
});
