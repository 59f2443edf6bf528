// What every tokenizer returns and the post-processing they share: HF tokenizers' truncation (`longest_first`)
// and padding, and the check that a tokenizer's ids fit the model's embedding table.
import { CheckpointError, UsageError } from '../errors.js';

/** Tokens of one text: parallel arrays, appended to. */
export interface TokenSink {
  ids: number[];
  starts: number[];
  ends: number[];
}

export interface Encoding {
  inputIds: number[];
  tokenTypeIds: number[];
  attentionMask: number[];
  tokens: string[];
  /** [start, end) in Unicode code points of the text the token came from; [0, 0] for special tokens. */
  offsets: [number, number][];
}

export interface EncodeOptions {
  /** Truncate to this many tokens, special tokens included (HF `truncation=True, max_length=N`). */
  maxLength?: number;
}

export function checkMaxLength(n: number, specials: number): number {
  if (!Number.isInteger(n) || n < specials) {
    throw new UsageError(
      `max length must be an integer of at least ${specials} (room for the special tokens), got ${n}`,
    );
  }
  return n;
}

export function truncate(s: TokenSink, n: number): void {
  if (s.ids.length <= n) return;
  s.ids.length = n;
  s.starts.length = n;
  s.ends.length = n;
}

/**
 * Lengths after HF tokenizers' `longest_first` truncation to `max` tokens in all: the shorter sequence keeps
 * its length if the longer can take the rest; otherwise each gets half (the longer one the odd token).
 */
export function longestFirst(n1: number, n2: number, max: number): [number, number] {
  if (n1 + n2 <= max) return [n1, n2];
  const swap = n1 > n2;
  let short = swap ? n2 : n1;
  let long: number;
  if (short > max) long = short;
  else long = Math.max(short, max - short);
  if (short + long > max) {
    short = Math.floor(max / 2);
    long = short + (max % 2);
  }
  const [a, b] = swap ? [long, short] : [short, long];
  return [Math.min(n1, a), Math.min(n2, b)];
}

/** What `encodeAll` needs of a tokenizer. */
interface PairEncoder {
  encode(text: string, opts?: EncodeOptions): Encoding;
  encodePair(first: string, second: string, opts?: EncodeOptions): Encoding;
  pad(encs: Encoding[]): Encoding[];
}

/** Texts or pairs ([a, b], b null: a single text) encoded, then padded to the longest unless `padding` is false. */
export function encodeAll(
  tok: PairEncoder,
  items: readonly (string | [string, string | null])[],
  opts: EncodeOptions & { padding?: boolean },
): Encoding[] {
  const encs = items.map((it) =>
    typeof it === 'string' || it[1] === null
      ? tok.encode(typeof it === 'string' ? it : it[0], opts)
      : tok.encodePair(it[0], it[1], opts),
  );
  return opts.padding === false ? encs : tok.pad(encs);
}

/** Pads encodings in place to the longest one: `padId` / `padToken`, type 0, mask 0, offsets [0, 0]. */
export function padEncodings(encs: Encoding[], padId: number, padToken: string): Encoding[] {
  const len = encs.reduce((m, e) => Math.max(m, e.inputIds.length), 0);
  for (const e of encs) {
    for (let i = e.inputIds.length; i < len; i++) {
      e.inputIds.push(padId);
      e.tokenTypeIds.push(0);
      e.attentionMask.push(0);
      e.tokens.push(padToken);
      e.offsets.push([0, 0]);
    }
  }
  return encs;
}

/**
 * The error for token ids `first`..`last` (the first of them `token`) that have no row in the model's embedding
 * table of `vocabSize` rows (`vocab_size` in `configFile`); it names the tokenizer file the ids come from.
 */
export function idsPastTable(
  first: number,
  last: number,
  token: string | undefined,
  vocabSize: number,
  configFile: string,
  file: string,
): CheckpointError {
  const ids = first === last ? `token id ${first}` : `token ids ${first}..${last}`;
  return new CheckpointError(
    `${ids} (${JSON.stringify(token)}${first === last ? '' : ', ...'}) past the model's embedding table ` +
      `of ${vocabSize} rows (vocab_size in ${configFile})`,
    file,
  );
}
