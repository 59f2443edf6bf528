// `sbert tokenize`: texts (JSONL strings by default, or plain lines) → one JSON encoding per text on stdout, as
// HF's fast tokenizer (BertTokenizerFast, XLMRobertaTokenizer) gives it. A bad line stops the run with its number
// (exit 2), as in `sbert encode`; the lines before it are printed.
import { InvalidArgumentError, type Command, Option } from 'commander';
import { UsageError } from '../errors.js';
import { DEFAULT_MODEL_ID } from '../hub/paths.js';
import { checkInputFile, HOLD_BYTES, type InputFormat, readTextItems, STDIN, unsettledLine } from './input.js';
import type { Encoding } from '../tokenizer/index.js';

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

interface TokenizeCliOptions {
  model: string;
  maxLength?: number;
  pairs?: boolean;
  input?: string;
  inputFormat: InputFormat;
}

async function run(opts: TokenizeCliOptions): Promise<void> {
  const pairs = opts.pairs === true;
  if (pairs && opts.maxLength !== undefined && opts.maxLength < 3) {
    throw new UsageError('--max-length must be at least 3 with --pairs');
  }
  if (opts.input) checkInputFile(opts.input);
  const [{ tokenizerFor }, { resolveModelDir }] = await Promise.all([
    import('../encoder/load.js'),
    import('../loader/resolve.js'),
  ]);
  const tok = tokenizerFor(resolveModelDir(opts.model));
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
  try {
    // With a max length a very long plain line is kept only as far as it can matter (as in encode).
    const hold = opts.maxLength === undefined ? undefined : HOLD_BYTES;
    for await (const item of readTextItems(opts.input, opts.inputFormat, pairs, hold)) {
      if (item.cut && !tok.prefixDecides(item.a, opts.maxLength!))
        throw unsettledLine(item.n, opts.maxLength!, opts.input ?? STDIN);
      const enc = item.b === null ? tok.encode(item.a, encodeOpts) : tok.encodePair(item.a, item.b, encodeOpts);
      const out = toJson(enc) + '\n';
      buffered.push(out);
      size += out.length;
      if (size > 1 << 16) await flush();
    }
  } finally {
    await flush(); // what came before a bad line is printed, then the error
  }
}

export function register(program: Command): void {
  program
    .command('tokenize')
    .description(
      'tokenize texts (JSONL strings, {"a", "b"} pairs with --pairs, or plain lines) like HF\'s fast tokenizer',
    )
    .option('--model <dir-or-id>', 'model folder, or hub id looked up under weights/<id>/', DEFAULT_MODEL_ID)
    .option(
      '--max-length <n>',
      'truncate to n tokens, special tokens included (longest_first for pairs)',
      parseMaxLength,
    )
    .option('--pairs', 'lines are {"a": ..., "b": ...} sentence pairs (b may be null)')
    .option('--input <file>', 'read texts from FILE instead of stdin')
    .addOption(
      new Option('--input-format <fmt>', 'one JSON string per line, or one text per line')
        .choices(['jsonl', 'lines'])
        .default('jsonl'),
    )
    .action(run);
}
