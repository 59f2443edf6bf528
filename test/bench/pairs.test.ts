// bench/pairs.ts end to end on the tiny model: ours and HF transformers in alternating rounds on the same
// batches, the table's cells computed from them, the pooled vectors in agreement. On MAIN_BACKEND (the
// tensorflow stage of .ci/run runs it on tensorflow: `bench:tensorflow`'s path). Needs Python with torch and
// transformers (.ci/run installs them; SBERT_TEST_TORCH=required makes their absence a failure).
import { execFile, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';
import { fixture, ROOT } from '../fixtures.js';
import { MAIN_BACKEND } from '../model/helpers.js';

const py = spawnSync('python3', ['-c', 'import torch, transformers'], { encoding: 'utf8' });
const why = py.status === 0 ? undefined : 'python3 with torch and transformers is not available';
if (why && process.env.SBERT_TEST_TORCH === 'required') throw new Error(`SBERT_TEST_TORCH=required, but ${why}`);
if (why) process.stderr.write(`bench/pairs test skipped: ${why}\n`);

it.skipIf(why !== undefined)(
  `bench/pairs on ${MAIN_BACKEND}: alternating rounds, HF on the same batches, vectors agree`,
  async () => {
    const { stdout, stderr } = await promisify(execFile)(
      process.execPath,
      [
        join(ROOT, 'dist', 'bench', 'pairs.js'),
        '--backend',
        MAIN_BACKEND,
        '--model',
        fixture('tiny', 'st'),
        '--sentences',
        '24',
        '--rounds',
        '3',
        '--batch-size',
        '8',
        '--hf-threads',
        '1',
      ],
      { cwd: ROOT, timeout: 240_000 },
    );
    // Round 1: ours then HF; round 2: HF then ours; round 3: ours then HF.
    const order = stderr
      .split('\n')
      .map((l) => /^24 sentences, round (\d)\/3: (ours|HF):/.exec(l))
      .filter((m) => m !== null)
      .map((m) => `${m[1]}${m[2]}`);
    expect(order).toEqual(['1ours', '1HF', '2HF', '2ours', '3ours', '3HF']);
    const row = stdout.split('\n').find((l) => l.startsWith('| 24 ('));
    expect(row, stdout).toBeDefined();
    const cells = row!.split('|').map((c) => c.trim());
    // | sentences | start-up | load | first | again | HF first | HF again | ratio first | ratio again | CPU | Δ |
    expect(cells[1]).toMatch(/^24 \(\d+ forwards, \d+ padded tokens\)$/);
    for (const c of cells.slice(4, 8)) expect(Number(c.split(' ')[0])).toBeGreaterThan(0);
    // Each ratio is HF's seconds ÷ ours, round by round, then the median and min–max: recomputed from the
    // rounds' own lines (seconds to 3 significant digits there: each ratio within 1 %, then the table's rounding).
    const perRound = (side: 'ours' | 'HF', i: 1 | 2) =>
      [1, 2, 3].map((r) => {
        const line = stderr.split('\n').find((l) => l.startsWith(`24 sentences, round ${r}/3: ${side}:`))!;
        const s = [...line.matchAll(/([\d.]+) s(?:,|$)/g)].map((m) => Number(m[1]));
        // ours: start-up, load, encode, again; HF: first pass, again
        return side === 'ours' ? s[i + 1]! : s[i - 1]!;
      });
    for (const [col, i] of [
      [8, 1],
      [9, 2],
    ] as const) {
      const hf = perRound('HF', i);
      const ours = perRound('ours', i);
      const ratios = hf.map((h, r) => h / ours[r]!).sort((a, b) => a - b);
      const m = /^([\d.]+)× \(([\d.]+)×–([\d.]+)×\)$/.exec(cells[col]!);
      expect(m, cells[col]).not.toBeNull();
      const [mid, lo, hi] = [Number(m![1]), Number(m![2]), Number(m![3])];
      const near = (got: number, want: number) => Math.abs(got - want) <= 0.012 * want + 0.006;
      expect(near(mid, ratios[1]!), `${cells[col]} vs ${ratios}`).toBe(true);
      expect(near(lo, ratios[0]!), `${cells[col]} vs ${ratios}`).toBe(true);
      expect(near(hi, ratios[2]!), `${cells[col]} vs ${ratios}`).toBe(true);
    }
    // Our vectors and HF's for all 24 sentences, in sentence order: the same batches, the same model.
    const delta = Number(cells[11]);
    expect(delta).toBeGreaterThanOrEqual(0);
    expect(delta).toBeLessThan(1e-5);
  },
  300_000,
);
