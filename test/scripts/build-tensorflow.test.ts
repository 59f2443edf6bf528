// `npm run build:tensorflow` (scripts/build-tensorflow.mjs): bad input ends in one `error:` line and a non-zero
// exit before anything is installed or compiled; where the backend is already built, a second run is a no-op.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { WORKER_LOCK_MARKER } from '../../src/backend/tensorflow.js';
import { errorLine, type Run } from '../cli.js';
import { ROOT } from '../fixtures.js';

const SCRIPT = join(ROOT, 'scripts', 'build-tensorflow.mjs');
const TMP = mkdtempSync(join(tmpdir(), 'sbert-build-tf-'));

function build(args: string[], env: Record<string, string | undefined> = {}): Promise<Run> {
  const merged: NodeJS.ProcessEnv = { ...process.env, ...env };
  for (const [k, v] of Object.entries(env)) if (v === undefined) delete merged[k];
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [SCRIPT, ...args],
      { cwd: ROOT, env: merged, timeout: 120_000 },
      (err, stdout, stderr) => {
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr });
      },
    );
  });
}

describe('build:tensorflow on bad input', () => {
  it('SBERT_TF_WHEEL: missing, a folder, not a zip, a zip without the C API → exit 2, the file named', async () => {
    const notZip = join(TMP, 'not-a-wheel.whl');
    writeFileSync(notZip, 'hello');
    // A zip with other members: written by Python, as the script reads wheels with Python's zipfile.
    const otherZip = join(TMP, 'other.whl');
    const py = await new Promise<number>((resolve) => {
      execFile(
        'python3',
        [
          '-c',
          `import zipfile; z = zipfile.ZipFile(${JSON.stringify(otherZip)}, 'w'); z.writestr('pkg/a.py', ''); z.close()`,
        ],
        (e) => resolve(e ? 1 : 0),
      );
    });
    expect(py).toBe(0);
    const cases: [string, RegExp][] = [
      [join(TMP, 'nope.whl'), /SBERT_TF_WHEEL=.*nope\.whl: no such file$/],
      [TMP, /SBERT_TF_WHEEL=.*: not a regular file$/],
      [notZip, /not-a-wheel\.whl: not a wheel \(zip\)/],
      [otherZip, /other\.whl: not a TensorFlow wheel with the C API \(no tensorflow\/libtensorflow_cc\.so\.2\)$/],
    ];
    for (const [wheel, message] of cases) {
      const r = await build([], { SBERT_TF_WHEEL: wheel });
      expect(r.code, r.stderr).toBe(2);
      expect(errorLine(r)).toMatch(/^error: build:tensorflow: /);
      expect(errorLine(r)).toMatch(message);
      expect(r.stdout).toBe('');
    }
  });

  it('no compiler, or an unknown argument → exit 1 with one error line', async () => {
    const cxx = await build([], { CXX: join(TMP, 'no-such-g++') });
    expect(cxx.code).toBe(1);
    expect(errorLine(cxx)).toMatch(
      /no C\+\+ compiler: .*no-such-g\+\+ not found \(Debian\/Ubuntu: apt-get install g\+\+ make\)$/,
    );
    const arg = await build(['--fast']);
    expect(arg.code).toBe(1);
    expect(errorLine(arg)).toBe(
      'error: build:tensorflow: unknown argument --fast (only --force; settings are SBERT_TF_* variables)',
    );
  });
});

