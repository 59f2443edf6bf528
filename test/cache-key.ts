// Caches under the machine's temp dir that outlive a run (CI machines keep theirs): named by a hash of what they
// are made from, and the folders other sources made pruned once they have sat unused for an hour.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** 12 hex digits of a hash of `files` ([label, path]; a missing file counts as empty) and `extra`. */
export function filesKey(files: readonly (readonly [string, string])[], extra = ''): string {
  const h = createHash('sha256').update(extra);
  for (const [label, file] of files) {
    h.update(`\0${label}\0`);
    if (existsSync(file)) h.update(readFileSync(file));
  }
  return h.digest('hex').slice(0, 12);
}

/**
 * Removes `parent`'s entries named `prefix` or `prefix-…` other than `keep`, left untouched for an hour
 * (folders of other sources or from before keys), skipping ones being written (`.partial`).
 */
export function pruneStale(parent: string, prefix: string, keep: string): void {
  const hourAgo = Date.now() - 3_600_000;
  for (const entry of readdirSync(parent)) {
    const path = join(parent, entry);
    if (path === keep || !(entry === prefix || entry.startsWith(`${prefix}-`))) continue;
    if (entry.includes('.partial')) continue;
    if (statSync(path).mtimeMs < hourAgo) rmSync(path, { recursive: true, force: true });
  }
}
