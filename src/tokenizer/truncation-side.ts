// Which end transformers cuts a text longer than the limit from: tokenizer_config.json's `truncation_side`, else
// tokenizer.json's `truncation.direction` (PreTrainedTokenizerFast takes it as the default), else the right.
// Only the right is implemented here: a model folder asking for the left is refused rather than cut at the other
// end, which gave another embedding than sentence-transformers for every text past the limit (0.04 max abs on
// the tiny model) without a word.
import { CheckpointError } from '../errors.js';
import { own } from '../io/json.js';

const LEFT =
  'truncation on the left is not supported: transformers would cut texts longer than the model takes at their start, this engine cuts them at their end';

/** A parsed tokenizer file and its path, for messages. */
export interface TokenizerFileJson {
  json: unknown;
  file: string;
}

/** Refuses a folder whose tokenizer truncates on the left (or names a side transformers does not know). */
export function checkTruncationSide(
  config: TokenizerFileJson | undefined,
  tokenizerJson: TokenizerFileJson | undefined,
): void {
  const side = config ? own(config.json, 'truncation_side') : undefined;
  if (side !== undefined && side !== null) {
    if (side === 'right') return;
    throw new CheckpointError(
      side === 'left'
        ? `truncation_side "left": ${LEFT}`
        : `truncation_side must be "right" or "left", got ${JSON.stringify(side)}`,
      config!.file,
    );
  }
  const t = tokenizerJson ? own(tokenizerJson.json, 'truncation') : undefined;
  if (t === undefined || t === null) return;
  const direction = own(t, 'direction');
  if (direction === undefined || direction === 'Right') return;
  throw new CheckpointError(
    direction === 'Left'
      ? `truncation.direction "Left": ${LEFT}`
      : `truncation.direction must be "Right" or "Left", got ${JSON.stringify(direction)}`,
    tokenizerJson!.file,
  );
}
