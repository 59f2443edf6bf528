// Where downloaded models live: weights/<id>/ under the working directory (or $SBERT_WEIGHTS/<id>/).
import { join, resolve } from 'node:path';

export const DEFAULT_MODEL_ID = 'uer/sbert-base-chinese-nli';

export function weightsRoot(): string {
  return resolve(process.env.SBERT_WEIGHTS ?? 'weights');
}

export function defaultModelDir(id: string): string {
  return join(weightsRoot(), ...id.split('/'));
}
