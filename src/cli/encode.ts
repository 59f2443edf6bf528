// `sbert encode`: sentences in (file or stdin), one embedding per sentence out, in input order, streamed
// in chunks so that memory stays bounded however long the input is.
import type { Writable } from 'node:stream';
import { once } from 'node:events';
import { type Command, Option } from 'commander';
import { InputError, UsageError } from '../errors.js';
import { firstNonFinite } from '../loader/finite.js';
import { POOLING_MODES, type PoolingMode } from '../loader/pooling-config.js';
import { checkInputFile, chunks, HOLD_BYTES, type InputFormat, readSentences, STDIN, unsettledLine } from './input.js';
import { npyHeader } from './npy.js';
import { addModelOptions, loadEncoder, type ModelOptions, positiveInt, warnWorkers } from './options.js';
import { type AtomicOutput, checkOutputFile, openOutputFile } from './output.js';
import { createProgressBar } from './progress.js';

interface EncodeCliOptions extends ModelOptions {
  pooling?: PoolingMode | 'none';
  normalize?: boolean;
  batchSize: number;
  input?: string;
  inputFormat: InputFormat;
  format: 'jsonl' | 'npy';
  output?: string;
}

/** Sentences encoded per chunk: enough for length sorting and all workers, small enough to bound memory. */
const CHUNK = 2048;

/** The shortest decimal that reads back as the same float32. */
const f32 = (x: number): string => String(Number(x.toPrecision(9)));

/** Nothing non-finite is ever written (JSON has no NaN; a .npy of NaN is silently wrong): the last guard. */
function finite(v: Float32Array, n: number, source: string): Float32Array {
  if (firstNonFinite(v) >= 0) {
    throw new InputError(`the embedding of sentence ${n} is not finite; nothing more is written`, source);
  }
  return v;
}

async function write(out: Writable, data: string | Uint8Array): Promise<void> {
  if (!out.write(data)) await once(out, 'drain');
}

export function register(program: Command): void {
  addModelOptions(program.command('encode').description('embed sentences (one per line, or JSONL strings)'))
    .addOption(
      new Option(
        '--pooling <mode>',
        "pooling (default: the model's, else mean); none = every token's last hidden state",
      ).choices([...POOLING_MODES, 'none']),
    )
    .option('--normalize', 'L2-normalise the embeddings')
    .option('--batch-size <n>', 'sentences per forward', positiveInt, 32)
    .option(
      '--workers <n>',
      'worker threads (default on wasm and cpu: one per core for large inputs; else 1)',
      positiveInt,
    )
    .option('--input <file>', 'read sentences from FILE instead of stdin')
    .addOption(new Option('--input-format <fmt>', 'input format').choices(['lines', 'jsonl']).default('lines'))
    .addOption(new Option('--format <fmt>', 'output format').choices(['jsonl', 'npy']).default('jsonl'))
    .option(
      '--output <file>',
      'write to FILE instead of stdout (whole or not at all: written aside, renamed when done)',
    )
    .action(async (o: EncodeCliOptions) => {
      if (o.format === 'npy' && o.pooling === 'none')
        throw new UsageError('--format npy needs pooled embeddings, not --pooling none');
      // Every input and output is checked before the model loads.
      if (o.input) checkInputFile(o.input);
      if (o.output) checkOutputFile(o.output);
      warnWorkers(o.workers);
      const enc = await loadEncoder(o);
      let file: AtomicOutput | undefined;
      const bar = createProgressBar({ unit: 'sentences', label: 'encode' });
      try {
        // A very long plain line is kept only as far as it can matter: check that its start settles its tokens.
        const name = o.input ?? STDIN;
        async function* sentences(): AsyncGenerator<string> {
          for await (const line of readSentences(o.input, o.inputFormat, HOLD_BYTES)) {
            if (line.cut && !enc.tokenizer.prefixDecides(line.text, enc.maxSeqLength))
              throw unsettledLine(line.n, enc.maxSeqLength, name);
            yield line.text;
          }
        }
        // .npy needs the row count in its header: read the (small) text first, then stream the vectors.
        let source: AsyncIterable<string> = sentences();
        let total: number | undefined;
        if (o.format === 'npy') {
          const all: string[] = [];
          for await (const s of source) all.push(s);
          source = (async function* () {
            yield* all;
          })();
          total = all.length;
          if (total === 0) throw new InputError('no sentences to encode (empty input)', name);
        }
        file = o.output ? await openOutputFile(o.output) : undefined;
        const out: Writable = file?.stream ?? process.stdout;
        if (total !== undefined) await write(out, npyHeader(total, enc.dimension));
        bar.start(total ?? 0);
        let done = 0;
        for await (const chunk of chunks(source, CHUNK)) {
          if (total === undefined) bar.setTotal(done + chunk.length);
          const opts = { batchSize: o.batchSize, onProgress: (n: number) => bar.update(done + n) };
          const source = enc.loaded.weightsFile;
          let n = done;
          if (o.pooling === 'none') {
            for (const tokens of await enc.encodeTokens(chunk, opts)) {
              n++;
              const rows = tokens.map((t) => `[${Array.from(finite(t, n, source), f32).join(',')}]`);
              await write(out, `{"tokens":[${rows.join(',')}]}\n`);
            }
          } else {
            const vectors = await enc.encode(chunk, { ...opts, pooling: o.pooling, normalize: o.normalize });
            for (const v of vectors) {
              finite(v, ++n, source);
              await write(
                out,
                o.format === 'npy'
                  ? new Uint8Array(v.buffer, v.byteOffset, v.byteLength)
                  : `{"embedding":[${Array.from(v, f32).join(',')}]}\n`,
              );
            }
          }
          done += chunk.length;
        }
        if (done === 0) throw new InputError('no sentences to encode (empty input)', name);
        await file?.commit();
        file = undefined;
      } finally {
        bar.stop();
        await file?.abort();
        await enc.dispose();
      }
    });
}
