// One place that knows where the shared fixtures and corpus live (../shared beside the repo, or $SBERT_FIXTURES).
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { existsSync } from 'node:fs';

function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('cannot find the repository root (package.json)');
    dir = up;
  }
  return dir;
}

export const ROOT = repoRoot();
export const FIXTURES = resolve(process.env.SBERT_FIXTURES ?? join(ROOT, '..', 'shared', 'fixtures'));
export const CORPUS = resolve(FIXTURES, '..', 'corpus');

export const fixture = (...parts: string[]): string => join(FIXTURES, ...parts);
export const corpus = (...parts: string[]): string => join(CORPUS, ...parts);
