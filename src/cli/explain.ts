// `sbert explain --model M S1 S2 [--method ...] [--steps N] [--json] [--out FILE.png|FILE.html]`: which tokens make
// S1 and S2 similar. Prints a table of token scores (or `--json`, CONTRACT.md's object) and draws the picture.
import { writeFileSync } from 'node:fs';
import { extname } from 'node:path';
import { type Command, Option } from 'commander';
import { InputError, UsageError } from '../errors.js';
import type { Explanation } from '../explain/index.js';
import {
  ATTRIBUTION_METHODS,
  type AttributionMethod,
  checkExplainOptions,
  DEFAULT_METHOD,
} from '../explain/options.js';
import { addModelOptions, loadEncoder, type ModelOptions, positiveInt } from './options.js';
import { checkOutputFile, writeFileAtomic } from './output.js';

interface ExplainCliOptions extends ModelOptions {
  method: AttributionMethod;
  steps?: number;
  json?: boolean;
  out?: string;
}

/**
 * The picture kind `--out` asks for, and that the file can be written, checked before any work (a typo should
 * not cost a minute of gradients).
 */
function outputKind(out: string | undefined): 'png' | 'html' | undefined {
  if (out === undefined) return undefined;
  const ext = extname(out).toLowerCase();
  const kind = ext === '.png' ? 'png' : ext === '.html' || ext === '.htm' ? 'html' : undefined;
  if (!kind) throw new UsageError(`--out must end in .png or .html, got "${out}"`);
  checkOutputFile(out);
  return kind;
}

export function register(program: Command): void {
  addModelOptions(
    program
      .command('explain')
      .description('which tokens make two sentences similar: an attribution score per token of each (docs/explain.md)'),
  )
    .argument('<s1>', 'first sentence')
    .argument('<s2>', 'second sentence')
    .addOption(
      new Option('--method <m>', 'attribution method').choices(ATTRIBUTION_METHODS as string[]).default(DEFAULT_METHOD),
    )
    .option('--steps <n>', 'integrated gradients: Riemann steps (default 52)', positiveInt)
    .option('--json', 'print one JSON object: {"similarity", "method", "a": {"tokens", "offsets", "scores"}, "b", ...}')
    .option('--out <file>', 'also draw the attributions: FILE.png, or FILE.html (self-contained, offline)')
    .action(async (s1: string, s2: string, o: ExplainCliOptions) => {
      if (o.steps !== undefined && o.method !== 'integrated_gradients') {
        throw new UsageError(`--steps applies to integrated_gradients only, not ${o.method}`);
      }
      checkExplainOptions({ method: o.method, steps: o.steps });
      const kind = outputKind(o.out);
      for (const [name, s] of [
        ['S1', s1],
        ['S2', s2],
      ] as const) {
        if (s.trim() === '') throw new InputError(`${name} is empty: nothing to attribute`);
      }
      const [{ explain }, { attributionTable, renderAttributionPng }, { renderAttributionHtml }, { labelFont }] =
        await Promise.all([
          import('../explain/index.js'),
          import('../viz/attribution.js'),
          import('../viz/attribution-html.js'),
          import('../viz/font.js'),
        ]);
      const enc = await loadEncoder(o, 1);
      let r: Explanation;
      try {
        r = await explain(enc, s1, s2, { method: o.method, steps: o.steps });
      } finally {
        await enc.dispose();
      }
      process.stdout.write(o.json ? `${JSON.stringify(r)}\n` : attributionTable(r));
      if (!o.out || !kind) return;
      if (kind === 'png' && labelFont().file === null && process.env.SBERT_QUIET !== '1') {
        process.stderr.write(
          'sbert: warning: no CJK font found (install @embedpdf/fonts-sc or fonts-wqy-microhei, or set SBERT_CJK_FONT); Chinese labels may draw as boxes\n',
        );
      }
      const bytes = kind === 'png' ? renderAttributionPng(r) : await renderAttributionHtml(r);
      writeFileAtomic(o.out, (tmp) => writeFileSync(tmp, bytes));
    });
}
