// `sbert compare --model M --reference REF.safetensors [--json] [--tolerance X] [--groups G,...]`:
// runs the model on the reference's ids and prints, per tensor in data-flow order, how far we are from it.
// Exit 3 when any tensor is past its tolerance.
import { type Command, InvalidArgumentError, Option } from 'commander';
import { BACKEND_NAMES, type BackendName } from '../backend/names.js';
import { DEFAULT_MODEL_ID } from '../hub/paths.js';
import type { Tokenizer } from '../tokenizer/index.js';
import { ALLOW_NONFINITE, commaList, reportBackend } from './options.js';

export const EXIT_MISMATCH = 3;

function tolerance(value: string): number {
  const x = Number(value);
  if (value.trim() === '' || !Number.isFinite(x) || x < 0)
    throw new InvalidArgumentError('expected a number ≥ 0, such as 1e-5');
  return x;
}

interface CompareCliOptions {
  model: string;
  reference: string;
  json?: boolean;
  tolerance?: number;
  groups?: string[];
  backend: BackendName;
  allowNonfinite?: boolean;
}

export function register(program: Command): void {
  program
    .command('compare')
    .description(
      "compare the model's hidden states, attentions and pools with a PyTorch reference file (exit 3 past tolerance)",
    )
    .option('--model <dir|id>', 'model folder, or hub id looked up under weights/<id>/', DEFAULT_MODEL_ID)
    .requiredOption(
      '--reference <file>',
      "reference .safetensors (the fixtures' format; scripts/dump_reference.py writes one)",
    )
    .option('--json', 'print {"tensors": {name: {"max_abs", "mean_abs", ...}}, "ok": bool, ...}')
    .option(
      '--tolerance <x>',
      'max abs error allowed for every tensor (default: 2e-5; 1e-5 for attentions and normalized pools; pool.mean_sqrt_len scaled by √length)',
      tolerance,
    )
    .option(
      '--groups <names>',
      'comma-separated batches to compare: main, pairs, long, fp16, bf16 (default: all but fp16/bf16, or just fp16/bf16 for a checkpoint stored in that dtype)',
      commaList,
    )
    .addOption(new Option('--backend <name>', 'tfjs backend').choices(BACKEND_NAMES as string[]).default('auto'))
    .option(...ALLOW_NONFINITE)
    .action(async (o: CompareCliOptions) => {
      const [
        { groupLabel },
        { loadReference },
        { formatTable, toJson },
        { loadModelDir, resolveModelDir },
        { loadTokenizer },
      ] = await Promise.all([
        import('../compare/compare.js'),
        import('../compare/reference.js'),
        import('../compare/report.js'),
        import('../loader/index.js'),
        import('../tokenizer/index.js'),
      ]);
      const reference = loadReference(o.reference);
      const loaded = loadModelDir(resolveModelDir(o.model), { allowNonFinite: o.allowNonfinite });
      let tokenizer: Tokenizer | undefined;
      try {
        tokenizer = loadTokenizer(loaded.tokenizerDir);
      } catch {
        tokenizer = undefined; // only used to label positions with their tokens
      }

      // A checkpoint stored in fp16/bf16 is checked against the references computed from those rounded weights.
      let groups = o.groups;
      const rounded = loaded.dtypes.length === 1 ? { F16: 'fp16', BF16: 'bf16' }[loaded.dtypes[0]!] : undefined;
      if (!groups && rounded && reference.groups.some((g) => g.name === rounded)) {
        groups = [rounded];
        if (!o.json)
          process.stderr.write(
            `sbert: ${loaded.dtypes[0]} checkpoint: comparing the reference's ${rounded}.* tensors\n`,
          );
      }

      const [{ setupBackend }, { runComparison }, { BertModel }] = await Promise.all([
        import('../backend/index.js'),
        import('../compare/run.js'),
        import('../model/bert.js'),
      ]);
      reportBackend(await setupBackend(o.backend));
      const model = BertModel.load(loaded.config, loaded.weights);
      try {
        const report = await runComparison(model, tokenizer, reference, { tolerance: o.tolerance, groups });
        if (o.json) {
          process.stdout.write(`${JSON.stringify(toJson(report))}\n`);
        } else {
          const compared = [...new Set(report.results.map((r) => r.group))];
          process.stdout.write(
            `model ${loaded.dir} (${loaded.format}, ${loaded.dtypes.join('/')}) vs ${reference.file}; batches: ${compared.join(', ') || 'none'}` +
              ` (of ${reference.groups.map((g) => groupLabel(g.name)).join(', ')})\n\n`,
          );
          process.stdout.write(formatTable(report));
        }
        if (!report.ok) process.exitCode = EXIT_MISMATCH;
      } finally {
        model.dispose();
      }
    });
}
