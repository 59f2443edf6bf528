// `sbert search --corpus FILE QUERY [QUERY ...] [--top-k K] [--json]`: the corpus sentences most similar to
// each query by cosine of their embeddings (sentence-transformers' util.semantic_search).
import { type Command, Option } from 'commander';
import { semanticSearch } from '../encoder/similarity.js';
import { InputError } from '../errors.js';
import { type InputFormat, readSentences } from './input.js';
import { addModelOptions, loadEncoder, type ModelOptions, positiveInt, warnWorkers } from './options.js';

interface SearchCliOptions extends ModelOptions {
  corpus: string;
  inputFormat: InputFormat;
  topK: number;
  json?: boolean;
}

export function register(program: Command): void {
  addModelOptions(
    program
      .command('search')
      .description('the corpus sentences most similar to each query (cosine of embeddings, like util.semantic_search)'),
  )
    .argument('<queries...>', 'the sentences to look for')
    .requiredOption(
      '--corpus <file>',
      'the sentences to search, one per line (or JSONL strings with --input-format jsonl)',
    )
    .addOption(new Option('--input-format <fmt>', 'corpus format').choices(['lines', 'jsonl']).default('lines'))
    .option('--top-k <k>', 'hits per query', positiveInt, 5)
    .option(
      '--workers <n>',
      'worker threads (default on wasm and cpu: one per core for large corpora; else 1)',
      positiveInt,
    )
    .option('--json', 'print one JSON line per query: {"query", "hits": [{"corpus_id", "sentence", "score"}]}')
    .action(async (queries: string[], o: SearchCliOptions) => {
      const corpus: string[] = [];
      for await (const s of readSentences(o.corpus, o.inputFormat)) corpus.push(s.text);
      if (!corpus.length) throw new InputError('the corpus has no sentences', o.corpus);
      warnWorkers(o.workers);
      const enc = await loadEncoder(o);
      try {
        const [corpusVecs, queryVecs] = [await enc.encode(corpus), await enc.encode(queries)];
        semanticSearch(queryVecs, corpusVecs, { topK: o.topK }).forEach((hits, q) => {
          if (o.json) {
            const rows = hits.map((h) => ({ corpus_id: h.corpusId, sentence: corpus[h.corpusId], score: h.score }));
            process.stdout.write(`${JSON.stringify({ query: queries[q], hits: rows })}\n`);
          } else {
            process.stdout.write(`${queries[q]}\n`);
            for (const h of hits) process.stdout.write(`  ${h.score.toFixed(4)}  ${corpus[h.corpusId]}\n`);
          }
        });
      } finally {
        await enc.dispose();
      }
    });
}
