// The layering rules of .dependency-cruiser.cjs (`npm run lint:deps`, run by CI): src/ as it is passes them, and
// a tree with one forbidden import per boundary fails each with the rule that names it.
import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT } from '../fixtures.js';

const run = promisify(execFile);
const DEPCRUISE = join(ROOT, 'node_modules', 'dependency-cruiser', 'bin', 'dependency-cruise.mjs');

interface Violation {
  from: string;
  to: string;
  rule: { name: string };
}

async function cruise(cwd: string): Promise<Violation[]> {
  const config = join(ROOT, '.dependency-cruiser.cjs');
  const r = await run('node', [DEPCRUISE, 'src', 'dist/src', '--config', config, '--output-type', 'json'], {
    cwd,
    maxBuffer: 64 << 20,
  }).catch((e: { stdout?: string }) => ({ stdout: e.stdout ?? '' }));
  return (JSON.parse(r.stdout) as { summary: { violations: Violation[] } }).summary.violations;
}

const tmp = mkdtempSync(join(tmpdir(), 'sbert-deps-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function tree(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmp, 't-'));
  copyFileSync(join(ROOT, 'tsconfig.json'), join(dir, 'tsconfig.json'));
  for (const [file, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, file)), { recursive: true });
    writeFileSync(join(dir, file), text);
  }
  return dir;
}

describe('dependency rules', () => {
  it('src/ (and the compiled dist/src/ui, when built) follows them', async () => {
    expect(await cruise(ROOT)).toEqual([]);
  });

  it('catch each kind of upward or sideways import', async () => {
    const dir = tree({
      'src/errors.ts': 'export class E extends Error {}\n',
      'src/cli/progress.ts': 'export const bar = 1;\n',
      'src/cli/main.ts': "import { run } from '../server/http.js';\nexport const main = run;\n",
      'src/hub/ensure.ts': "import { bar } from '../cli/progress.js';\nexport const x = bar;\n", // library draws CLI bars
      'src/ops/math.ts': 'export const one = 1;\n',
      'src/backend/kernels.ts': "import { ln } from '../layers/layer-norm.js';\nexport const k = ln;\n", // backend ↔ layers
      'src/backend/webgpu/program.ts': "import { one } from '../../ops/math.js';\nexport const p = one;\n", // allowed
      'src/layers/layer-norm.ts':
        "import { k } from '../backend/kernels.js';\nimport type { M } from '../model/bert.js';\nexport const ln = k;\nexport type T = M;\n",
      'src/model/bert.ts': "import { ln } from '../layers/layer-norm.js';\nexport type M = typeof ln;\n",
      'src/loader/keys.ts': "import { tok } from '../tokenizer/vocab.js';\nexport const keys = tok;\n", // sideways
      'src/tokenizer/vocab.ts': "import { E } from '../errors.js';\nexport const tok = E;\n", // allowed
      'src/server/http.ts': "import { m } from '../encoder/sentence-encoder.js';\nexport const run = m;\n", // allowed
      'src/encoder/sentence-encoder.ts': "import { bar } from '../cli/progress.js';\nexport const m = bar;\n",
      'src/ui/page.ts': "import type { M } from '../model/bert.js';\nexport type U = M;\n", // types are fine
      'dist/src/ui/page.js': "import { one } from '../ops/math.js';\nexport const u = one;\n", // code is not
      'dist/src/ui/view.js': "import { readFileSync } from 'node:fs';\nexport const v = readFileSync;\n",
      'dist/src/ops/math.js': 'export const one = 1;\n',
      'src/foo/thing.ts': "import { E } from '../errors.js';\nexport const t = E;\n", // undeclared module
      'test/helper.ts': 'export const h = 1;\n',
      'src/io/read.ts': "import { h } from '../../test/helper.js';\nexport const r = h;\n",
    });
    const found = (await cruise(dir)).map((v) => `${v.rule.name}: ${v.from} → ${v.to}`).sort();
    expect(found).toEqual(
      [
        'hub-imports-only-loader-io-errors: src/hub/ensure.ts → src/cli/progress.ts',
        'backend-imports-only-ops-errors: src/backend/kernels.ts → src/layers/layer-norm.ts',
        'no-circular: src/backend/kernels.ts → src/layers/layer-norm.ts',
        'layers-imports-only-backend-ops-loader-errors: src/layers/layer-norm.ts → src/model/bert.ts',
        'no-circular: src/layers/layer-norm.ts → src/model/bert.ts',
        'loader-imports-only-errors-io: src/loader/keys.ts → src/tokenizer/vocab.ts',
        `encoder-imports-only-${['hub', 'model', 'layers', 'backend', 'ops', 'loader', 'tokenizer', 'io', 'errors'].join('-')}: src/encoder/sentence-encoder.ts → src/cli/progress.ts`,
        'ui-imports-no-node-side-code: dist/src/ui/page.js → dist/src/ops/math.js',
        'ui-no-node: dist/src/ui/view.js → fs',
        'undeclared-module: src/foo/thing.ts → src/errors.ts',
        'src-not-to-tests-or-benchmarks: src/io/read.ts → test/helper.ts',
      ].sort(),
    );
  });
});
