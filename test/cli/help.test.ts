// `sbert --help` lists every environment variable the library and CLI read, so none is undocumented; a bad
// value is a clear usage error.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { errorLine, sbert } from '../cli.js';
import { fixture, ROOT } from '../fixtures.js';

function envVarsRead(dir: string): Set<string> {
  const names = new Set<string>();
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile() || !entry.name.endsWith('.ts')) continue;
    const text = readFileSync(join(entry.parentPath, entry.name), 'utf8');
    for (const m of text.matchAll(/process\.env\.(SBERT_[A-Z_]+|HF_[A-Z_]+)/g)) names.add(m[1]!);
  }
  return names;
}

describe('sbert --help', () => {
  it('names each SBERT_* / HF_* variable that src/ reads', async () => {
    const read = envVarsRead(join(ROOT, 'src'));
    expect(read.size).toBeGreaterThanOrEqual(7); // SBERT_WEIGHTS, SBERT_WEBGPU_MATMUL, HF_ENDPOINT, … (the scan works)
    const run = await sbert(['--help']);
    expect(run.code).toBe(0);
    for (const name of read) expect(run.stdout, name).toContain(name);
  });
});

describe('environment values', () => {
  it('a bad SBERT_WEBGPU_MATMUL is a usage error naming the variable and the choices (exit 1), on any machine', async () => {
    const run = await sbert(['encode', '--model', fixture('tiny', 'st')], {
      input: '你好\n',
      env: { SBERT_WEBGPU_MATMUL: 'fast' },
    });
    expect(run.code).toBe(1);
    expect(errorLine(run)).toBe('error: SBERT_WEBGPU_MATMUL="fast" is not one of auto, tfjs, tiled');
    expect(run.stdout).toBe('');
  });

  it('a bad SBERT_WEBGPU_TILE is a usage error naming the variable and the tiles (exit 1), on any machine', async () => {
    const run = await sbert(['encode', '--model', fixture('tiny', 'st')], {
      input: '你好\n',
      env: { SBERT_WEBGPU_TILE: '32x32' },
    });
    expect(run.code).toBe(1);
    expect(errorLine(run)).toBe('error: SBERT_WEBGPU_TILE="32x32" is not one of auto, 64x64, 64x128, 128x64, 128x128');
    expect(run.stdout).toBe('');
  });

  it('a bad SBERT_TF_KERNELS is a usage error naming the variable and the choices (exit 1), on any machine', async () => {
    const run = await sbert(['encode', '--model', fixture('tiny', 'st'), '--backend', 'auto'], {
      input: '你好\n',
      env: { SBERT_TF_KERNELS: 'fast' },
    });
    expect(run.code).toBe(1);
    expect(errorLine(run)).toBe('error: SBERT_TF_KERNELS="fast" is not one of native, tfjs');
    expect(run.stdout).toBe('');
  });

  it('a bad SBERT_TF_KERNELS_ISA is a usage error naming the variable and the choices (exit 1), on any machine', async () => {
    const run = await sbert(['encode', '--model', fixture('tiny', 'st'), '--backend', 'auto'], {
      input: '你好\n',
      env: { SBERT_TF_KERNELS_ISA: 'avx3' },
    });
    expect(run.code).toBe(1);
    expect(errorLine(run)).toBe('error: SBERT_TF_KERNELS_ISA="avx3" is not one of avx512, avx2, baseline');
    expect(run.stdout).toBe('');
  });
});
