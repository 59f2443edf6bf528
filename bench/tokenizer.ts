// Tokenizer throughput on one core: every sentence of the Chinese STS-B train split (both columns), encoded
// with its specials into a full Encoding (ids, types, mask, tokens, offsets), as `sbert encode` does; by the
// WordPiece tokenizer and by XLM-R's SentencePiece Unigram tokenizer, one after the other.
//   npx tsc -p tsconfig.json && node dist/bench/tokenizer.js [seconds per tokenizer] [wordpiece|unigram]
import { readFileSync } from 'node:fs';
import { BertTokenizer } from '../src/tokenizer/index.js';
import { XLMRobertaTokenizer } from '../src/tokenizer/xlmr-tokenizer.js';
import { corpus, fixture } from '../test/fixtures.js';

const seconds = Number(process.argv[2] ?? 3);
const sentences: string[] = [];
for (const line of readFileSync(corpus('sts-b.train.tsv'), 'utf8').split('\n')) {
  const cols = line.split('\t');
  if (cols.length < 2) continue;
  sentences.push(cols[0]!, cols[1]!);
}
const only = process.argv[3]; // one tokenizer alone, e.g. to time two processes against each other
const tokenizers: [string, { encode(s: string): { inputIds: number[] } }][] = [];
if (only !== 'unigram')
  tokenizers.push(['WordPiece (Chinese BERT vocab.txt)', BertTokenizer.fromFiles({ vocab: fixture('vocab.txt') })]);
if (only !== 'wordpiece') {
  tokenizers.push([
    'SentencePiece Unigram (XLM-R, 8 002 pieces)',
    XLMRobertaTokenizer.fromDir(fixture('xlmr', 'xlmr-tiny', 'hf')),
  ]);
}
const fmt = (x: number): string => Math.round(x).toLocaleString('en-US');
console.log(`corpus: ${sentences.length} sentences; node ${process.version}, one thread, ${seconds}s per tokenizer`);

for (const [name, tok] of tokenizers) {
  const pass = (): number => {
    let tokens = 0;
    for (const s of sentences) tokens += tok.encode(s).inputIds.length;
    return tokens;
  };

  // Warm up: fills the character tables and lets V8 optimise the hot loop.
  for (let i = 0; i < 5; i++) pass();

  // Wall-clock rate per pass, and the rate per second of this process's CPU time (less disturbed when other
  // processes share the cores; it includes V8's GC helper threads, so it is not flattering).
  const rates: number[] = [];
  const cpuRates: number[] = [];
  let tokensPerPass = 0;
  const until = performance.now() + seconds * 1000;
  while (performance.now() < until) {
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    tokensPerPass = pass();
    const cpu = process.cpuUsage(c0);
    rates.push(sentences.length / ((performance.now() - t0) / 1000));
    cpuRates.push(sentences.length / ((cpu.user + cpu.system) / 1e6));
  }
  rates.sort((a, b) => a - b);
  cpuRates.sort((a, b) => a - b);
  const median = rates[Math.floor(rates.length / 2)]!;
  const cpuMedian = cpuRates[Math.floor(cpuRates.length / 2)]!;
  const tokensPerSentence = tokensPerPass / sentences.length;
  console.log(
    `\n${name}: ${fmt(tokensPerPass)} tokens with specials (${tokensPerSentence.toFixed(1)}/sentence), ${rates.length} passes`,
  );
  console.log(
    `sentences/s: ${fmt(median)} (median pass; best ${fmt(rates[rates.length - 1]!)}, worst ${fmt(rates[0]!)})`,
  );
  console.log(`tokens/s:    ${fmt(median * tokensPerSentence)}`);
  console.log(
    `per CPU-second: ${fmt(cpuMedian)} sentences/s, ${fmt(cpuMedian * tokensPerSentence)} tokens/s (median pass)`,
  );
}
