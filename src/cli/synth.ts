// `sbert synth --config CONFIG.json --out DIR [--dtype f32|f16|bf16]`: SYNTHETIC.md weights as a model folder.
import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { InputError, UsageError } from '../errors.js';
import { readJsonFile } from '../io/json.js';
import { parseHfConfig } from '../loader/config.js';
import { writeSafetensors } from '../loader/safetensors.js';
import { type SynthDType, synthTensorsToWrite } from '../loader/synth.js';
import { checkOutputFolder, writeFileAtomic } from './output.js';
import { count } from './plural.js';
import { formatBytes } from './progress.js';

/** What `synthDir` wrote. */
export interface SynthSummary {
  files: string[];
  tensors: number;
  bytes: number;
  layers: number;
  hidden: number;
}

export function synthDir(configFile: string, out: string, dtype: SynthDType = 'f32'): SynthSummary {
  const json = readJsonFile(configFile);
  const { config } = parseHfConfig(configFile, json);
  checkOutputFolder(out);
  try {
    mkdirSync(out, { recursive: true });
  } catch (e) {
    throw new InputError(`cannot create folder (${(e as NodeJS.ErrnoException).code ?? String(e)})`, out);
  }
  // Each file whole or not at all; the weights first, so a folder with a config.json has its weights.
  const tensors = synthTensorsToWrite(config, dtype);
  const weights = join(out, 'model.safetensors');
  writeFileAtomic(weights, (tmp) => writeSafetensors(tmp, tensors, { format: 'pt' }));
  writeFileAtomic(join(out, 'config.json'), (tmp) => writeFileSync(tmp, `${JSON.stringify(json, null, 2)}\n`));
  return {
    files: [weights, join(out, 'config.json')],
    tensors: tensors.length,
    bytes: statSync(weights).size,
    layers: config.numHiddenLayers,
    hidden: config.hiddenSize,
  };
}

export function register(program: Command): void {
  program
    .command('synth')
    .description('write DIR/model.safetensors + config.json with the synthetic weights of SYNTHETIC.md')
    .requiredOption('--config <file>', 'HF config.json giving the shape')
    .requiredOption('--out <dir>', 'output folder')
    .option('--dtype <dtype>', 'f32, f16 or bf16 (round to nearest even)', 'f32')
    .action((opts: { config: string; out: string; dtype: string }) => {
      if (!['f32', 'f16', 'bf16'].includes(opts.dtype))
        throw new UsageError(`--dtype must be f32, f16 or bf16, got "${opts.dtype}"`);
      const r = synthDir(opts.config, opts.out, opts.dtype as SynthDType);
      if (process.env.SBERT_QUIET !== '1') {
        process.stderr.write(
          `sbert: wrote ${r.files.join(' and ')}: ${count(r.tensors, 'tensor')} (${opts.dtype}, ${formatBytes(r.bytes)}), ${count(r.layers, 'layer')} × hidden ${r.hidden}\n`,
        );
      }
    });
}
