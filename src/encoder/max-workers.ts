// How many encoder worker threads a caller may ask for (the library, `sbert serve`, the CLI's --workers): kept
// apart from the pool so that the CLI can check it without loading the model's modules.
import { availableParallelism } from 'node:os';
import { UsageError } from '../errors.js';

/**
 * The most worker threads one may ask for: 4 per core (at least 8). Each starts a backend and holds its share of
 * the model, so past a few per core they only compete; `--workers 1000` on the tiny model was still starting
 * threads when it was killed at 30 s.
 */
export function maxWorkers(): number {
  return Math.max(8, 4 * availableParallelism());
}

/** `workers` must be an integer from `min` to `maxWorkers()` (a usage error naming both otherwise). */
export function checkWorkers(workers: number, min: 0 | 1): void {
  const max = maxWorkers();
  if (!(Number.isInteger(workers) && workers >= min && workers <= max)) {
    throw new UsageError(
      `workers must be an integer from ${min} to ${max} (4 per core here, at least 8), got ${workers}${min === 0 ? ' (0: in-process)' : ''}`,
    );
  }
}
