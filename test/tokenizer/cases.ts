// The shapes of the tokenizer fixture files (../shared/fixtures/tokenizer*/).

/** A line of cases*.jsonl */
export interface Case {
  source: string;
  text: string;
  tokens: string[];
  input_ids: number[];
  offsets: [number, number][];
}

/** An entry of pairs*.json */
export interface PairCase {
  a: string;
  b: string | null;
  max_length: number | null;
  input_ids: number[];
  token_type_ids: number[];
  attention_mask: number[];
}
