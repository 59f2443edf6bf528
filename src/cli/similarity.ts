// `sbert similarity S1 S2 [S3 ...]`: cosine similarity of S1 to each other sentence (the model card's widget).
import type { Command } from 'commander';
import { cosine } from '../encoder/similarity.js';
import { addModelOptions, loadEncoder, type ModelOptions } from './options.js';

export function register(program: Command): void {
  addModelOptions(
    program.command('similarity').description('cosine similarity of the first sentence to each of the others'),
  )
    .argument('<source>', 'the sentence to compare')
    .argument('<others...>', 'sentences to compare it with')
    .option('--json', 'print JSON: {"source": ..., "similarities": [{"sentence", "score"}]}')
    .action(async (source: string, others: string[], o: ModelOptions & { json?: boolean }) => {
      const enc = await loadEncoder(o, 1);
      try {
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
