// The package as a user gets it: `npm pack`, installed into a fresh project in the temp dir (from npm's cache
// when it has the packages), the README's examples type-checked there with `tsc` in strict mode and without
// skipLibCheck, and both entry points imported at run time.
import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../fixtures.js';
import { snippets } from '../docs/snippets.js';

const run = promisify(execFile);
const npm = (args: string[], cwd: string) =>
  run('npm', [...args, '--no-audit', '--no-fund', '--loglevel=error'], { cwd, maxBuffer: 64 << 20, timeout: 600_000 });
const TSC = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
const TYPES_NODE = '@types/node@20.19.43';

const tmp = mkdtempSync(join(tmpdir(), 'sbert-consumer-'));
const app = join(tmp, 'app');
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

beforeAll(async () => {
  // A build of its own (other test files re-run tsc over dist/ while this one runs), packed as `npm pack` would.
  const pkg = join(tmp, 'pkg');
  mkdirSync(pkg);
  for (const f of ['package.json', 'README.md', 'bin']) cpSync(join(ROOT, f), join(pkg, f), { recursive: true });
  await run(process.execPath, [TSC, '-p', join(ROOT, 'tsconfig.json'), '--outDir', join(pkg, 'dist')]);
  await run(process.execPath, [join(ROOT, 'scripts', 'types-shim.mjs'), '--dist', join(pkg, 'dist')]);
  await npm(['pack', '--pack-destination', tmp], pkg);
  const tarball = readdirSync(tmp).find((f) => f.endsWith('.tgz'))!;
  mkdirSync(app);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
  // Optional packages (webgpu, fonts) and install scripts are not needed to type-check or import.
  await npm(
    ['install', '--prefer-offline', '--omit=optional', '--ignore-scripts', join(tmp, tarball), TYPES_NODE],
    app,
  );
}, 600_000);

describe('a consumer project', () => {
  it("type-checks the README's examples with tsc strict, without skipLibCheck", async () => {
    const examples = snippets(['README.md']);
    expect(examples.length).toBeGreaterThanOrEqual(2);
    examples.forEach((s, i) => writeFileSync(join(app, `example${i}.ts`), `${s.code}\nexport {};\n`));
    // and every declaration either entry point reaches
    writeFileSync(
      join(app, 'example-all.ts'),
      "export * as main from 'sbert-tfjs';\nexport * as internals from 'sbert-tfjs/internals';\n",
    );
    writeFileSync(
      join(app, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2022',
          lib: ['ES2022'],
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          strict: true,
          skipLibCheck: false,
          noEmit: true,
          types: ['node'],
        },
        include: ['example*.ts'],
      }),
    );
    const r = await run(process.execPath, [TSC, '-p', 'tsconfig.json'], { cwd: app }).catch(
      (e: { stdout: string }) => ({ stdout: e.stdout, failed: true }),
    );
    expect(r.stdout).toBe('');
    expect('failed' in r).toBe(false);
  });

  it('imports both entry points; the main one is small, internals has the engine and tf', async () => {
    const script = `
      const main = await import('sbert-tfjs');
      const internals = await import('sbert-tfjs/internals');
      await internals.setupBackend('cpu');
      const t = internals.tf.mul(internals.tf.tensor1d([1, 2]), 3);
      console.log(JSON.stringify({ main: Object.keys(main).sort(), internals: Object.keys(internals).length,
        bert: typeof internals.BertModel.load, value: Array.from(await t.data()) }));`;
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], { cwd: app });
    const got = JSON.parse(stdout) as { main: string[]; internals: number; bert: string; value: number[] };
    expect(got.main).toEqual([
      'ATTRIBUTION_METHODS',
      'BACKEND_NAMES',
      'BackendUnavailable',
      'CheckpointError',
      'DEFAULT_MODEL_ID',
      'HubError',
      'HubUnreachableError',
      'InputError',
      'SentenceEncoder',
      'UsageError',
      'cosSim',
      'cosine',
      'downloadModel',
      'explain',
      'explainSentence',
      'semanticSearch',
      'stsMetrics',
    ]);
    expect(got.internals).toBeGreaterThan(40);
    expect(got.bert).toBe('function');
    expect(got.value).toEqual([3, 6]);
  });
});
