// The README's quick start, as written: its first command's `sbert` part runs on the fixtures' tiny model and
// prints the first sentence, then each other one with its cosine similarity, the same the library computes.
// (Its `npm ci && npm run build` is what CI does first; `npm test` is this suite.)
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SentenceEncoder } from '../../src/encoder/sentence-encoder.js';
import { cosine } from '../../src/encoder/similarity.js';
import { sbert } from '../cli.js';
import { FIXTURES, ROOT } from '../fixtures.js';

/** The lines of the first ```sh block under `## Quick start`. */
function quickStart(): string[] {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Quick start'));
  const block = /```sh\n([\s\S]*?)```/.exec(section);
  if (!block) throw new Error('README.md: no ```sh block under ## Quick start');
  return block[1]!.trim().split('\n');
}

describe("README's quick start", () => {
  it('is two commands: the main job, then npm test', () => {
    const [main, tests, ...rest] = quickStart();
    expect(main).toMatch(/^npm ci && npm run build && npx sbert /);
    expect([tests, rest]).toEqual(['npm test', []]);
  });

  it('its sbert command prints each sentence’s cosine similarity to the first, as the library computes it', async () => {
    const words = quickStart()[0]!
      .replace(/^npm ci && npm run build && npx sbert /, '')
      .split(/\s+/);
    // The fixtures are ../shared/fixtures beside the repository unless SBERT_FIXTURES says otherwise.
    const args = words.map((w) => w.replace(/^\.\.\/shared\/fixtures(?=\/)/, FIXTURES));
    expect(args.slice(0, 3)).toEqual(['similarity', '--model', join(FIXTURES, 'tiny', 'st')]);
    const sentences = args.slice(3);
    expect(sentences).toHaveLength(4);

    const r = await sbert(args);
    expect([r.code, r.stderr]).toEqual([0, '']);
    const enc = await SentenceEncoder.load(join(FIXTURES, 'tiny', 'st'), { workers: 1 });
    let want: string;
    try {
      const [first, ...rest] = await enc.encode(sentences);
      want = [sentences[0], ...rest.map((v, i) => `  ${cosine(first!, v).toFixed(4)}  ${sentences[i + 1]}`), ''].join(
        '\n',
      );
    } finally {
      await enc.dispose();
    }
    expect(r.stdout).toBe(want);
  });
});
