// The benchmark harness on trivial cases: the results JSON it produces (machine info, every suite, case
// statistics consistent with the samples), skip and error handling, and benny's type probe not running
// the case. No timing is asserted.
import { describe, expect, it } from 'vitest';
import { resultFromSamples, runCase, runSuites, type Suite } from '../../bench/harness.js';
import { SUITES, validateResults, type BenchResults } from '../../bench/schema.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('runCase', () => {
  it('runs warm-up + one call per sample, never benny’s un-awaited probe', async () => {
    let calls = 0;
    let running = 0;
    let overlapped = false;
    const r = await runCase(
      {
        name: 'sleep 60 ms',
        // 60 ms per call is over benchmark.js's 50 ms minTime, so each sample is a single call
        fn: async () => {
          if (running++ > 0) overlapped = true;
          calls++;
          await sleep(60);
          running--;
        },
        work: { items: 3 },
        budget: { warmup: 1, minSamples: 2, maxTime: 0 },
      },
      'quick',
    );
    expect(r.status).toBe('ok');
    expect(r.samples).toBe(2);
    expect(calls).toBe(1 + r.samples);
    expect(overlapped).toBe(false);
    expect(r.opsPerSec * r.meanS).toBeCloseTo(1, 12);
    expect(r.throughput.itemsPerSec).toBeCloseTo(3 / r.meanS, 9);
    expect(r.sampleS).toHaveLength(2);
    // CPU time is measured around each timed call (no value asserted: a sleep uses almost none)
    expect(Number.isFinite(r.cpuSPerCall)).toBe(true);
    expect(r.cpuSPerCall).toBeGreaterThanOrEqual(0);
    expect(r.minS).toBeLessThanOrEqual(r.medianS);
    expect(r.medianS).toBeLessThanOrEqual(r.maxS);
  });

  it('reports a throwing case as an error with its message, and tears down', async () => {
    let tornDown = false;
    let n = 0;
    const r = await runCase(
      {
        name: 'fails on the third call',
        fn: async () => {
          if (++n === 3) throw new Error('boom at call 3');
          await sleep(60);
        },
        teardown: () => void (tornDown = true),
        budget: { warmup: 1, minSamples: 5, maxTime: 0 },
      },
      'quick',
    );
    expect(r.status).toBe('error');
    expect(r.reason).toBe('boom at call 3');
    expect(tornDown).toBe(true);
  });
});

describe('runCase teardown', () => {
  it('turns a teardown that throws into an error result instead of an exception', async () => {
    const r = await runCase(
      {
        name: 'teardown throws',
        fn: async () => sleep(60),
        teardown: () => {
          throw new Error('dispose failed');
        },
        budget: { warmup: 0, minSamples: 1, maxTime: 0 },
      },
      'quick',
    );
    expect(r.status).toBe('error');
    expect(r.reason).toBe('teardown: dispose failed');
  });
});

describe('resultFromSamples', () => {
  it('computes benchmark.js statistics', () => {
    const r = resultFromSamples('x', { backend: 'pytorch' }, [1, 2, 3], { sentences: 8 }, null);
    expect(r.meanS).toBe(2);
    expect(r.sdS).toBe(1);
    expect(r.medianS).toBe(2);
    // t(df = 2) = 4.303; rme = t · sd / √n / mean · 100
    expect(r.marginPct).toBeCloseTo((4.303 / Math.sqrt(3) / 2) * 100, 9);
    expect(r.throughput.sentencesPerSec).toBe(4);
  });
});

describe('runSuites', () => {
  it('writes every suite, machine info and consistent case results', async () => {
    const suites: Suite[] = SUITES.map((name, i): Suite => {
      if (i === 0) {
        return {
          name,
          title: 'trivial',
          run: async (ctx) => {
            ctx.note('n', 1000);
            await ctx.runCase({
              name: 'sum 1000',
              params: { n: 1000 },
              work: { items: 1000 },
              fn: () => {
                let s = 0;
                for (let k = 0; k < 1000; k++) s += k;
                if (s !== 499500) throw new Error('wrong sum');
              },
              budget: { warmup: 1, minSamples: 2, maxTime: 0 },
            });
            ctx.skipCase('not here', 'a reason');
          },
        };
      }
      if (i === 1)
        return {
          name,
          title: 'throws',
          run: async () => {
            throw new Error('suite failed');
          },
        };
      return { name, title: 'skipped', run: async () => ({ skip: `${name} not available` }) };
    });
    const lines: string[] = [];
    const r: BenchResults = await runSuites(suites, {
      mode: 'quick',
      settings: { test: true },
      log: (m) => lines.push(m),
    });

    expect(validateResults(r)).toEqual([]);
    expect(validateResults(JSON.parse(JSON.stringify(r)))).toEqual([]);
    expect(r.suites.map((s) => s.name)).toEqual([...SUITES]);
    const m = r.machine;
    expect(m.cores).toBeGreaterThanOrEqual(1);
    expect(m.cpuModel.length).toBeGreaterThan(0);
    expect(m.totalMemoryBytes).toBeGreaterThan(0);
    expect(m.node).toBe(process.version);
    expect(m.packages['@tensorflow/tfjs-core']).toBe('4.22.0');
    expect(m.packages['@tensorflow/tfjs-backend-wasm']).toBe('4.22.0');
    expect(m.packages.benny).toBe('3.7.1');
    expect(m.git).toHaveProperty('commit');
    expect(r.settings).toEqual({ test: true });

    const [first, second, third] = r.suites;
    expect(first!.status).toBe('ok');
    expect(first!.notes).toEqual({ n: 1000 });
    expect(first!.cases.map((c) => [c.name, c.status])).toEqual([
      ['sum 1000', 'ok'],
      ['not here', 'skipped'],
    ]);
    expect(first!.cases[0]!.samples).toBeGreaterThanOrEqual(2);
    expect(second!.status).toBe('error');
    expect(second!.reason).toBe('suite failed');
    expect(third!.status).toBe('skipped');
    expect(third!.reason).toBe(`${SUITES[2]} not available`);
    expect(lines.some((l) => l.includes('sum 1000'))).toBe(true);
  });

  it('validateResults names what is missing', () => {
    const bad = { schema: 'sbert-tfjs-bench/1', mode: 'quick', machine: { cores: 0 }, settings: {}, suites: [] };
    const errs = validateResults(bad);
    expect(errs).toContain('machine.cpuModel');
    expect(errs).toContain('machine.cores');
    expect(errs).toContain('machine.packages[@tensorflow/tfjs-core]');
    for (const s of SUITES) expect(errs).toContain(`suite ${s} missing`);
  });
});
