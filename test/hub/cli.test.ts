// `sbert download` end to end: the built CLI in a child process against the fake hub on 127.0.0.1.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixture, ROOT } from '../fixtures.js';
import { closedPort, FakeHub } from './fake-hub.js';

const ID = 'uer/sbert-base-chinese-nli';
let hub: FakeHub;
let tmp: string;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Asynchronous, so the fake hub in this process keeps answering while the child runs. */
function sbert(args: string[], env: Record<string, string>): Promise<Run> {
  const childEnv: NodeJS.ProcessEnv = { ...process.env, SBERT_PROGRESS: '0', ...env };
  delete childEnv.HF_TOKEN;
  if (!('HF_ENDPOINT' in env)) delete childEnv.HF_ENDPOINT;
  return new Promise((ok) => {
    execFile(
      'node',
      [join(ROOT, 'bin', 'sbert.js'), ...args],
      { cwd: tmp, env: childEnv, timeout: 60_000 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
        ok({ code, stdout, stderr });
      },
    );
  });
}

beforeAll(async () => {
  // dist/ is built once by test/global-setup.ts. Rebuilding it here raced with other files' CLI children,
  // which could import a half-written module (a flaky exit 2).
  expect(existsSync(join(ROOT, 'dist', 'src', 'cli', 'download.js'))).toBe(true);
  const file = (dir: string, name: string): Buffer => readFileSync(fixture('tiny', dir, name));
  hub = await new FakeHub({
    repos: {
      [ID]: {
        files: {
          'config.json': file('uer-converted', 'config.json'),
          'pytorch_model.bin': file('uer-converted', 'pytorch_model.bin'),
          'vocab.txt': file('uer-converted', 'vocab.txt'),
        },
      },
    },
    drop: { file: 'pytorch_model.bin', bytes: 500_000, times: 1 },
  }).start();
  tmp = mkdtempSync(join(tmpdir(), 'sbert-cli-dl-'));
});

afterAll(async () => {
  await hub?.close();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe('sbert download', () => {
  it('downloads into --dir through HF_ENDPOINT, resuming a dropped connection', async () => {
    const dir = join(tmp, 'model');
    const r = await sbert(['download', ID, '--dir', dir], { HF_ENDPOINT: hub.url });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      new RegExp(
        `^${ID} \\(revision main, commit c0ffee0000\\): 3 files, 2\\.82 MiB in ${dir} \\(2\\.82 MiB downloaded\\)\\n$`,
      ),
    );
    for (const f of ['config.json', 'pytorch_model.bin', 'vocab.txt']) {
      expect(readFileSync(join(dir, f)).equals(readFileSync(fixture('tiny', 'uer-converted', f))), f).toBe(true);
    }
    expect(hub.requests.some((r) => r.range === 'bytes=500000-')).toBe(true);
  });

  it('defaults to uer/sbert-base-chinese-nli under ./weights', async () => {
    const r = await sbert(['download'], { HF_ENDPOINT: hub.url });
    expect(r.code).toBe(0);
    const dir = join(tmp, 'weights', 'uer', 'sbert-base-chinese-nli');
    expect(
      readFileSync(join(dir, 'pytorch_model.bin')).equals(
        readFileSync(fixture('tiny', 'uer-converted', 'pytorch_model.bin')),
      ),
    ).toBe(true);
  });

  it('a hub id missing locally is downloaded on first use; the CLI (not the library) says so on stderr', async () => {
    const weights = join(tmp, 'first-use');
    const r = await sbert(['similarity', '--model', ID, '--backend', 'cpu', '你好', '您好'], {
      HF_ENDPOINT: hub.url,
      SBERT_WEIGHTS: weights,
    });
    expect(r.code).toBe(0);
    const dir = join(weights, 'uer', 'sbert-base-chinese-nli');
    expect(r.stderr).toContain(`sbert: ${ID} is not in ${dir}; downloading it from ${hub.url}\n`);
    expect(r.stderr).toMatch(new RegExp(`sbert: [\\d.]+ (KiB|MiB) downloaded into ${dir}\n`));
    expect(r.stdout).toMatch(/^你好\n {2}[01]\.\d{4} {2}您好\n$/);
    const again = await sbert(['similarity', '--model', ID, '--backend', 'cpu', '你好', '您好'], {
      HF_ENDPOINT: hub.url,
      SBERT_WEIGHTS: weights,
    });
    expect(again.stderr).not.toContain('downloading');
  });

  it('exits 2 with one error line, advice true to the case, when the hub is unreachable', async () => {
    const endpoint = `http://127.0.0.1:${await closedPort()}`;
    const r = await sbert(['download', ID, '--dir', join(tmp, 'x')], { HF_ENDPOINT: endpoint });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    const lines = r.stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    // HF_ENDPOINT is set and --dir given: the advice names both, and does not offer --model to `download`.
    expect(lines[0]).toBe(
      `error: cannot reach the model hub at ${endpoint} (ECONNREFUSED); to proceed, check HF_ENDPOINT (set to ${endpoint}), ` +
        `or unset it to use https://huggingface.co, or run \`sbert download ${ID}\` on a machine that can reach the hub and copy the folder into ${join(tmp, 'x')}`,
    );
    expect(existsSync(join(tmp, 'x'))).toBe(false);
  });

  it('HF_ENDPOINT=notaurl is a usage error saying so (exit 1), not "cannot reach the hub"', async () => {
    const r = await sbert(['download', ID, '--dir', join(tmp, 'u')], { HF_ENDPOINT: 'notaurl' });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      'error: HF_ENDPOINT="notaurl" is not a URL (expected e.g. https://huggingface.co or https://hf-mirror.com)\n',
    );
    expect(existsSync(join(tmp, 'u'))).toBe(false);
  });

  it('exits 2 with a clear error for an unknown model', async () => {
    const r = await sbert(['download', 'nobody/nothing', '--dir', join(tmp, 'y')], { HF_ENDPOINT: hub.url });
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`error: model nobody/nothing (revision main) not found at ${hub.url}\n`);
    expect(existsSync(join(tmp, 'y'))).toBe(false);
  });

  it('exits 1 on a malformed id', async () => {
    const r = await sbert(['download', '../etc', '--dir', join(tmp, 'z')], { HF_ENDPOINT: hub.url });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error: "\.\.\/etc" is not a hub model id/);
  });
});
