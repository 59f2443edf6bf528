// The config checked against what the checkpoint holds, before the config's numbers size anything: a
// `num_hidden_layers` of 10⁶ must fail here, not after building a million layers' worth of tables.
import { CheckpointError } from '../errors.js';
import type { BertConfig } from './config.js';
import type { KeyMap } from './keys.js';

/** How many encoder layers the mapped keys hold (the highest `encoder.layer.N` + 1; 0 when none). */
export function layersIn(keys: KeyMap): number {
  let layers = 0;
  for (const name of keys.canonical.keys()) {
    const m = /^encoder\.layer\.(\d+)\./.exec(name);
    if (m) layers = Math.max(layers, Number(m[1]) + 1);
  }
  return layers;
}

/** A config claiming more layers than the weights file holds is refused, naming both files. */
export function checkLayerCount(config: BertConfig, configFile: string, keys: KeyMap, weightsFile: string): void {
  const have = layersIn(keys);
  if (config.numHiddenLayers > have) {
    const held = have === 0 ? 'no encoder layers' : have === 1 ? 'only layer 0' : `layers 0–${have - 1} only`;
    throw new CheckpointError(
      `num_hidden_layers is ${config.numHiddenLayers}, but ${weightsFile} holds ${held}`,
      configFile,
    );
  }
}
