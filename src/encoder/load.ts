// A model folder's tokenizer and weights, loaded in the order that fails fastest: the tokenizer's small files
// first (a folder without one, or a bad setting, is reported before hundreds of MB of weights are read), then
// the weights, then the check that every id the tokenizer can produce has a row in the embedding table.
import { dirname, join } from 'node:path';
import { CheckpointError } from '../errors.js';
import {
  type LoadedModel,
  type LoadOptions,
  loadModelDir,
  sentenceTransformers,
  tokenizerDirOf,
} from '../loader/index.js';
import { BertTokenizer, loadTokenizer, type Tokenizer } from '../tokenizer/index.js';

/**
 * The tokenizer a model folder uses (reads no weights). sentence_bert_config.json's `do_lower_case: true` is
 * honoured only where it changes nothing: a WordPiece tokenizer that lowercases already.
 */
export function tokenizerFor(dir: string): Tokenizer {
  const st = sentenceTransformers(dir);
  const tokenizer = loadTokenizer(tokenizerDirOf(dir, st));
  if (st?.lowerCaseFile && !(tokenizer instanceof BertTokenizer && tokenizer.settings.doLowerCase)) {
    throw new CheckpointError(
      `do_lower_case true is not supported with a tokenizer that keeps case (${tokenizer.tokenizerClass}): sentence-transformers would lowercase every text first`,
      st.lowerCaseFile,
    );
  }
  return tokenizer;
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
