// The per-tensor table `sbert compare` prints, and its --json form.
import type { ComparisonReport, TensorResult } from './compare.js';

const sci = (x: number): string => (Number.isFinite(x) ? x.toExponential(2) : String(x));

export function formatTable(report: ComparisonReport): string {
  const head = ['tensor', 'shape', 'max abs', 'mean abs', 'tolerance', 'status', 'worst index (0-based)'];
  const rows = report.results.map((r) => [
    r.key,
    `[${r.shape.join(', ')}]`,
    sci(r.maxAbs),
    sci(r.meanAbs),
    sci(r.tolerance),
    r.ok ? 'ok' : 'FAIL',
    r.worstLabel,
  ]);
  // The last column holds CJK tokens of varying display width: leave it unpadded.
  const widths = head.map((h, c) => Math.max(h.length, ...rows.map((row) => row[c]!.length)));
  const line = (cells: string[]): string =>
    cells
      .map((cell, c) =>
        c === cells.length - 1 ? cell : c >= 2 && c <= 4 ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!),
      )
      .join('  ')
      .trimEnd();
  const out = [line(head), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)];
  out.push('', summary(report));
  for (const s of report.skipped) out.push(`skipped ${s.key}: ${s.reason}`);
  return out.join('\n') + '\n';
}

export function summary(report: ComparisonReport): string {
  const n = report.results.length;
  if (report.ok) return `ok: ${n} ${n === 1 ? 'tensor' : 'tensors'} from ${report.file} within tolerance`;
  const f = report.firstFailure as TensorResult;
  const failed = report.results.filter((r) => !r.ok).length;
  return (
    `FAIL: ${failed} of ${n} tensors past tolerance; first divergence: ${f.key} (${f.what}), ` +
    `max abs ${sci(f.maxAbs)} > ${sci(f.tolerance)} at ${f.worstLabel}: reference ${f.refValue}, ours ${f.ourValue}`
  );
}

export interface JsonReport {
  tensors: Record<
    string,
    {
      max_abs: number | null;
      mean_abs: number | null;
      shape: number[];
      tolerance: number;
      ok: boolean;
      worst_index: number[] | null;
      worst: string;
    }
  >;
  ok: boolean;
  first_failure: string | null;
  skipped: Record<string, string>;
}

export function toJson(report: ComparisonReport): JsonReport {
  const finite = (x: number): number | null => (Number.isFinite(x) ? x : null);
  const tensors: JsonReport['tensors'] = {};
  for (const r of report.results) {
    tensors[r.key] = {
      max_abs: finite(r.maxAbs),
      mean_abs: finite(r.meanAbs),
      shape: r.shape,
      tolerance: r.tolerance,
      ok: r.ok,
      worst_index: r.worst,
      worst: r.worstLabel,
    };
  }
  return {
    tensors,
    ok: report.ok,
    first_failure: report.firstFailure?.key ?? null,
    skipped: Object.fromEntries(report.skipped.map((s) => [s.key, s.reason])),
  };
}
