export {
  BertTokenizer,
  longestFirst,
  type Encoding,
  type EncodeOptions,
  type TokenizerSettings,
  type TokenizerFiles,
} from './bert-tokenizer.js';
export { loneSurrogateAt, utf16Offsets } from './offsets.js';
export { Vocab } from './vocab.js';
export { loadTokenizer, NoTokenizerError, type Tokenizer, type TokenizerKind } from './tokenizer.js';
export { XLMRobertaTokenizer, type SentencePieceFiles, type SentencePieceSettings } from './xlmr-tokenizer.js';
