// `sbert tokenize`: JSONL texts on stdin → one JSON encoding per line on stdout, as HF BertTokenizerFast gives it.
// A bad line gets an `error:` line on stderr (naming its number) and no output; the others go on; exit 2 at the end.
import { createInterface } from 'node:readline';
import { InvalidArgumentError, type Command } from 'commander';
import { UsageError } from '../errors.js';
import { DEFAULT_MODEL_ID } from '../hub/paths.js';
import { resolveModelDir } from '../loader/resolve.js';
import { parseTextLine } from './input.js';
import { BertTokenizer, type Encoding } from '../tokenizer/index.js';

function parseMaxLength(v: string): number {
  const n = Number(v);
  if (!/^\d+$/.test(v) || !Number.isSafeInteger(n) || n < 2) {
    throw new InvalidArgumentError('expected an integer of at least 2 (3 with --pairs)');
  }
  return n;
}

function toJson(e: Encoding): string {
  return JSON.stringify({
    input_ids: e.inputIds,
    token_type_ids: e.tokenTypeIds,
    attention_mask: e.attentionMask,
    tokens: e.tokens,
    offsets: e.offsets,
  });
}

async function run(opts: { model: string; maxLength?: number; pairs?: boolean }): Promise<void> {
  const pairs = opts.pairs === true;
  if (pairs && opts.maxLength !== undefined && opts.maxLength < 3) {
    throw new UsageError('--max-length must be at least 3 with --pairs');
  }
  const tok = BertTokenizer.fromDir(resolveModelDir(opts.model));
  const encodeOpts = opts.maxLength === undefined ? {} : { maxLength: opts.maxLength };

  let buffered: string[] = [];
  let size = 0;
  const flush = async (): Promise<void> => {
    if (buffered.length === 0) return;
    const chunk = buffered.join('');
    buffered = [];
    size = 0;
    if (!process.stdout.write(chunk)) await new Promise((r) => process.stdout.once('drain', r));
  };

  let lineNo = 0;
  let failed = 0;
  const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
  for await (const line of lines) {
    lineNo++;
    const item = parseTextLine(line, pairs);
    if (typeof item === 'string') {
      await flush(); // keep stdout and stderr in input order for a reader of both
      process.stderr.write(`error: stdin line ${lineNo}: ${item}\n`);
      failed++;
      continue;
    }
    const enc = item.b === null ? tok.encode(item.a, encodeOpts) : tok.encodePair(item.a, item.b, encodeOpts);
    const out = toJson(enc) + '\n';
    buffered.push(out);
    size += out.length;
    if (size > 1 << 16) await flush();
  }
  await flush();
  if (failed > 0) process.exitCode = 2;
}

export function register(program: Command): void {
  program
    .command('tokenize')
    .description('tokenize JSONL texts from stdin (one JSON string per line, or {"a", "b"} with --pairs) like HF BertTokenizerFast')
    .option('--model <dir-or-id>', 'model folder, or hub id looked up under weights/<id>/', DEFAULT_MODEL_ID)
    .option('--max-length <n>', 'truncate to n tokens, special tokens included (longest_first for pairs)', parseMaxLength)
    .option('--pairs', 'lines are {"a": ..., "b": ...} sentence pairs (b may be null)')
    .action(run);
}
