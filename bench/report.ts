// Turns a results JSON into the README's markdown tables and a self-contained HTML page with inline SVG
// charts (no script, no CDN: it renders offline). Works from the JSON alone, so an old run can be redrawn:
//   node dist/bench/report.js bench/results/latest-full.json
import { readFileSync, writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import type { BenchResults, CaseResult, SuiteResult } from './schema.js';

const suite = (r: BenchResults, name: string): SuiteResult | undefined => r.suites.find((s) => s.name === name);
const ok = (s: SuiteResult | undefined): CaseResult[] => (s ? s.cases.filter((c) => c.status === 'ok') : []);

function fmt(x: number | undefined, digits = 1): string {
  if (x === undefined || !Number.isFinite(x)) return '–';
  if (Math.abs(x) >= 1000) return Math.round(x).toLocaleString('en-US');
  if (x !== 0 && Math.abs(x) < 1) return x.toPrecision(2); // 0.028 sentences/s, not 0.0
  return x.toFixed(digits);
}

const pct = (x: number): string => `${(x * 100).toFixed(0)}%`;

/** The anchor case that ran the same batches as `c` (same input, batch, length / sentence count, batching). */
const SAME_BATCHES = ['input', 'batch', 'seqLen', 'sentences', 'batching'] as const;

function anchorFor(
  r: BenchResults,
  c: CaseResult,
  anchor: 'pytorch' | 'transformers' = 'pytorch',
): CaseResult | undefined {
  return ok(suite(r, anchor)).find((p) => SAME_BATCHES.every((k) => p.params[k] === c.params[k]));
}

/** Phases of one `sbert encode` measurement, as the encode suite noted them under the case's name. */
interface EncodePhases {
  startupS: number;
  loadS: number;
  encodeS: number;
  encodeAgainS: number;
  wholeProcessS: number;
  workers: number | string;
}

/**
 * The issue-15 table: `sbert encode` per backend with start-up and load apart, beside HF transformers and the
 * plain PyTorch forward timing the same padded batches (model only: ids in, hidden states out).
 */
function encodeTable(r: BenchResults): string[] {
  const enc = suite(r, 'encode');
  const firsts = ok(enc).filter((c) => c.params.call === 'first');
  if (!firsts.length) return [];
  const hf = suite(r, 'transformers');
  const torch = suite(r, 'pytorch');
  const rows = firsts.map((c) => {
    const again = ok(enc).find((a) => a.params.call === 'again' && a.name === `${c.name}, again`);
    const ph = enc!.notes[c.name] as EncodePhases | undefined;
    const [h, p] = [anchorFor(r, c, 'transformers'), anchorFor(r, c, 'pytorch')];
    const sps = c.throughput.sentencesPerSec!;
    const spsAgain = again?.throughput.sentencesPerSec;
    const ratio = (a: CaseResult | undefined, x: number | undefined) =>
      a && x ? `${fmt(x / a.throughput.sentencesPerSec!, 2)}×` : '–';
    return [
      String(c.params.backend),
      String(c.params.sentences),
      String(ph?.workers ?? c.params.workers),
      ph ? fmt(ph.startupS, 2) : '–',
      ph ? fmt(ph.loadS, 2) : '–',
      fmt(c.meanS, 2),
      fmt(sps),
      fmt(spsAgain),
      ph ? fmt(ph.wholeProcessS, 1) : '–',
      h ? fmt(h.throughput.sentencesPerSec) : '–',
      `${ratio(h, sps)} / ${ratio(h, spsAgain)}`,
      p ? fmt(p.throughput.sentencesPerSec) : '–',
      `${ratio(p, sps)} / ${ratio(p, spsAgain)}`,
    ];
  });
  const hfNote =
    hf?.status === 'ok'
      ? `HF transformers ${String(hf.notes.transformers)} \`BertModel\` (${String(hf.notes.attnImplementation)} attention) on torch ${String(hf.notes.torch)}, ${describeThreads(hf.notes.settings)}`
      : `HF transformers anchor skipped: ${hf?.reason ?? 'not run'}`;
  const torchNote =
    torch?.status === 'ok'
      ? `plain PyTorch forward on torch ${String(torch.notes.torch)}, ${describeThreads(torch.notes.settings)}`
      : `PyTorch anchor skipped: ${torch?.reason ?? 'not run'}`;
  return [
    '`sbert encode` of STS-B test sentences (batch 32, mean pooling), each row a fresh process: start-up = Node, modules ' +
      'and the backend ready; load = checkpoint and tokenizer read, weights uploaded; encode = the first call ' +
      '(sentences/s; "again" = a second call in the same process); whole process as timed from outside. The anchors time ' +
      `the model alone (ids in) on the very padded batches that backend ran, the mean of their timed calls after a warm-up call ` +
      `(one call, cold, when a call takes over 20 s): ${hfNote}; ${torchNote}. ` +
      'Ratio = sbert-tfjs ÷ anchor sentences/s, first call / again (above 1: faster).',
    '',
    table(
      [
        'backend',
        'sentences',
        'workers',
        'start-up s',
        'load s',
        'encode s',
        'sentences/s',
        'again sent/s',
        'whole process s',
        'HF transformers sent/s',
        'ratio',
        'PyTorch sent/s',
        'ratio',
      ],
      rows,
    ),
    '',
  ];
}

function table(head: string[], rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  return [line(head), line(head.map((h, i) => (i === 0 ? '---' : '---:'))), ...rows.map(line)].join('\n');
}

export function machineLine(r: BenchResults): string {
  const m = r.machine;
  const tf = m.packages['@tensorflow/tfjs-core'] ?? '?';
  return (
    `${m.date.slice(0, 16).replace('T', ' ')} UTC, ${r.mode} run: ${m.cpuModel}, ${m.cores} cores, ` +
    `${(m.totalMemoryBytes / 2 ** 30).toFixed(0)} GiB, Node ${m.node}, ${m.os}, tfjs ${tf}, ` +
    `commit ${m.git.commit?.slice(0, 7) ?? '?'}${m.git.dirty ? ' (uncommitted changes)' : ''}`
  );
}

export function markdownReport(r: BenchResults): string {
  const out: string[] = [`### Benchmarks (${machineLine(r)})`, ''];
  // Did single-threaded tfjs cases get a whole core? CPU seconds per wall second, median over them.
  const single = ok(suite(r, 'forward'))
    .filter((c) => c.params.backend === 'wasm' || c.params.backend === 'cpu')
    .map((c) => c.cpuPerWall)
    .filter((x): x is number => typeof x === 'number')
    .sort((a, b) => a - b);
  if (single.length) {
    const median = single[Math.floor(single.length / 2)]!;
    const load = r.machine.loadAverage?.[0];
    out.push(
      median < 0.9
        ? `Note: other processes took CPU during this run: the single-threaded tfjs cases got ${pct(median)} of a core (median CPU/wall); figures are lower than on an idle machine.`
        : `The single-threaded tfjs cases got a whole core (median CPU/wall ${median.toFixed(2)})` +
            (load !== undefined
              ? `; load average ${load.toFixed(1)} on ${r.machine.cores} cores at the end, this run included.`
              : '.'),
      '',
    );
  }
  const torch = suite(r, 'pytorch');
  const torchNote =
    torch?.status === 'ok'
      ? `PyTorch ${String(torch.notes.torch)} on CPU, ${describeThreads(torch.notes.settings)}, same ids and weights`
      : `PyTorch anchor skipped: ${torch?.reason ?? 'not run'}`;

  // Throughput: forward grid, STS-B batches, end-to-end encode, each beside PyTorch when it ran the same.
  const rows: string[][] = [];
  const throughputCases = ok(suite(r, 'forward'));
  for (const c of throughputCases) {
    const [p, h] = [anchorFor(r, c), anchorFor(r, c, 'transformers')];
    const t = c.throughput;
    const ratio = (a: CaseResult | undefined) =>
      a ? `${fmt(t.sentencesPerSec! / a.throughput.sentencesPerSec!, 2)}×` : '–';
    rows.push([
      c.name,
      fmt(t.sentencesPerSec),
      fmt(t.tokensPerSec, 0),
      fmt((t.flopsPerSec ?? NaN) / 1e9),
      p ? fmt(p.throughput.sentencesPerSec) : '–',
      ratio(p),
      h ? fmt(h.throughput.sentencesPerSec) : '–',
      ratio(h),
      `${fmt(c.meanS * 1000, 0)} ms ±${fmt(c.marginPct, 0)}% (${c.samples})`,
    ]);
  }
  // Shapes PyTorch ran but no tfjs backend finished (errors and skips are listed below the tables).
  for (const p of ok(torch)) {
    if (p.params.input === 'sts-b-encode') continue; // in the encode table
    if (throughputCases.some((c) => SAME_BATCHES.every((k) => p.params[k] === c.params[k]))) continue;
    const h = ok(suite(r, 'transformers')).find((x) => SAME_BATCHES.every((k) => x.params[k] === p.params[k]));
    rows.push([
      `${p.name.replace(/^pytorch /, '')} (no tfjs result)`,
      '–',
      '–',
      '–',
      fmt(p.throughput.sentencesPerSec),
      '–',
      h ? fmt(h.throughput.sentencesPerSec) : '–',
      '–',
      '–',
    ]);
  }
  if (rows.length)
    out.push(
      `Synthetic BERT-base (12 layers, hidden 768), float32. Effective GFLOP/s counts the matmul FLOPs of the padded batch ` +
        `(per layer 2·B·L·(4H² + 2HI) + 2·2·B·h·L²·d). Ratio = sbert-tfjs sentences/s ÷ PyTorch sentences/s on the same padded batches ` +
        `(above 1: faster); tfjs-wasm runs one thread per process, PyTorch's matmuls use every core through OpenBLAS; ` +
        `PyTorch times the model only (ids in), encode rows include tokenization and pooling. ${torchNote}.`,
      '',
      table(
        [
          'case',
          'sentences/s',
          'tokens/s',
          'eff. GFLOP/s',
          'PyTorch sent/s',
          'ratio',
          'HF transformers sent/s',
          'ratio',
          'time per call ±95% (samples)',
        ],
        rows,
      ),
      '',
    );

  out.push(...encodeTable(r));

  const split = suite(r, 'matmul')?.notes.split as Record<string, number>[] | undefined;
  if (split?.length) {
    out.push(
      'Where the time goes in one wasm forward: "matmuls alone" runs the same matmuls (same shapes, fused bias) without ' +
        'anything else, in the same run; tf.profile splits one forward by kernel time. The ceiling is batch ÷ matmul-alone time.',
      '',
      table(
        [
          'batch × length',
          'forward',
          'matmuls alone',
          'matmul share (CPU time)',
          'rest (LayerNorm, softmax, GELU, transposes, …)',
          'matmul share by tf.profile',
          'matmul GFLOP/s',
          'ceiling sentences/s',
        ],
        split.map((s) => [
          `${s.batch} × ${s.seqLen}`,
          `${fmt(s.forwardS! * 1000, 0)} ms (${fmt((s.forwardCpuS ?? NaN) * 1000, 0)} ms CPU)`,
          `${fmt(s.matmulS! * 1000, 0)} ms (${fmt((s.matmulCpuS ?? NaN) * 1000, 0)} ms CPU)`,
          pct(s.matmulShare!),
          pct(s.restShare!),
          s.profiledMatmulShare === undefined ? '–' : pct(s.profiledMatmulShare),
          fmt(s.matmulGflops),
          fmt(s.ceilingSentencesPerSec),
        ]),
      ),
      '',
    );
  }

  const tok = ok(suite(r, 'tokenizer'));
  if (tok.length) {
    out.push(
      table(
        ['tokenizer (STS-B train)', 'sentences/s', 'tokens/s', 'chars/s'],
        tok.map((c) => [
          c.name,
          fmt(c.throughput.sentencesPerSec, 0),
          fmt(c.throughput.tokensPerSec, 0),
          fmt(c.throughput.charsPerSec, 0),
        ]),
      ),
      '',
    );
  }
  const loads = ok(suite(r, 'load'));
  if (loads.length) {
    out.push(
      table(
        ['checkpoint load (synthetic BERT-base)', 'MB', 'seconds', 'MB/s'],
        loads.map((c) => [
          c.name,
          fmt(c.work.bytes! / 1e6, 0),
          fmt(c.meanS, 2),
          fmt(c.throughput.bytesPerSec! / 1e6, 0),
        ]),
      ),
      '',
    );
  }
  const notRun = r.suites.flatMap((s) =>
    s.status !== 'ok' && s.cases.length === 0
      ? [`- ${s.name}: ${s.status}: ${s.reason}`]
      : s.cases.filter((c) => c.status !== 'ok').map((c) => `- ${s.name} / ${c.name}: ${c.status}: ${c.reason}`),
  );
  if (notRun.length) out.push('Not run or failed:', '', ...notRun, '');
  for (const [anchor, who] of [
    ['pytorch', 'PyTorch'],
    ['transformers', 'HF transformers'],
  ] as const) {
    const checks = suite(r, anchor)?.notes['meanPooledMaxAbsDiff (tfjs vs torch)'] as
      | Record<string, number>
      | undefined;
    if (!checks || !Object.keys(checks).length) continue;
    const list = Object.entries(checks)
      .map(([k, v]) => `${k} ${v.toExponential(1)}`)
      .join(', ');
    out.push(`Same numbers on both sides: mean-pooled output max abs difference sbert-tfjs vs ${who}: ${list}.`, '');
  }
  const sweep = torch?.notes['threadSweep (best seconds, b8×l64)'] as Record<string, number> | undefined;
  if (sweep) {
    out.push(
      `PyTorch thread settings measured on one 8 × 64 batch (best of 3): ${Object.entries(sweep)
        .map(([k, v]) => `${k}: ${fmt(v * 1000, 0)} ms`)
        .join('; ')}; the fastest was used.`,
      '',
    );
  }
  out.push(`Settings: ${JSON.stringify(r.settings)}`, '');
  return out.join('\n');
}

function describeThreads(settings: unknown): string {
  const s = (settings ?? {}) as Record<string, unknown>;
  return `torch intra-op threads ${String(s.intraOpThreads)}, OPENBLAS_NUM_THREADS=${String(s.OPENBLAS_NUM_THREADS)}`;
}

// --- HTML with inline SVG ---------------------------------------------------------------------------

const esc = (s: string): string =>
  s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
const COLORS: Record<string, string> = {
  wasm: '#4e79a7',
  cpu: '#f28e2b',
  webgpu: '#59a14f',
  tensorflow: '#76b7b2',
  pytorch: '#e15759',
  transformers: '#b07aa1',
};
const color = (k: string): string => COLORS[k] ?? '#9c755f';

/** Horizontal grouped bars: one group per label, one bar per series; log scale when values span > 100×. */
export function barChart(
  title: string,
  unit: string,
  groups: { label: string; bars: { series: string; value: number }[] }[],
): string {
  const values = groups.flatMap((g) => g.bars.map((b) => b.value)).filter((v) => v > 0);
  if (!values.length) return '';
  const max = Math.max(...values);
  const min = Math.min(...values);
  const log = max / min > 100;
  const scale = (v: number) => (log ? Math.log10(v / (min / 2)) / Math.log10(max / (min / 2)) : v / max);
  const barH = 14;
  const left = 190;
  const width = 560;
  let y = 30;
  const parts: string[] = [
    `<text x="0" y="16" font-weight="bold">${esc(title)} (${esc(unit)}${log ? ', log scale' : ''})</text>`,
  ];
  for (const g of groups) {
    parts.push(
      `<text x="${left - 8}" y="${y + (g.bars.length * barH) / 2 + 4}" text-anchor="end">${esc(g.label)}</text>`,
    );
    for (const b of g.bars) {
      const w = Math.max(1, scale(b.value) * width);
      parts.push(
        `<rect x="${left}" y="${y}" width="${w.toFixed(1)}" height="${barH - 2}" fill="${color(b.series)}"><title>${esc(b.series)}: ${fmt(b.value)}</title></rect>`,
        `<text x="${left + w + 4}" y="${y + barH - 4}" font-size="11">${esc(b.series)} ${fmt(b.value)}</text>`,
      );
      y += barH;
    }
    y += 8;
  }
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${left + width + 150}" height="${y + 10}" font-family="sans-serif" font-size="12">${parts.join('')}</svg>`;
}

function stackedSplit(split: Record<string, number>[]): string {
  const left = 110;
  const width = 500;
  const parts = ['<text x="0" y="16" font-weight="bold">wasm forward: matmuls vs the rest</text>'];
  split.forEach((s, i) => {
    const y = 30 + i * 24;
    const m = s.matmulShare! * width;
    parts.push(
      `<text x="${left - 8}" y="${y + 14}" text-anchor="end">${s.batch} × ${s.seqLen}</text>`,
      `<rect x="${left}" y="${y}" width="${m.toFixed(1)}" height="18" fill="#4e79a7"/>`,
      `<rect x="${left + m}" y="${y}" width="${(width - m).toFixed(1)}" height="18" fill="#bab0ac"/>`,
      `<text x="${left + 4}" y="${y + 13}" fill="white" font-size="11">matmul ${pct(s.matmulShare!)}</text>`,
      `<text x="${left + width + 6}" y="${y + 13}" font-size="11">rest ${pct(s.restShare!)}</text>`,
    );
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${left + width + 80}" height="${40 + split.length * 24}" font-family="sans-serif" font-size="12">${parts.join('')}</svg>`;
}

export function htmlReport(r: BenchResults): string {
  const forward = ok(suite(r, 'forward'));
  const pytorch = ok(suite(r, 'pytorch'));
  const groupBy = (cases: CaseResult[]) => {
    const labels = [...new Set(cases.map((c) => c.name.replace(/^\S+ /, '')))];
    return labels
      .map((label) => ({
        label,
        bars: cases
          .filter((c) => c.name.replace(/^\S+ /, '') === label && c.throughput.tokensPerSec !== undefined)
          .map((c) => ({ series: String(c.params.backend), value: c.throughput.tokensPerSec! })),
      }))
      .filter((g) => g.bars.length > 0);
  };
  const isEncode = (c: CaseResult) => c.params.input === 'sts-b-encode';
  const charts = [
    barChart(
      'One forward, synthetic BERT-base',
      'tokens/s',
      groupBy([...forward, ...pytorch.filter((c) => !isEncode(c))]),
    ),
    barChart('sbert encode, STS-B test (first call)', 'sentences/s', [
      ...ok(suite(r, 'encode'))
        .filter((c) => c.params.call === 'first')
        .map((c) => ({
          label: `${c.params.sentences} sentences, ${c.params.workers} worker(s)`,
          bars: [{ series: String(c.params.backend), value: c.throughput.sentencesPerSec! }],
        })),
      ...[...pytorch, ...ok(suite(r, 'transformers'))].filter(isEncode).map((c) => ({
        label: `${c.params.sentences} sentences (${String(c.params.batching)})`,
        bars: [{ series: String(c.params.backend), value: c.throughput.sentencesPerSec! }],
      })),
    ]),
  ];
  const split = suite(r, 'matmul')?.notes.split as Record<string, number>[] | undefined;
  if (split?.length) charts.push(stackedSplit(split));
  const md = markdownReport(r);
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>sbert-tfjs benchmarks ${esc(r.machine.date)}</title>
<style>body{font-family:sans-serif;max-width:1100px;margin:2em auto;padding:0 1em}svg{display:block;margin:1.5em 0}pre{white-space:pre-wrap;background:#f6f6f6;padding:1em;font-size:12px}</style>
</head><body>
<h1>sbert-tfjs benchmarks</h1>
<p>${esc(machineLine(r))}</p>
${charts.filter(Boolean).join('\n')}
<h2>Tables (as in the README)</h2>
<pre>${esc(md)}</pre>
</body></html>
`;
}

// Redraw from a saved JSON: node dist/bench/report.js FILE.json [OUT.html]
if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const file = process.argv[2];
  if (!file) {
    process.stderr.write('usage: node dist/bench/report.js RESULTS.json [OUT.html]\n');
    process.exit(1);
  }
  const r = JSON.parse(readFileSync(file, 'utf8')) as BenchResults;
  process.stdout.write(markdownReport(r) + '\n');
  if (process.argv[3]) writeFileSync(process.argv[3], htmlReport(r));
}
