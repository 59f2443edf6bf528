// Options shared by the commands that run the model, and the one place those commands load it.
import { availableParallelism } from 'node:os';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { BACKEND_NAMES, type BackendName } from '../backend/names.js';
import { maxWorkers } from '../encoder/max-workers.js';
import type { SentenceEncoder } from '../encoder/sentence-encoder.js';
import { DEFAULT_MODEL_ID } from '../hub/paths.js';
import { downloadProgress } from './download-progress.js';

export function positiveInt(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < 1)
    throw new InvalidArgumentError('expected a positive integer');
  return n;
}

/** A comma-separated option value: `a, b,c` → ['a', 'b', 'c']. */
export const commaList = (value: string): string[] =>
  value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

/** `--allow-nonfinite`: for every command that loads a model. */
export const ALLOW_NONFINITE = [
  '--allow-nonfinite',
  'load weights holding NaN or Inf (refused by default; outputs are still never NaN)',
] as const;

export interface ModelOptions {
  model: string;
  backend: BackendName;
  workers?: number;
  maxLength?: number;
  allowNonfinite?: boolean;
}

export function addModelOptions(cmd: Command): Command {
  return cmd
    .option(
      '--model <dir|id>',
      'model folder, or hub id looked up under weights/<id>/ (downloaded when missing)',
      DEFAULT_MODEL_ID,
    )
    .addOption(new Option('--backend <name>', 'tfjs backend').choices(BACKEND_NAMES as string[]).default('auto'))
    .option('--max-length <n>', "truncate inputs to N tokens (default: the model's max_seq_length)", positiveInt)
    .option(...ALLOW_NONFINITE);
}

/**
 * The model of `--model` with the options above, after a download on first use (its progress on stderr), and
 * the line saying which backend runs it. tfjs and the engine are imported here, not where the command is
 * defined: `sbert --help` and the input checks that come before this call never load them.
 */
export async function loadEncoder(o: ModelOptions, workers = o.workers): Promise<SentenceEncoder> {
  const { SentenceEncoder } = await import('../encoder/sentence-encoder.js');
  const enc = await SentenceEncoder.load(o.model, {
    onDownload: downloadProgress(),
    backend: o.backend,
    workers,
    maxSeqLength: o.maxLength,
    allowNonFinite: o.allowNonfinite,
  });
  reportBackend(enc.backend);
  return enc;
}

/** One line on stderr saying which backend runs the model (quiet when SBERT_QUIET=1). */
export function reportBackend(choice: { name: string; reason: string }): void {
  if (process.env.SBERT_QUIET !== '1') process.stderr.write(`sbert: backend ${choice.name} (${choice.reason})\n`);
}

/**
 * A warning when --workers asks for more threads than there are cores: each worker runs whole forwards on one
 * core with its own copy of the model in its backend's memory, so the extra ones only compete for the cores
 * and memory (docs/workers.md has the measurements).
 */
export function warnWorkers(workers: number | undefined): void {
  const cores = availableParallelism();
  // Past maxWorkers() the load refuses it (exit 1): no warning first.
  if (workers === undefined || workers <= cores || workers > maxWorkers() || process.env.SBERT_QUIET === '1') return;
  process.stderr.write(
    `sbert: warning: --workers ${workers} is more than the ${cores} cores here; each worker runs on one core with its own copy of the model, so the extra ones only compete (use --workers ${cores} or fewer)\n`,
  );
}
