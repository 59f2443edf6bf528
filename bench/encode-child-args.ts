// How bench/encode-child.ts is started: its path and its command line, for the suites and benches that run it.
import { fileURLToPath } from 'node:url';

export const ENCODE_CHILD = fileURLToPath(new URL('./encode-child.js', import.meta.url));

export interface EncodeChildOptions {
  model: string;
  backend: string;
  /** A JSON file holding the sentences (an array of strings). */
  sentences: string;
  batchSize: number;
  /** Worker threads; the encoder's default when absent. */
  workers?: number;
  /** Where to write the first call's vectors (float32, [sentence, hidden]). */
  vectors?: string;
}

/** The child's arguments (after the script's path) for `o`. */
export function encodeChildArgs(o: EncodeChildOptions): string[] {
  const args = ['--model', o.model, '--backend', o.backend, '--sentences', o.sentences];
  args.push('--batch-size', String(o.batchSize));
  if (o.workers !== undefined) args.push('--workers', String(o.workers));
  if (o.vectors !== undefined) args.push('--vectors', o.vectors);
  return args;
}
