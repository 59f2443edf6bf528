// `sbert dump --model M [TEXT ...] --out FILE.safetensors [--tensors LIST] [--hooks LIST|all]`: runs the
// model on the texts (one padded batch) and writes the ids and every activation it computed, under the
// reference keys `sbert compare` reads, so PyTorch, numpy or `sbert compare` can check them.
import { type Command, Option } from 'commander';
import { BACKEND_NAMES, type BackendName } from '../backend/names.js';
import { UsageError } from '../errors.js';
import { DEFAULT_MODEL_ID } from '../hub/paths.js';
import { type InputFormat, readTextItems, type TextItem } from './input.js';
import { ALLOW_NONFINITE, commaList, positiveInt, reportBackend } from './options.js';
import { checkOutputFile, writeFileAtomic } from './output.js';
import { count } from './plural.js';

/** Texts longer than this (all together, as JSON) are left out of the file's metadata. */
const MAX_METADATA_TEXT = 1 << 20;

interface DumpCliOptions {
  model: string;
  out: string;
  input?: string;
  inputFormat: InputFormat;
  maxLength?: number;
  tensors?: string[];
  hooks?: string[];
  pairs?: boolean;
  backend: BackendName;
  allowNonfinite?: boolean;
}

export function register(program: Command): void {
  program
    .command('dump')
    .description(
      'run the model on texts and write the ids, hidden states, attentions, layer internals and pools to a .safetensors file (the reference format of sbert compare)',
    )
    .argument('[texts...]', 'the texts (one padded batch); without them, read --input or stdin')
    .option('--model <dir|id>', 'model folder, or hub id looked up under weights/<id>/', DEFAULT_MODEL_ID)
    .requiredOption('--out <file>', 'the .safetensors file to write')
    .option('--input <file>', 'read the texts from FILE (default: stdin) when none are given as arguments')
    .addOption(
      new Option('--input-format <fmt>', 'one text per line, or one JSON string per line')
        .choices(['lines', 'jsonl'])
        .default('lines'),
    )
    .option('--pairs', 'sentence pairs: JSONL {"a": ..., "b": ...} lines from --input or stdin (token_type_ids 1 on b)')
    .option('--max-length <n>', "truncate each text to N tokens (default: the model's position limit)", positiveInt)
    .option(
      '--tensors <list>',
      'comma-separated keys or families to write (default: all): hidden_states, attentions, layer, last_hidden_state, pool, or keys such as attentions.0, layer.1.intermediate',
      commaList,
    )
    .option(
      '--hooks <list>',
      'also write these TransformerLens hook points (blocks.0.attn.hook_pattern, ...), or all',
      commaList,
    )
    .addOption(new Option('--backend <name>', 'tfjs backend').choices(BACKEND_NAMES as string[]).default('auto'))
    .option(...ALLOW_NONFINITE)
    .action(async (args: string[], o: DumpCliOptions) => {
      if (!o.out.endsWith('.safetensors')) throw new UsageError(`--out must end in .safetensors, got "${o.out}"`);
      if (o.pairs && args.length)
        throw new UsageError('--pairs reads {"a", "b"} lines from --input or stdin, not arguments');
      checkOutputFile(o.out);
      const items: TextItem[] = args.map((a) => ({ a, b: null }));
      if (!items.length) {
        for await (const { a, b } of readTextItems(o.input, o.pairs ? 'jsonl' : o.inputFormat, o.pairs === true))
          items.push({ a, b });
      }
      if (!items.length)
        throw new UsageError('no texts: give them as arguments, or one per line on stdin or in --input');

      const [{ resolveModelDir }, { loadModelAndTokenizer }, { maxTokens }, { writeSafetensors }] = await Promise.all([
        import('../loader/resolve.js'),
        import('../encoder/load.js'),
        import('../loader/config.js'),
        import('../loader/safetensors.js'),
      ]);
      const { loaded, tokenizer } = loadModelAndTokenizer(resolveModelDir(o.model), {
        allowNonFinite: o.allowNonfinite,
      });
      const maxLength = Math.min(o.maxLength ?? Infinity, maxTokens(loaded.config));
      const encodings = tokenizer.encodePairBatch(
        items.map((i) => [i.a, i.b]),
        { maxLength },
      );
      const texts = o.pairs ? items : items.map((i) => i.a);
      const [tf, { setupBackend }, { dumpActivations }, { BertModel }] = await Promise.all([
        import('@tensorflow/tfjs-core'),
        import('../backend/index.js'),
        import('../compare/dump.js'),
        import('../model/bert.js'),
      ]);
      reportBackend(await setupBackend(o.backend));
      const model = BertModel.load(loaded.config, loaded.weights);
      try {
        const tensors = await dumpActivations(model, encodings, { tensors: o.tensors, hooks: o.hooks });
        const textJson = JSON.stringify(texts);
        writeFileAtomic(o.out, (tmp) =>
          writeSafetensors(tmp, tensors, {
            format: 'sbert-tfjs dump',
            model: loaded.dir,
            backend: tf.getBackend(),
            tfjs: tf.version_core,
            date: new Date().toISOString(),
            texts:
              textJson.length <= MAX_METADATA_TEXT
                ? textJson
                : `(${count(texts.length, 'text')}, left out: over ${MAX_METADATA_TEXT} characters)`,
          }),
        );
        const L = encodings[0]!.inputIds.length;
        if (process.env.SBERT_QUIET !== '1') {
          process.stderr.write(
            `sbert: wrote ${count(tensors.length - 3, 'tensor')} for ${count(texts.length, o.pairs ? 'pair' : 'text')} × ${count(L, 'token')} to ${o.out}\n`,
          );
        }
      } finally {
        model.dispose();
      }
    });
}
