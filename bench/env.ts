// What suites share within one run: the mode, the backends asked for, the synthetic model (written once,
// parsed once), the tokenizer, and what one suite hands to a later one (the PyTorch anchor reruns the
// shapes the forward suite measured and checks the tfjs outputs it kept).
import { loadModelDir, type LoadedModel } from '../src/loader/index.js';
import { BertTokenizer } from '../src/tokenizer/index.js';
import { fixture } from '../test/fixtures.js';
import { syntheticBertBase, type SyntheticModel } from './checkpoints.js';
import type { Mode } from './schema.js';
import type { IdBatch } from './inputs.js';

/** A workload the anchor can rerun: its batches, and the tfjs case it mirrors. */
export interface AnchorCase {
  name: string;
  params: Record<string, string | number>;
  batches: IdBatch[];
  work: Record<string, number>;
  /** Seconds one tfjs call took, or was estimated to take when it did not run (sets the anchor's sampling budget). */
  tfjsS: number;
}

/** Command-line overrides of the mode's defaults. */
export interface BenchOverrides {
  /** Forward grid shapes, [batch, seqLen]. */
  grid?: [number, number][];
  /** STS-B test sentences for the forward's sentence case and for encode. */
  sentences?: number;
  /** Batch size of the sentence cases. */
  batchSize?: number;
  /** --backends was given: time what it names even on a software WebGPU adapter. */
  backendsNamed?: boolean;
}

export interface BenchEnv {
  mode: Mode;
  /** tfjs backends to try, in this order. */
  backends: string[];
  overrides: BenchOverrides;
  log: (m: string) => void;
  model(): SyntheticModel;
  /** The safetensors checkpoint parsed once (≈ 410 MB of float32), shared by the forward suites. */
  loaded(): LoadedModel;
  tokenizer(): BertTokenizer;
  anchorCases: AnchorCase[];
  /** Mean-pooled tfjs outputs by anchor case name, [batch × hidden] flattened, for the PyTorch check. */
  pooled: Map<string, Float32Array>;
  /** Backends whose runtime aborted in this process (wasm out of heap), with the first failure. */
  deadBackends: Map<string, string>;
}

export function createEnv(
  mode: Mode,
  backends: string[],
  log: (m: string) => void,
  overrides: BenchOverrides = {},
): BenchEnv {
  let model: SyntheticModel | undefined;
  let loaded: LoadedModel | undefined;
  let tok: BertTokenizer | undefined;
  const env: BenchEnv = {
    mode,
    backends,
    overrides,
    log,
    model: () => (model ??= syntheticBertBase(log)),
    loaded: () => (loaded ??= loadModelDir(env.model().dirs.safetensors)),
    tokenizer: () => (tok ??= BertTokenizer.fromDir(fixture('base', 'hf'))),
    anchorCases: [],
    pooled: new Map(),
    deadBackends: new Map(),
  };
  return env;
}