describe('build:tensorflow where the backend is built', () => {
  const stampFile = join(ROOT, 'node_modules', '@tensorflow', 'tfjs-node', 'deps', 'sbert-build.json');
  const stamp = existsSync(stampFile)
    ? (JSON.parse(readFileSync(stampFile, 'utf8')) as {
        requirement?: string;
        wheel: string;
        bindingPatch?: string;
        ops?: string;
      })
    : undefined;

  const pkgDir = join(ROOT, 'node_modules', '@tensorflow', 'tfjs-node');
  const sourceFile = join(pkgDir, 'binding', 'tfjs_backend.cc');
  const addonFile = join(pkgDir, 'lib', 'napi-v8', 'tfjs_binding.node');
  const MARK = 'sbert-tfjs patch: string-list attributes';
  // The string src/backend/tensorflow.ts looks for in the loaded addon: the script must put that very one in.
  const LOCK = WORKER_LOCK_MARKER;

  /** The installed addon, its source and the stamp all say both patches are in. */
  function expectPatched(stampNow: typeof stamp): void {
    const src = readFileSync(sourceFile, 'utf8');
    expect(src.split(MARK).length - 1).toBe(1);
    expect(src).toMatch(/TFE_OpSetAttrStringList\(tfe_op, attr_name, values\.data\(\), lengths\.data\(\)/);
    // The process-wide set of attribute names is written under a lock (worker threads run ops at once).
    expect(src.split(LOCK).length - 1).toBe(1);
    expect(src).toMatch(
      /std::lock_guard<std::mutex> lock\(ATTR_NAME_SET_MUTEX\);\n\s+attr_name = ATTR_NAME_SET\.insert\(/,
    );
    expect(src).not.toMatch(/const char \*attr_name =\s+ATTR_NAME_SET\.insert/);
    // Only the patched source calls TFE_OpSetAttrStringList and holds the lock's marker string.
    const addon = readFileSync(addonFile);
    expect(addon.includes('TFE_OpSetAttrStringList')).toBe(true);
    expect(addon.includes(LOCK)).toBe(true);
    expect(stampNow?.bindingPatch).toBe('string-list-v1+attr-name-lock-v1');
    // Our ops' library is built and recorded (which build: a hash of its source, compiler and flags), and it
    // holds both ops' names.
    expect(stampNow?.ops).toMatch(/^[0-9a-f]{12}$/);
    const ops = readFileSync(join(pkgDir, 'deps', 'sbert-ops.so'));
    expect(ops.includes('SbertAttention') && ops.includes('SbertLayerNorm')).toBe(true);
  }

  it("the addon's source carries each of our patches once, the addon holds what they add, the stamp records them", (ctx) => {
    if (!stamp) ctx.skip();
    expectPatched(stamp);
  });

  it('a second run with the same settings finds the build, checks that it loads, and changes nothing', async (ctx) => {
    // Only where it was built from pip's default requirement (another requirement or wheel would rebuild).
    if (!stamp?.requirement || process.env.SBERT_TF_WHEEL || process.env.SBERT_TF_REQUIREMENT) ctx.skip();
    const r = await build([], {
      SBERT_TF_WHEEL: undefined,
      SBERT_TF_REQUIREMENT: undefined,
      SBERT_TF_PACKAGE: undefined,
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(
      /^build:tensorflow: @tensorflow\/tfjs-node \S+ is already built against TensorFlow \S+'s C API \(.+\.whl\); --force rebuilds\n$/,
    );
    expect(readFileSync(stampFile, 'utf8')).toBe(JSON.stringify(stamp, null, 2));
  });

  // CI's case: a fresh `npm ci` (tfjs-node's source as published) with the addon already in the build cache
  // (an earlier run on the same machine). The cached addon is restored, and the source is patched all the same.
  it('a fresh install restored from the build cache gets the patched source and the patched addon', async (ctx) => {
    if (!stamp?.requirement || process.env.SBERT_TF_WHEEL || process.env.SBERT_TF_REQUIREMENT) ctx.skip();
    const src = readFileSync(sourceFile, 'utf8');
    // tfjs-node's source as published: both patches taken out again.
    const published = src
      .replace(new RegExp(`\\n {6}// ${MARK}[\\s\\S]*?\\n( {6}// NOTE: String attribute values)`), '\n$1')
      .replace('#include <mutex>\n', '')
      .replace(/\n\/\/ Worker threads each run ops[^\n]*\n[^\n]*\n[^\n]*\n/, '\n')
      .replace(
        /const char \*attr_name;\n {2}\{\n {4}std::lock_guard<std::mutex> lock\(ATTR_NAME_SET_MUTEX\);\n {4}attr_name = (ATTR_NAME_SET\.insert\(attr_name_string\.c_str\(\)\)\.first->c_str\(\));\n {2}\}/,
        'const char *attr_name =\n      $1;',
      );
    expect(published).not.toContain('TFE_OpSetAttrStringList');
    expect(published).not.toContain('mutex');
    expect(published).toContain(
      'const char *attr_name =\n      ATTR_NAME_SET.insert(attr_name_string.c_str()).first->c_str();',
    );
    writeFileSync(sourceFile, published);
    const r = await build(['--force'], {
      SBERT_TF_WHEEL: undefined,
      SBERT_TF_REQUIREMENT: undefined,
      SBERT_TF_PACKAGE: undefined,
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/ (built|restored from the cache) against TensorFlow \S+'s C API/);
    expectPatched(JSON.parse(readFileSync(stampFile, 'utf8')) as typeof stamp);
  }, 600_000);

  // A tfjs-node whose source lacks what a patch replaces (another version, an edited file): one line naming the
  // file and the patch, exit 1, and nothing compiled from it. The source is put back and the build rechecked after.
  it('a source without the text a patch replaces is an error naming the file and the patch', async (ctx) => {
    if (!stamp?.requirement || process.env.SBERT_TF_WHEEL || process.env.SBERT_TF_REQUIREMENT) ctx.skip();
    const src = readFileSync(sourceFile, 'utf8');
    const env = { SBERT_TF_WHEEL: undefined, SBERT_TF_REQUIREMENT: undefined, SBERT_TF_PACKAGE: undefined };
    try {
      // The lock's patch taken out, and the line it anchors on renamed: nothing to patch.
      const other = src
        .replace(new RegExp(`\\n// Worker threads each run ops[^\\n]*\\n[^\\n]*\\n[^\\n]*${LOCK}[^\\n]*\\n`), '\n')
        .replace('#include <mutex>\n', '')
        .replace('static std::set<std::string> ATTR_NAME_SET;', 'static std::set<std::string> ATTR_NAMES;');
      expect(other).not.toContain(LOCK);
      writeFileSync(sourceFile, other);
      const r = await build(['--force'], env);
      expect(r.code).toBe(1);
      expect(r.stderr.trim().split('\n').pop()).toBe(
        `error: build:tensorflow: ${sourceFile}: not the source this script patches (@tensorflow/tfjs-node 4.22.0; ` +
          'attr-name-lock-v1: "static std::set<std::string> ATTR_NAME_SET;" not found)',
      );
    } finally {
      writeFileSync(sourceFile, src);
      const r = await build([], env);
      expect(r.code, r.stderr).toBe(0);
    }
    expectPatched(JSON.parse(readFileSync(stampFile, 'utf8')) as typeof stamp);
  }, 600_000);
});
