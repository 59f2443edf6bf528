// Start-up cost: the CLI defines every command without loading the engine. tfjs, its backends, Fastify,
// prom-client and cli-progress load only when a command gets to the work that needs them, so `sbert --help` and
// every error found before the model loads answer at once. Asserted on what the child process actually
// imports (test/trace-imports.mjs), never on a timing; docs/startup.md has the measured times.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fixture, ROOT } from '../fixtures.js';

const tmp = mkdtempSync(join(tmpdir(), 'sbert-startup-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
let runs = 0;

interface Traced {
  code: number;
  stdout: string;
  stderr: string;
  /** npm packages the child imported, by name. */
  packages: Set<string>;
  /** Our modules it imported, relative to dist/src (e.g. `cli/main.js`). */
  modules: Set<string>;
}

function traced(args: string[], input = ''): Promise<Traced> {
  const out = join(tmp, `imports-${runs++}.txt`);
  writeFileSync(out, '');
  const env = { ...process.env, SBERT_PROGRESS: '0', SBERT_QUIET: '1', TRACE_IMPORTS_OUT: out };
  const argv = ['--import', join(ROOT, 'test', 'trace-imports.mjs'), join(ROOT, 'bin', 'sbert.js'), ...args];
  return new Promise((resolve) => {
    const child = execFile(process.execPath, argv, { cwd: ROOT, env, timeout: 120_000 }, (err, stdout, stderr) => {
      const urls = readFileSync(out, 'utf8').split('\n').filter(Boolean);
      const packages = new Set<string>();
      const modules = new Set<string>();
      for (const url of urls) {
        const pkg = /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
        if (pkg) packages.add(pkg[1]!);
        const own = /\/dist\/src\/(.+)$/.exec(url);
        if (own) modules.add(own[1]!);
      }
      resolve({ code: err ? Number(err.code) : 0, stdout, stderr, packages, modules });
    });
    child.stdin?.end(input);
  });
}

/** What only the work needs: loading any of these before it is start-up time every command pays (leaves such
 * as tokenizer/offsets.js, which the input checks use, are not). */
const ENGINE = [
  '@tensorflow/tfjs-core',
  '@tensorflow/tfjs-backend-cpu',
  '@tensorflow/tfjs-backend-wasm',
  'fastify',
  'prom-client',
  'cli-progress',
];
const engineIn = (r: Traced) => ENGINE.filter((p) => r.packages.has(p));
const engineModules = (r: Traced) =>
  [...r.modules].filter((m) =>
    /^(backend\/index|model\/bert|layers\/|tokenizer\/(index|tokenizer|bert-tokenizer|xlmr-tokenizer)|server\/server|encoder\/sentence)/.test(
      m,
    ),
  );

describe('the CLI loads the engine only for the work that needs it', () => {
  it('sbert --help and sbert serve --help load commander and our command definitions, nothing else', async () => {
    for (const args of [['--help'], ['serve', '--help']]) {
      const r = await traced(args);
      expect(r.code, args.join(' ')).toBe(0);
      expect(r.stdout).toContain('Usage: sbert');
      expect([...r.packages], args.join(' ')).toEqual(['commander']);
      expect(engineModules(r), args.join(' ')).toEqual([]);
    }
  });

  it('an input error found before the model loads: the error line and exit 2, with no tfjs loaded', async () => {
    const missing = join(tmp, 'missing.txt');
    const cases: [string[], string][] = [
      [['encode', '--model', fixture('tiny', 'st'), '--input', missing], `error: ${missing}: no such file\n`],
      [['tokenize', '--model', fixture('tiny', 'st'), '--input', missing], `error: ${missing}: no such file\n`],
      [['search', '--model', fixture('tiny', 'st'), '--corpus', missing, 'q'], `error: ${missing}: no such file\n`],
      [['evaluate', '--model', fixture('tiny', 'st'), '--data', missing], `error: ${missing}: no such file\n`],
      [
        ['dump', '--model', fixture('tiny', 'st'), '--input', missing, '--out', join(tmp, 'x.safetensors')],
        `error: ${missing}: no such file\n`,
      ],
    ];
    for (const [args, error] of cases) {
      const r = await traced(args);
      expect([r.code, r.stderr], args[0]).toEqual([2, error]);
      expect(engineIn(r), args[0]).toEqual([]);
    }
    // A usage error in explain's options (checked by the library's own check, light enough to load first): exit 1.
    const r = await traced(['explain', '--model', fixture('tiny', 'st'), '--steps', '99999', 'a', 'b']);
    expect([r.code, r.stderr]).toEqual([1, 'error: steps must be an integer in 1..10000, got 99999\n']);
    expect(engineIn(r)).toEqual([]);
  });

  it('tokenize and inspect run without tfjs; encode loads it (the trace sees it when it is there)', async () => {
    const tok = await traced(['tokenize', '--model', fixture('tiny', 'st')], '"你好"\n');
    expect(tok.code).toBe(0);
    expect(JSON.parse(tok.stdout).tokens).toEqual(['[CLS]', '你', '好', '[SEP]']);
    expect(engineIn(tok)).toEqual([]);
    const ins = await traced(['inspect', fixture('tiny', 'st'), '--json']);
    expect(ins.code).toBe(0);
    expect(JSON.parse(ins.stdout).format).toBe('safetensors');
    expect(engineIn(ins)).toEqual([]);

    const enc = await traced(['encode', '--model', fixture('tiny', 'st')], '你好\n');
    expect(enc.code).toBe(0);
    expect(JSON.parse(enc.stdout).embedding).toHaveLength(32);
    expect(enc.packages.has('@tensorflow/tfjs-core')).toBe(true);
    expect(engineModules(enc)).toContain('encoder/sentence-encoder.js');
  });
});
