// The report joins each tfjs case with the PyTorch case that ran the same batches and prints the ratio;
// the HTML renders offline (no script, no external URL).
import { describe, expect, it } from 'vitest';
import { resultFromSamples } from '../../bench/harness.js';
import { machineInfo } from '../../bench/machine.js';
import { htmlReport, markdownReport } from '../../bench/report.js';
import { RESULTS_SCHEMA, SUITES, validateResults, type BenchResults, type SuiteResult } from '../../bench/schema.js';

function results(): BenchResults {
  const params = { input: 'grid', batch: 8, seqLen: 64 };
  const work = { sentences: 8, tokens: 512, flops: 1e11 };
  const suites: SuiteResult[] = SUITES.map((name) => ({
    name,
    title: name,
    status: 'skipped',
    reason: 'not in this test',
    cases: [],
    notes: {},
    elapsedS: 0,
  }));
  const forward = suites.find((s) => s.name === 'forward')!;
  Object.assign(forward, { status: 'ok', reason: undefined });
  forward.cases.push(resultFromSamples('wasm grid b8×l64', { backend: 'wasm', ...params }, [4, 4], work, null));
  forward.cases.push(
    resultFromSamples(
      'wasm grid b1×l16',
      { backend: 'wasm', input: 'grid', batch: 1, seqLen: 16 },
      [0.5],
      { sentences: 1 },
      null,
    ),
  );
  const torch = suites.find((s) => s.name === 'pytorch')!;
  Object.assign(torch, {
    status: 'ok',
    reason: undefined,
    notes: { torch: '1.13', settings: { intraOpThreads: 1, OPENBLAS_NUM_THREADS: '2' } },
  });
  torch.cases.push(resultFromSamples('pytorch grid b8×l64', { backend: 'pytorch', ...params }, [1, 1], work, null));
  const matmul = suites.find((s) => s.name === 'matmul')!;
  Object.assign(matmul, { status: 'ok', reason: undefined });
  matmul.notes.split = [
    {
      batch: 8,
      seqLen: 64,
      forwardS: 4,
      matmulS: 3,
      forwardCpuS: 4,
      matmulCpuS: 3,
      matmulShare: 0.75,
      restShare: 0.25,
      profiledMatmulShare: 0.8,
      matmulGflops: 33.3,
      ceilingSentencesPerSec: 2.67,
    },
  ];
  return {
    schema: RESULTS_SCHEMA,
    mode: 'quick',
    machine: { ...machineInfo(), loadAverage: [0, 0, 0] },
    settings: {},
    suites,
    elapsedS: 1,
  };
}

