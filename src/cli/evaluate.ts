// `sbert evaluate --data PAIRS.tsv [--json]`: STS evaluation of the model's embeddings, as
// sentence-transformers' EmbeddingSimilarityEvaluator does it: Pearson and Spearman correlation of each
// pair's cosine (and −manhattan, −euclidean, dot) similarity with the gold score.
import type { Command } from 'commander';
import { STS_SIMILARITIES, stsMetrics } from '../encoder/sts.js';
import { InputError } from '../errors.js';
import { readLines } from './input.js';
import { count } from './plural.js';
import { addModelOptions, loadEncoder, type ModelOptions, positiveInt, warnWorkers } from './options.js';

interface StsPairs {
  a: string[];
  b: string[];
  gold: number[];
}

/** `sentence1 TAB sentence2 TAB score` per line (the Chinese STS-B layout; empty lines skipped). */
export async function readStsPairs(file: string): Promise<StsPairs> {
  const pairs: StsPairs = { a: [], b: [], gold: [] };
  for await (const { text: line, n } of readLines(file)) {
    if (line.trim() === '') continue;
    const cols = line.split('\t');
    const score = Number(cols[2]);
    if (cols.length < 3 || cols[2]!.trim() === '' || !Number.isFinite(score)) {
      throw new InputError(
        `line ${n}: expected "sentence1<TAB>sentence2<TAB>score", got ${JSON.stringify(line.slice(0, 80))}`,
        file,
      );
    }
    pairs.a.push(cols[0]!);
    pairs.b.push(cols[1]!);
    pairs.gold.push(score);
  }
  if (pairs.gold.length < 2) throw new InputError(`needs at least 2 scored pairs, found ${pairs.gold.length}`, file);
  if (pairs.gold.every((g) => g === pairs.gold[0]))
    throw new InputError('every gold score is the same: no correlation to measure', file);
  return pairs;
}

export function register(program: Command): void {
  addModelOptions(
    program
      .command('evaluate')
      .description(
        'STS evaluation: Pearson and Spearman correlation of embedding similarities with gold scores (EmbeddingSimilarityEvaluator)',
      ),
  )
    .requiredOption(
      '--data <file>',
      'sentence pairs with gold scores: sentence1<TAB>sentence2<TAB>score per line (e.g. Chinese STS-B)',
    )
    .option('--batch-size <n>', 'sentences per forward', positiveInt, 32)
    .option(
      '--workers <n>',
      'worker threads (default on wasm and cpu: one per core for large inputs; else 1)',
      positiveInt,
    )
    .option('--json', 'print {"pairs", "cosine": {"pearson", "spearman"}, "manhattan", "euclidean", "dot"}')
    .action(async (o: ModelOptions & { data: string; batchSize: number; json?: boolean }) => {
      const pairs = await readStsPairs(o.data);
      warnWorkers(o.workers);
      const enc = await loadEncoder(o);
      try {
        // As the evaluator: each column encoded on its own.
        const a = await enc.encode(pairs.a, { batchSize: o.batchSize });
        const b = await enc.encode(pairs.b, { batchSize: o.batchSize });
        const r = stsMetrics(a, b, pairs.gold);
        if (o.json) {
          process.stdout.write(`${JSON.stringify(r)}\n`);
        } else {
          process.stdout.write(
            `${count(r.pairs, 'pair')} from ${o.data}\n${'similarity'.padEnd(12)}pearson   spearman\n`,
          );
          for (const k of STS_SIMILARITIES)
            process.stdout.write(
              `${k.padEnd(12)}${r[k].pearson.toFixed(4).padStart(7)}   ${r[k].spearman.toFixed(4).padStart(8)}\n`,
            );
        }
      } finally {
        await enc.dispose();
      }
    });
}
