// `sbert similarity S1 S2 [S3 ...]`: cosine similarity of S1 to each other sentence (the model card's widget).
import type { Command } from 'commander';
import { SentenceEncoder } from '../encoder/sentence-encoder.js';
import { addModelOptions, type ModelOptions, reportBackend } from './options.js';

export function cosine(a: Float32Array, b: Float32Array): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!;
    na += a[i]! * a[i]!;
    nb += b[i]! * b[i]!;
  }
  // As torch's cosine_similarity: each norm clamped to eps = 1e-8.
  return dot / (Math.max(Math.sqrt(na), 1e-8) * Math.max(Math.sqrt(nb), 1e-8));
}

export function register(program: Command): void {
  addModelOptions(program.command('similarity').description('cosine similarity of the first sentence to each of the others'))
    .argument('<source>', 'the sentence to compare')
    .argument('<others...>', 'sentences to compare it with')
    .option('--json', 'print JSON: {"source": ..., "similarities": [{"sentence", "score"}]}')
    .action(async (source: string, others: string[], o: ModelOptions & { json?: boolean }) => {
      const enc = await SentenceEncoder.load(o.model, { backend: o.backend, maxSeqLength: o.maxLength, workers: 1 });
      try {
        reportBackend(enc.backend);
        const [first, ...rest] = await enc.encode([source, ...others]);
        const scores = rest.map((v, i) => ({ sentence: others[i]!, score: cosine(first!, v) }));
        if (o.json) {
          process.stdout.write(`${JSON.stringify({ source, similarities: scores })}\n`);
        } else {
          process.stdout.write(`${source}\n`);
          for (const s of scores) process.stdout.write(`  ${s.score.toFixed(4)}  ${s.sentence}\n`);
        }
      } finally {
        await enc.dispose();
      }
    });
}