describe('markdownReport', () => {
  const r = results();
  const md = markdownReport(r);
  const row = (name: string) =>
    md
      .split('\n')
      .find((l) => l.startsWith(`| ${name} |`))!
      .split('|')
      .map((c) => c.trim());

  it('is made from a valid results object', () => {
    expect(validateResults(r)).toEqual([]);
  });

  it('puts PyTorch beside the tfjs case with the same batches, and the ratio', () => {
    // wasm: 8 sentences in 4 s = 2/s; PyTorch: 8 in 1 s = 8/s → 0.25×
    const cells = row('wasm grid b8×l64');
    expect(cells[2]).toBe('2.0');
    expect(cells[3]).toBe('128'); // tokens/s
    expect(cells[4]).toBe('25.0'); // 1e11 FLOPs / 4 s = 25 GFLOP/s
    expect(cells[5]).toBe('8.0');
    expect(cells[6]).toBe('0.25×');
    // no PyTorch case ran 1 × 16: no ratio invented
    expect(row('wasm grid b1×l16')[6]).toBe('–');
  });

  it('lists a shape only PyTorch finished, without tfjs figures', () => {
    const r2 = results();
    const torch = r2.suites.find((s) => s.name === 'pytorch')!;
    torch.cases.push(
      resultFromSamples(
        'pytorch grid b32×l64',
        { backend: 'pytorch', input: 'grid', batch: 32, seqLen: 64 },
        [2],
        { sentences: 32 },
        null,
      ),
    );
    const line = markdownReport(r2)
      .split('\n')
      .find((l) => l.startsWith('| grid b32×l64 (no tfjs result) |'))!;
    expect(
      line
        .split('|')
        .map((c) => c.trim())
        .slice(1, 8),
    ).toEqual(['grid b32×l64 (no tfjs result)', '–', '–', '–', '16.0', '–', '–']);
  });

  it('the encode table: start-up and load apart, the first call and again beside both anchors on the same batches', () => {
    const r3 = results();
    const enc = r3.suites.find((s) => s.name === 'encode')!;
    Object.assign(enc, { status: 'ok', reason: undefined });
    const same = { input: 'sts-b-encode', sentences: 256, batch: 32, batching: 'cpu cuts' };
    const work = { sentences: 256, tokens: 3680 };
    const name = 'tensorflow sbert encode 256 sentences';
    enc.cases.push(
      resultFromSamples(name, { backend: 'tensorflow', ...same, workers: 'default', call: 'first' }, [8], work, null),
    );
    enc.cases.push(
      resultFromSamples(
        `${name}, again`,
        { backend: 'tensorflow', ...same, workers: 'default', call: 'again' },
        [4],
        work,
        null,
      ),
    );
    enc.notes[name] = {
      startupS: 0.9,
      loadS: 0.5,
      encodeS: 8,
      encodeAgainS: 4,
      wholeProcessS: 9.8,
      workers: 'default',
    };
    const hf = r3.suites.find((s) => s.name === 'transformers')!;
    Object.assign(hf, {
      status: 'ok',
      reason: undefined,
      notes: { transformers: '5.17.0', torch: '2.13.0', attnImplementation: 'sdpa', settings: { intraOpThreads: 2 } },
    });
    hf.cases.push(
      resultFromSamples(
        'transformers encode 256 sentences (cpu cuts)',
        { backend: 'transformers', ...same },
        [6.4],
        work,
        null,
      ),
    );
    const torch = r3.suites.find((s) => s.name === 'pytorch')!;
    torch.cases.push(
      resultFromSamples('pytorch encode 256 sentences (cpu cuts)', { backend: 'pytorch', ...same }, [3.2], work, null),
    );
    const md3 = markdownReport(r3);
    const cells = md3
      .split('\n')
      .find((l) => l.startsWith('| tensorflow | 256 |'))!
      .split('|')
      .map((c) => c.trim());
    // 256 sentences: first call 8 s = 32/s, again 4 s = 64/s; HF 6.4 s = 40/s; PyTorch 3.2 s = 80/s
    expect(cells.slice(1, 14)).toEqual([
      'tensorflow',
      '256',
      'default',
      '0.90',
      '0.50',
      '8.00',
      '32.0',
      '64.0',
      '9.8',
      '40.0',
      '0.80× / 1.60×',
      '80.0',
      '0.40× / 0.80×',
    ]);
    expect(md3).toContain('HF transformers 5.17.0 `BertModel` (sdpa attention) on torch 2.13.0');
    // encode rows stay out of the forward table
    expect(md3).not.toMatch(/\| pytorch encode|\(no tfjs result\)/);
  });

  it('shows where the time goes and what was not run', () => {
    expect(row('8 × 64')[4]).toBe('75%');
    expect(row('8 × 64')[5]).toBe('25%');
    expect(md).toContain('- tokenizer: skipped: not in this test');
  });

  it('renders offline HTML with inline SVG and no external resources', () => {
    const html = htmlReport(r);
    expect(html).toContain('<svg');
    expect(html).not.toMatch(/<script|src=|href=/);
    // tokens/s bars: wasm 512 tokens in 4 s, PyTorch in 1 s; the case without a token count gets no bar
    expect(html).toContain('wasm 128.0');
    expect(html).toContain('pytorch 512.0');
    expect(html).not.toContain('NaN');
  });
});
