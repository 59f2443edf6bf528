// A synthetic model folder (SYNTHETIC.md weights + a fixture's config and tokenizer files), written once under
// the machine's temp dir (SBERT_TEST_CACHE_DIR in a test run: test/global-setup.ts) and reused by tests and
// benchmarks. The folder is named after a hash of everything it is made from (the fixture's files, the
// generator's source, the dtype), so a temp dir that outlives a run (CI machines keep theirs) never serves
// weights an older generator wrote; it is built under a private name and renamed into place, so parallel test
// files never see it half-written.
import { copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parseHfConfig } from '../src/loader/config.js';
import { writeSafetensors } from '../src/loader/safetensors.js';
import { type SynthDType, synthTensorsToWrite } from '../src/loader/synth.js';
import { filesKey, pruneStale } from './cache-key.js';
import { fixture, ROOT } from './fixtures.js';

const TOKENIZER_FILES = ['tokenizer.json', 'tokenizer_config.json', 'vocab.txt'];
const GENERATORS = ['src/loader/synth.ts', 'src/loader/safetensors.ts'];

/** What a synthetic folder is made from: the generator's and the writer's sources, the fixture's files, the dtype. */
const sourceKey = (src: string, dtype: SynthDType): string =>
  filesKey(
    [
      ...GENERATORS.map((f): [string, string] => [f, join(ROOT, f)]),
      ...['config.json', ...TOKENIZER_FILES].map((f): [string, string] => [f, join(src, f)]),
    ],
    dtype,
  );

/** `fixtures/<name>/hf` with synthetic weights, e.g. syntheticModelDir('base') → /tmp/sbert-tfjs-synthetic/base-f32-<key>. */
export function syntheticModelDir(name = 'base', dtype: SynthDType = 'f32'): string {
  const src = fixture(name, 'hf');
  const dir = join(
    process.env.SBERT_TEST_CACHE_DIR ?? tmpdir(),
    'sbert-tfjs-synthetic',
    `${name}-${dtype}-${sourceKey(src, dtype)}`,
  );
  if (existsSync(join(dir, '.complete'))) return dir;
  const work = `${dir}.partial-${process.pid}-${Math.random().toString(36).slice(2)}`;
  mkdirSync(work, { recursive: true });
  try {
    writeFolder(src, work, dtype);
    if (existsSync(dir) && !existsSync(join(dir, '.complete'))) rmSync(dir, { recursive: true, force: true });
    try {
      renameSync(work, dir);
    } catch (e) {
      // Another process put a complete folder there first.
      if (!existsSync(join(dir, '.complete'))) throw e;
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  pruneStale(dirname(dir), `${name}-${dtype}`, dir);
  return dir;
}

function writeFolder(src: string, dir: string, dtype: SynthDType): void {
  const configFile = join(src, 'config.json');
  const { config } = parseHfConfig(configFile, JSON.parse(readFileSync(configFile, 'utf8')));
  copyFileSync(configFile, join(dir, 'config.json'));
  for (const f of TOKENIZER_FILES) if (existsSync(join(src, f))) copyFileSync(join(src, f), join(dir, f));
  writeSafetensors(join(dir, 'model.safetensors'), synthTensorsToWrite(config, dtype));
  writeFileSync(join(dir, '.complete'), `${new Date().toISOString()}\n`);
}
