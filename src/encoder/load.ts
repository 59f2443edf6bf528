// A model folder's tokenizer and weights, loaded in the order that fails fastest: the tokenizer's small files
// first (a folder without one, or a bad setting, is reported before hundreds of MB of weights are read), then
// the weights, then the check that every id the tokenizer can produce has a row in the embedding table.
import { dirname, join } from 'node:path';
import { type LoadedModel, type LoadOptions, loadModelDir, tokenizerDirOf } from '../loader/index.js';
import { loadTokenizer, type Tokenizer } from '../tokenizer/index.js';

/** The tokenizer a model folder uses (reads no weights). */
export function tokenizerFor(dir: string): Tokenizer {
  return loadTokenizer(tokenizerDirOf(dir));
}

export function loadModelAndTokenizer(
  dir: string,
  opts: LoadOptions = {},
): { loaded: LoadedModel; tokenizer: Tokenizer } {
  const tokenizer = tokenizerFor(dir);
  const loaded = loadModelDir(dir, opts);
  tokenizer.checkVocabSize(loaded.config.vocabSize, join(dirname(loaded.weightsFile), 'config.json'));
  return { loaded, tokenizer };
}
