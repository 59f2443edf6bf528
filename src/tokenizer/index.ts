export { BertTokenizer, longestFirst, type Encoding, type EncodeOptions, type TokenizerSettings, type TokenizerFiles } from './bert-tokenizer.js';
export { utf16Offsets } from './offsets.js';
export { Vocab } from './vocab.js';
