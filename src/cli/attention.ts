// `sbert attention --model M TEXT [--layer L] [--head H] --out FILE.png|FILE.html`: attention maps of one
// text as a PNG heatmap or a self-contained HTML head view.
import { writeFileSync } from 'node:fs';
import { extname } from 'node:path';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { BACKEND_NAMES, type BackendName } from '../backend/names.js';
import { InputError, UsageError } from '../errors.js';
import { DEFAULT_MODEL_ID } from '../hub/paths.js';
import { ALLOW_NONFINITE, positiveInt, reportBackend } from './options.js';
import { checkOutputFile, writeFileAtomic } from './output.js';
import { count } from './plural.js';
import { formatBytes } from './progress.js';

export const MAX_HTML_TOKENS = 256;

function index(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n))
    throw new InvalidArgumentError('expected an integer ≥ 0');
  return n;
}

interface AttentionCliOptions {
  model: string;
  layer?: number;
  head?: number;
  out: string;
  backend: BackendName;
  maxLength?: number;
  allowNonfinite?: boolean;
}

export function register(program: Command): void {
  program
    .command('attention')
    .description('draw the attention maps of TEXT: a PNG heatmap, or an offline HTML head view (all layers and heads)')
    .argument('<text>', 'the text to look at')
    .option('--model <dir|id>', 'model folder, or hub id looked up under weights/<id>/', DEFAULT_MODEL_ID)
    .option('--layer <l>', 'layer (0-based); PNG without --head: every head of this layer', index)
    .option('--head <h>', 'head (0-based); PNG without --layer: this head in every layer', index)
    .requiredOption(
      '--out <file>',
      "FILE.png (heatmap; neither --layer nor --head: each layer's mean over heads) or FILE.html",
    )
    .option('--max-length <n>', 'truncate TEXT to N tokens', positiveInt)
    .addOption(new Option('--backend <name>', 'tfjs backend').choices(BACKEND_NAMES as string[]).default('auto'))
    .option(...ALLOW_NONFINITE)
    .action(async (text: string, o: AttentionCliOptions) => {
      const kind = extname(o.out).toLowerCase();
      if (kind !== '.png' && kind !== '.html' && kind !== '.htm')
        throw new UsageError(`--out must end in .png or .html, got "${o.out}"`);
      checkOutputFile(o.out);
      const [{ resolveModelDir }, { loadModelAndTokenizer }] = await Promise.all([
        import('../loader/resolve.js'),
        import('../encoder/load.js'),
      ]);
      const { loaded, tokenizer } = loadModelAndTokenizer(resolveModelDir(o.model), {
        allowNonFinite: o.allowNonfinite,
      });
      const { numHiddenLayers: nl, numAttentionHeads: nh } = loaded.config;
      // Check the options before the forward, so a typo costs nothing.
      if (o.layer !== undefined && o.layer >= nl)
        throw new UsageError(`--layer must be in 0..${nl - 1}, got ${o.layer}`);
      if (o.head !== undefined && o.head >= nh) throw new UsageError(`--head must be in 0..${nh - 1}, got ${o.head}`);

      const [{ setupBackend }, { BertModel }, { attentionMaps }, { labelFont }, heatmap, headview, { selectPanels }] =
        await Promise.all([
          import('../backend/index.js'),
          import('../model/bert.js'),
          import('../viz/extract.js'),
          import('../viz/font.js'),
          import('../viz/heatmap.js'),
          import('../viz/headview.js'),
          import('../viz/maps.js'),
        ]);
      reportBackend(await setupBackend(o.backend));
      const model = BertModel.load(loaded.config, loaded.weights);
      let maps;
      try {
        maps = await attentionMaps(model, tokenizer, text, { maxLength: o.maxLength });
      } finally {
        model.dispose();
      }
      let bytes: Buffer | string;
      let what: string;
      if (kind === '.png') {
        if (labelFont().file === null && process.env.SBERT_QUIET !== '1') {
          process.stderr.write(
            'sbert: warning: no CJK font found (install @embedpdf/fonts-sc or fonts-wqy-microhei, or set SBERT_CJK_FONT); Chinese labels may draw as boxes\n',
          );
        }
        const panels = selectPanels(maps, { layer: o.layer, head: o.head });
        bytes = heatmap.renderHeatmapPng(maps.tokens, panels, text);
        what = `a PNG heatmap of ${count(panels.length, 'map')}`;
      } else {
        // L² lines per head: past this the page is tens of MB and the lines a solid block.
        if (maps.tokens.length > MAX_HTML_TOKENS) {
          throw new InputError(
            `TEXT has ${maps.tokens.length} tokens; the HTML head view shows at most ${MAX_HTML_TOKENS} (use --max-length ${MAX_HTML_TOKENS}, or a .png)`,
          );
        }
        bytes = headview.renderHeadViewHtml(maps, { title: text, layer: o.layer, head: o.head });
        what = `an HTML head view of ${count(nl, 'layer')} × ${count(nh, 'head')}`;
      }
      writeFileAtomic(o.out, (tmp) => writeFileSync(tmp, bytes));
      if (process.env.SBERT_QUIET !== '1') {
        process.stderr.write(
          `sbert: wrote ${o.out}: ${what}, ${count(maps.tokens.length, 'token')} (${formatBytes(Buffer.byteLength(bytes))})\n`,
        );
      }
    });
}
