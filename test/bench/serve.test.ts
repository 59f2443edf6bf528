// bench/serve.ts --quick still runs end to end (tiny model, seconds): every level answered without an error,
// sentences counted, the ratio to offline encode computed, the server stopped cleanly.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';
import { ROOT } from '../fixtures.js';

it('bench/serve --quick: two levels, no errors, a report', async () => {
  const out = join(mkdtempSync(join(tmpdir(), 'sbert-bench-serve-')), 'serve.json');
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [join(ROOT, 'dist', 'bench', 'serve.js'), '--quick', '--out', out],
    {
      cwd: ROOT,
      timeout: 120_000,
    },
  );
  const report = JSON.parse(readFileSync(out, 'utf8')) as {
    levels: {
      clients: number;
      requests: number;
      sentences: number;
      computedPerSecond: number;
      errors: number;
      non2xx: number;
      timeouts: number;
      ratioToOffline: number;
    }[];
    offline: { meanPerSecond: number };
    serverExitCode: number;
  };
  expect(report.levels.map((l) => l.clients)).toEqual([1, 4]);
  for (const l of report.levels) {
    expect(l.errors + l.non2xx + l.timeouts).toBe(0);
    expect(l.requests).toBeGreaterThan(0);
    // 1–16 sentences per request.
    expect(l.sentences).toBeGreaterThanOrEqual(l.requests);
    expect(l.sentences).toBeLessThanOrEqual(16 * l.requests);
    expect(l.computedPerSecond).toBeGreaterThan(0);
    expect(Number.isFinite(l.ratioToOffline)).toBe(true);
  }
  expect(report.offline.meanPerSecond).toBeGreaterThan(0);
  expect(report.serverExitCode).toBe(0);
  expect(stdout).toMatch(/^\| clients \| requests\/s \| sentences\/s delivered \| sentences\/s computed \|/m);
});
