// A model folder → config + canonical float32 weights + pooling, for every layout in ../shared/fixtures/tiny/
// (HF, torch zip / legacy, fp16 / bf16, `bert.`-prefixed, sentence-transformers, UER-py native) and the hub
// layouts (`weights/<id>/`, HF cache `models--org--name/snapshots/<rev>/`).
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { CheckpointError, InputError } from '../errors.js';
import { canonicalWeights, type KeyReport, type LoadOptions } from './canonical.js';
import { openCheckpoint } from './checkpoint.js';
import type { BertConfig } from './config.js';
import { configFor } from './config-file.js';
import type { PoolingConfig } from './pooling-config.js';
import { isDir } from './resolve.js';
import { sentenceTransformers } from './sentence-transformers.js';
import type { CheckpointFormat } from './tensor.js';
import { weightsFileIn } from './weight-files.js';
import type { Weights } from './weights.js';

export interface LoadReport extends KeyReport {
  ignoredConfigKeys: string[];
}
export interface LoadedModel {
  dir: string;
  weightsFile: string;
  format: CheckpointFormat;
  dtypes: string[];
  config: BertConfig;
  /** Canonical HF names without `bert.`, float32, pooler optional. */
  weights: Weights;
  pooling?: PoolingConfig;
  /** sentence-transformers' Normalize module is in modules.json. */
  normalize?: boolean;
  maxSeqLength?: number;
  tokenizerDir: string;
  report: LoadReport;
}

/**
 * The folder whose tokenizer files a model folder uses: the Transformer module's folder when it has them (a
 * sentence-transformers layout), else the folder itself. Reads no weights, so a missing tokenizer is found first.
 */
export function tokenizerDirOf(dir: string, st = sentenceTransformers(dir)): string {
  const modelDir = st?.modelDir ?? dir;
  const hasTokenizer = (d: string) => existsSync(join(d, 'tokenizer.json')) || existsSync(join(d, 'vocab.txt'));
  return resolve(hasTokenizer(modelDir) || !hasTokenizer(dir) ? modelDir : dir);
}

export function loadModelDir(dir: string, opts: LoadOptions = {}): LoadedModel {
  if (!isDir(dir)) throw new InputError(existsSync(dir) ? 'is not a folder' : 'no such folder', dir);
  const st = sentenceTransformers(dir);
  const modelDir = st?.modelDir ?? dir;
  const weightsFile = weightsFileIn(modelDir);
  const configFile = join(modelDir, 'config.json');
  if (!existsSync(configFile)) throw new InputError(`no config.json next to ${weightsFile}`, modelDir);
  const ckpt = openCheckpoint(weightsFile);
  try {
    const { config, ignored } = configFor(configFile, ckpt);
    if (st?.maxSeqLength !== undefined && st.maxSeqLength > config.maxPositionEmbeddings) {
      throw new CheckpointError(
        `max_seq_length ${st.maxSeqLength} exceeds the model's ${config.maxPositionEmbeddings} positions (${configFile})`,
        st.maxSeqLengthFile!,
      );
    }
    const { weights, report } = canonicalWeights(ckpt, config, configFile, opts);
    return {
      dir: resolve(dir),
      weightsFile,
      format: ckpt.format,
      dtypes: [...new Set([...ckpt.tensors.values()].map((t) => t.dtype))],
      config,
      weights,
      ...(st?.pooling ? { pooling: st.pooling } : {}),
      ...(st?.normalize ? { normalize: true } : {}),
      ...(st?.maxSeqLength !== undefined ? { maxSeqLength: st.maxSeqLength } : {}),
      tokenizerDir: tokenizerDirOf(dir, st),
      report: { ...report, ignoredConfigKeys: ignored },
    };
  } finally {
    ckpt.close();
  }
}
