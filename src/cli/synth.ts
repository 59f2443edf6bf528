// `sbert synth --config CONFIG.json --out DIR [--dtype f32|f16|bf16]`: SYNTHETIC.md weights as a model folder.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { CheckpointError, InputError, UsageError } from '../errors.js';
import { parseHfConfig } from '../loader/config.js';
import { writeSafetensors } from '../loader/safetensors.js';
import { type SynthDType, synthTensorsToWrite } from '../loader/synth.js';

export function synthDir(configFile: string, out: string, dtype: SynthDType = 'f32'): void {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(configFile, 'utf8'));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code) throw new InputError(code === 'ENOENT' ? 'no such file' : `cannot read (${code})`, configFile);
    throw new CheckpointError(`not valid JSON (${(e as Error).message})`, configFile);
  }
  const { config } = parseHfConfig(configFile, json);
  try {
    mkdirSync(out, { recursive: true });
  } catch (e) {
    throw new InputError(`cannot create folder (${(e as NodeJS.ErrnoException).code ?? String(e)})`, out);
  }
  writeSafetensors(join(out, 'model.safetensors'), synthTensorsToWrite(config, dtype), { format: 'pt' });
  writeFileSync(join(out, 'config.json'), `${JSON.stringify(json, null, 2)}\n`);
}

export function register(program: Command): void {
  program
    .command('synth')
    .description('write DIR/model.safetensors + config.json with the synthetic weights of SYNTHETIC.md')
    .requiredOption('--config <file>', 'HF config.json giving the shape')
    .requiredOption('--out <dir>', 'output folder')
    .option('--dtype <dtype>', 'f32, f16 or bf16 (round to nearest even)', 'f32')
    .action((opts: { config: string; out: string; dtype: string }) => {
      if (!['f32', 'f16', 'bf16'].includes(opts.dtype)) throw new UsageError(`--dtype must be f32, f16 or bf16, got "${opts.dtype}"`);
      synthDir(opts.config, opts.out, opts.dtype as SynthDType);
    });
}
