// A synthetic model folder (SYNTHETIC.md weights + a fixture's config and tokenizer files), written once
// under the OS temp dir and reused by tests and benchmarks. A marker file is written last, so a folder
// left half-written by an interrupted run is rebuilt.
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseHfConfig } from '../src/loader/config.js';
import { writeSafetensors } from '../src/loader/safetensors.js';
import { type SynthDType, synthTensorsToWrite } from '../src/loader/synth.js';
import { fixture } from './fixtures.js';

const TOKENIZER_FILES = ['tokenizer.json', 'tokenizer_config.json', 'vocab.txt'];

/** `fixtures/<name>/hf` with synthetic weights, e.g. syntheticModelDir('base') → /tmp/sbert-tfjs-synthetic/base-f32. */
export function syntheticModelDir(name = 'base', dtype: SynthDType = 'f32'): string {
  const src = fixture(name, 'hf');
  const dir = join(tmpdir(), 'sbert-tfjs-synthetic', `${name}-${dtype}`);
  const marker = join(dir, '.complete');
  if (existsSync(marker)) return dir;
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const configFile = join(src, 'config.json');
  const { config } = parseHfConfig(configFile, JSON.parse(readFileSync(configFile, 'utf8')));
  copyFileSync(configFile, join(dir, 'config.json'));
  for (const f of TOKENIZER_FILES) if (existsSync(join(src, f))) copyFileSync(join(src, f), join(dir, f));
  writeSafetensors(join(dir, 'model.safetensors'), synthTensorsToWrite(config, dtype));
  writeFileSync(marker, `${new Date().toISOString()}\n`);
  return dir;
}
