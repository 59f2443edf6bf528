// The code examples of README.md and docs/*.md: every fenced ```ts block, with the name of the check that
// test/docs/examples.test.ts runs for it (an `<!-- example: NAME -->` line right above the fence).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../fixtures.js';

export interface Snippet {
  /** `README.md:31`: the file and the line of the opening fence. */
  where: string;
  /** From `<!-- example: NAME -->` above the fence; undefined when the block has none. */
  name?: string;
  /**
   * From `<!-- example: NAME, run by test/FILE.test.ts -->`: a test of its own runs it (an example that needs a
   * server, say); that file must name the example.
   */
  runBy?: string;
  code: string;
}

/** The markdown files whose examples are tested. */
export function docFiles(): string[] {
  const docs = readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md'));
  return ['README.md', ...docs.map((f) => join('docs', f))];
}

export function snippets(files = docFiles()): Snippet[] {
  const out: Snippet[] = [];
  for (const file of files) {
    const lines = readFileSync(join(ROOT, file), 'utf8').split('\n');
    for (let i = 0; i < lines.length; i++) {
      if (!/^```(ts|typescript|js|javascript)\s*$/.test(lines[i]!)) continue;
      const end = lines.findIndex((l, j) => j > i && l.startsWith('```'));
      const marker = /^<!--\s*example:\s*([\w-]+)(?:\s*,\s*run by\s+(\S+))?\s*-->$/.exec(lines[i - 1]?.trim() ?? '');
      out.push({
        where: `${file}:${i + 1}`,
        name: marker?.[1],
        runBy: marker?.[2],
        code: lines.slice(i + 1, end).join('\n'),
      });
      i = end;
    }
  }
  return out;
}

/** The names a snippet declares at its top level (`const a`, `const { b, c: d }`, `let e`, `function f`). */
export function topLevelNames(code: string): string[] {
  const names: string[] = [];
  for (const line of code.split('\n')) {
    const m = /^(?:const|let|var)\s+(\{[^}]*\}|\w+)|^(?:async\s+)?function\s+(\w+)/.exec(line);
    if (!m) continue;
    if (m[2]) names.push(m[2]);
    else if (m[1]!.startsWith('{')) {
      for (const part of m[1]!.slice(1, -1).split(',')) {
        const name = part.split(':').pop()!.split('=')[0]!.trim();
        if (name) names.push(name);
      }
    } else names.push(m[1]!);
  }
  return names;
}

export interface ShellBlock {
  /** `docs/compare.md:11`: the file and the line of the opening fence. */
  where: string;
  file: string;
  /** The `## ` heading the block is under (without the hashes), or '' before the first. */
  section: string;
  /** From `<!-- example: NAME -->` above the fence. */
  name?: string;
  /** From `<!-- example: NAME, run by test/FILE.test.ts -->`. */
  runBy?: string;
  /** From `<!-- not run: REASON -->`: why no test runs it. */
  notRun?: string;
  code: string;
  /** A plain ``` block right after it (blank lines between): the output the text shows. */
  output?: string;
}

/** Every ```sh (bash, shell) block of README.md and docs/*.md, with the marker on the line above its fence. */
export function shellBlocks(files = docFiles()): ShellBlock[] {
  const out: ShellBlock[] = [];
  for (const file of files) {
    const lines = readFileSync(join(ROOT, file), 'utf8').split('\n');
    let section = '';
    for (let i = 0; i < lines.length; i++) {
      const heading = /^## (.*)$/.exec(lines[i]!);
      if (heading) section = heading[1]!.trim();
      if (!/^```/.test(lines[i]!)) continue;
      const end = lines.findIndex((l, j) => j > i && l.startsWith('```'));
      if (/^```(sh|bash|shell|console)\s*$/.test(lines[i]!)) {
        const above = lines[i - 1]?.trim() ?? '';
        const example = /^<!--\s*example:\s*([\w-]+)(?:\s*,\s*run by\s+(\S+))?\s*-->$/.exec(above);
        const notRun = /^<!--\s*not run:\s*(.+?)\s*-->$/.exec(above);
        let next = end + 1;
        while (lines[next]?.trim() === '') next++;
        const outEnd = lines[next] === '```' ? lines.findIndex((l, j) => j > next && l.startsWith('```')) : -1;
        out.push({
          where: `${file}:${i + 1}`,
          file,
          section,
          name: example?.[1],
          runBy: example?.[2],
          notRun: notRun?.[1],
          code: lines.slice(i + 1, end).join('\n'),
          ...(outEnd > 0 ? { output: lines.slice(next + 1, outEnd).join('\n') } : {}),
        });
      }
      i = end;
    }
  }
  return out;
}
