// Request fields → texts → model inputs. Validation is by hand so that each message names the field at fault
// (`input[3] is a number`), and the over-length policy is TEI's: cut to the model's length, or refuse.
import { type Encoding, loneSurrogateAt, type Tokenizer } from '../tokenizer/index.js';
import { ApiError } from './errors.js';

export type TruncationDirection = 'right' | 'left';

export interface TextPolicy {
  /** Tokens per text, special tokens included (the encoder's `maxSeqLength`). */
  maxLength: number;
  /** Cut longer texts (true) or answer 400 (false). */
  truncate: boolean;
  /** Which end is cut (TEI's `truncation_direction`); `encode` cuts on the right. */
  direction: TruncationDirection;
}

export interface PreparedTexts {
  encodings: Encoding[];
  /** Tokens the model will see, special tokens included (what `usage` reports). */
  tokens: number;
  /** Unicode code points of the texts. */
  characters: number;
}

/**
 * A text must be Unicode: a lone surrogate (`"\\ud800"` in JSON) is no character, HF's tokenizers refuse it,
 * and tokenized here it would silently become something else.
 */
export function checkText(text: string, param: string): string {
  const at = loneSurrogateAt(text);
  if (at >= 0)
    throw new ApiError(
      400,
      `\`${param}\` holds a lone surrogate \\u${text.charCodeAt(at).toString(16)} at character ${at + 1}, which is not a Unicode character`,
      { param },
    );
  return text;
}

/** The body must be a JSON object. */
export function bodyObject(body: unknown): Record<string, unknown> {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new ApiError(400, `the body must be a JSON object, got ${describe(body)}`);
  }
  return body as Record<string, unknown>;
}

/** Names text `i` of a request field for messages: `input` when it was one string, else `input[i]`. */
export function fieldNames(value: unknown, param: string): (i: number) => string {
  return typeof value === 'string' ? () => param : (i) => `${param}[${i}]`;
}

/** A string or a non-empty array of strings (at most `maxInputs`) → the texts. */
export function textList(value: unknown, param: string, maxInputs: number): string[] {
  if (value === undefined)
    throw new ApiError(400, `\`${param}\` is required: a string or an array of strings`, { param });
  if (typeof value === 'string') return [checkText(value, param)];
  if (!Array.isArray(value)) {
    throw new ApiError(400, `\`${param}\` must be a string or an array of strings, got ${describe(value)}`, { param });
  }
  if (value.length === 0) {
    throw new ApiError(400, `\`${param}\` is an empty array: send at least one text`, { param, teiType: 'Empty' });
  }
  if (value.length > maxInputs) {
    throw new ApiError(
      413,
      `\`${param}\` has ${value.length} texts, more than this server's limit of ${maxInputs} (--max-inputs)`,
      {
        param,
      },
    );
  }
  value.forEach((v, i) => {
    if (typeof v === 'string') return void checkText(v, `${param}[${i}]`);
    const hint =
      typeof v === 'number' || (Array.isArray(v) && v.every((x) => typeof x === 'number'))
        ? " (token ids are not accepted: they would be another tokenizer's; send the text)"
        : '';
    throw new ApiError(400, `\`${param}[${i}]\` must be a string, got ${describe(v)}${hint}`, {
      param: `${param}[${i}]`,
    });
  });
  return value as string[];
}

export function optionalBoolean(body: Record<string, unknown>, key: string, fallback: boolean): boolean {
  const v = body[key];
  if (v === undefined || v === null) return fallback;
  if (typeof v !== 'boolean')
    throw new ApiError(400, `\`${key}\` must be true or false, got ${describe(v)}`, { param: key });
  return v;
}

export function optionalString(body: Record<string, unknown>, key: string): string | undefined {
  const v = body[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw new ApiError(400, `\`${key}\` must be a string, got ${describe(v)}`, { param: key });
  return v;
}

/** `dimensions` may only ask for what the model gives: a BERT encoder's vectors are not Matryoshka-trained. */
export function checkDimensions(body: Record<string, unknown>, dimension: number): void {
  const v = body.dimensions;
  if (v === undefined || v === null || v === dimension) return;
  const got = typeof v === 'number' ? String(v) : describe(v);
  throw new ApiError(400, `\`dimensions\` must be ${dimension} (this model's size) or absent, got ${got}`, {
    param: 'dimensions',
  });
}

export function truncationDirection(body: Record<string, unknown>): TruncationDirection {
  const v = body.truncation_direction;
  if (v === undefined || v === null) return 'right';
  if (typeof v === 'string' && /^(left|right)$/i.test(v)) return v.toLowerCase() as TruncationDirection;
  throw new ApiError(400, `\`truncation_direction\` must be "right" or "left", got ${JSON.stringify(v)}`, {
    param: 'truncation_direction',
  });
}

/**
 * Tokenizes each text as `SentenceEncoder.tokenize` does. A text over `maxLength` tokens is cut (right: as HF
 * truncation and `encode`; left: `[CLS]` + its last tokens + `[SEP]`, as HF's `truncation_side="left"`), or
 * refused with a 400 naming the text and its length.
 */
export function prepareTexts(
  tokenizer: Tokenizer,
  texts: readonly string[],
  policy: TextPolicy,
  field: (i: number) => string,
): PreparedTexts {
  let tokens = 0;
  let characters = 0;
  const encodings = texts.map((text, i) => {
    const full = tokenizer.encode(text);
    let enc = full;
    if (full.inputIds.length > policy.maxLength) {
      if (!policy.truncate) {
        const at = field(i);
        throw new ApiError(
          400,
          `\`${at}\` has ${full.inputIds.length} tokens, more than the model's ${policy.maxLength}: shorten it or send truncate: true`,
          { param: at, code: 'context_length_exceeded', teiType: 'Validation' },
        );
      }
      enc =
        policy.direction === 'right'
          ? tokenizer.encode(text, { maxLength: policy.maxLength })
          : cutLeft(full, policy.maxLength);
    }
    tokens += enc.inputIds.length;
    for (const _ of text) characters++;
    return enc;
  });
  return { encodings, tokens, characters };
}

/** [CLS] + the last `maxLength - 2` tokens + [SEP]. */
function cutLeft(e: Encoding, maxLength: number): Encoding {
  const n = e.inputIds.length;
  const keep = <T>(xs: T[]): T[] => [xs[0]!, ...xs.slice(n - 1 - (maxLength - 2), n - 1), xs[n - 1]!];
  return {
    inputIds: keep(e.inputIds),
    tokenTypeIds: keep(e.tokenTypeIds),
    attentionMask: keep(e.attentionMask),
    tokens: keep(e.tokens),
    offsets: keep(e.offsets),
  };
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return 'an object';
  if (typeof v === 'string') return 'a string';
  return `a ${typeof v}`;
}
