// Tokenizer throughput: every sentence of the Chinese STS-B train split (both columns, 10 462), one at a
// time as `encode` does it, and in padded batches of 32 as SentenceEncoder's batching sees them; with the
// WordPiece tokenizer of the Chinese BERT and with XLM-R's SentencePiece Unigram tokenizer (the fixtures'
// real-format 8 002-piece model: Precompiled normalizer, Metaspace, Viterbi).
import type { Suite } from '../harness.js';
import type { BenchEnv } from '../env.js';
import { stsSentences } from '../inputs.js';
import { XLMRobertaTokenizer } from '../../src/tokenizer/xlmr-tokenizer.js';
import { fixture } from '../../test/fixtures.js';

export function tokenizerSuite(env: BenchEnv): Suite {
  return {
    name: 'tokenizer',
    title: 'Tokenizer throughput (STS-B train sentences, one thread)',
    async run(ctx) {
      const tok = env.tokenizer();
      const sentences = stsSentences('train');
      let tokens = 0;
      let chars = 0;
      for (const s of sentences) {
        tokens += tok.encode(s).inputIds.length;
        chars += [...s].length;
      }
      ctx.note('corpus', { file: 'sts-b.train.tsv', sentences: sentences.length, tokens, chars });
      const work = { sentences: sentences.length, tokens, chars };
      await ctx.runCase({
        name: 'encode, one sentence at a time',
        params: { api: 'encode' },
        work,
        fn: () => {
          for (const s of sentences) tok.encode(s);
        },
      });
      const chunks: string[][] = [];
      for (let i = 0; i < sentences.length; i += 32) chunks.push(sentences.slice(i, i + 32));
      await ctx.runCase({
        name: 'encodeBatch, 32 per batch, padded',
        params: { api: 'encodeBatch', batchSize: 32 },
        work,
        fn: () => {
          for (const c of chunks) tok.encodeBatch(c, { padding: true });
        },
      });
      const xlmr = XLMRobertaTokenizer.fromDir(fixture('xlmr', 'xlmr-tiny', 'hf'));
      let xlmrTokens = 0;
      for (const s of sentences) xlmrTokens += xlmr.encode(s).inputIds.length;
      const xlmrWork = { sentences: sentences.length, tokens: xlmrTokens, chars };
      await ctx.runCase({
        name: 'XLM-R SentencePiece: encode, one sentence at a time',
        params: { api: 'encode', tokenizer: 'xlmr' },
        work: xlmrWork,
        fn: () => {
          for (const s of sentences) xlmr.encode(s);
        },
      });
      await ctx.runCase({
        name: 'XLM-R SentencePiece: encodeBatch, 32 per batch, padded',
        params: { api: 'encodeBatch', batchSize: 32, tokenizer: 'xlmr' },
        work: xlmrWork,
        fn: () => {
          for (const c of chunks) xlmr.encodeBatch(c, { padding: true });
        },
      });
    },
  };
}
