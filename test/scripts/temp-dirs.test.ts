// Temp dirs of a test run. A machine's /tmp outlives runs (CI's does): each run writes its scratch files in a
// dir of its own that test/global-setup.ts removes after, and the synthetic model folders cached across runs
// are keyed by what they are made from, so they never serve weights an older generator wrote.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { syntheticModelDir } from '../synthetic.js';

describe("a test run's temp dir", () => {
  it('is a scratch dir of its own under the machine temp dir that caches use, in this process and in the CLIs it starts', () => {
    const cacheDir = process.env.SBERT_TEST_CACHE_DIR;
    expect(cacheDir).toBeDefined();
    expect(dirname(tmpdir())).toBe(cacheDir);
    expect(basename(tmpdir())).toMatch(/^sbert-tfjs-test-run-\w{6}$/);
    expect(process.env.SBERT_TF_CACHE).toBe(join(cacheDir ?? '', 'sbert-tfjs-tensorflow'));
    const child = execFileSync(process.execPath, ['-p', 'require("node:os").tmpdir()'], { encoding: 'utf8' });
    expect(child.trim()).toBe(tmpdir());
  });
});

describe('syntheticModelDir', () => {
  const saved = process.env.SBERT_TEST_CACHE_DIR;
  let tmp = '';
  beforeAll(() => {
    tmp = mkdtempSync(join(tmpdir(), 'sbert-synth-cache-'));
    process.env.SBERT_TEST_CACHE_DIR = tmp;
  });
  afterAll(() => {
    if (saved === undefined) delete process.env.SBERT_TEST_CACHE_DIR;
    else process.env.SBERT_TEST_CACHE_DIR = saved;
  });

  it('names the folder by a hash of its sources, reuses it, and prunes stale folders of the same model', () => {
    const parent = join(tmp, 'sbert-tfjs-synthetic');
    mkdirSync(parent, { recursive: true });
    // A folder from before keys, and one from another generator, both untouched for two hours; and one of
    // another dtype, which is not ours to prune.
    const old = Date.now() / 1000 - 7200;
    for (const name of ['tiny-f32', 'tiny-f32-000000000000', 'tiny-f16-000000000000']) {
      mkdirSync(join(parent, name));
      writeFileSync(join(parent, name, '.complete'), 'old\n');
      utimesSync(join(parent, name), old, old);
    }
    const dir = syntheticModelDir('tiny');
    expect(dir.startsWith(parent)).toBe(true);
    expect(dir).toMatch(/tiny-f32-[0-9a-f]{12}$/);
    expect(JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')).model_type).toBe('bert');
    expect(existsSync(join(dir, 'model.safetensors'))).toBe(true);
    expect(readdirSync(parent).sort()).toEqual([dir.slice(parent.length + 1), 'tiny-f16-000000000000'].sort());
    // A second call finds the same complete folder; another dtype is another folder.
    const stamp = readFileSync(join(dir, '.complete'), 'utf8');
    expect(syntheticModelDir('tiny')).toBe(dir);
    expect(readFileSync(join(dir, '.complete'), 'utf8')).toBe(stamp);
    const f16 = syntheticModelDir('tiny', 'f16');
    expect(f16).toMatch(/tiny-f16-[0-9a-f]{12}$/);
    expect(f16.slice(-12)).not.toBe(dir.slice(-12));
  });
});
