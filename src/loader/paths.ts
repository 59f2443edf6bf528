// Where downloaded models live: weights/<id>/ under the working directory, or $SBERT_WEIGHTS/<id>/.
import { join, resolve } from 'node:path';

export function weightsRoot(cwd = process.cwd()): string {
  return resolve(cwd, process.env.SBERT_WEIGHTS ?? 'weights');
}

export function defaultModelDir(id: string): string {
  return join(weightsRoot(), ...id.split('/'));
}
