// Which config a checkpoint is read with: HF's config.json, or UER-py's, whose sizes partly come from the checkpoint.
import { CONFIG_LIMITS, type ParsedConfig, parseHfConfig } from './config.js';
import { readJson } from './json.js';
import { type KeyMap, knownNames, mapKeys } from './keys.js';
import type { Checkpoint } from './tensor.js';
import { isUerConfig, parseUerConfig } from './uer.js';

/** Parses config.json (HF or UER style); UER configs take vocab/segment sizes from the checkpoint. */
export function configFor(configFile: string, ckpt: Checkpoint, keys?: KeyMap): ParsedConfig {
  const json = readJson(configFile);
  if (!isUerConfig(json)) return parseHfConfig(configFile, json);
  const k = keys ?? mapKeys([...ckpt.tensors.keys()], knownNames(CONFIG_LIMITS.num_hidden_layers));
  const shapeOf = (n: string) => {
    const src = k.canonical.get(n)?.source;
    return src ? ckpt.tensors.get(src)?.shape[0] : undefined;
  };
  return parseUerConfig(configFile, json, {
    vocabRows: shapeOf('embeddings.word_embeddings.weight'),
    segRows: shapeOf('embeddings.token_type_embeddings.weight'),
  });
}
