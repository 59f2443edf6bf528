#!/usr/bin/env node
// @ts-check
// `npm run build:tensorflow`: builds @tensorflow/tfjs-node's native addon against the TensorFlow C API that a
// TensorFlow Python wheel ships (libtensorflow_cc.so.2 + libtensorflow_framework.so.2 export every TF_* / TFE_*
// symbol the addon calls; the headers are under tensorflow/include), instead of the libtensorflow 2.9.1
// archive that tfjs-node's own install script downloads from storage.googleapis.com.
//
//   npm run build:tensorflow [-- --force]
//   SBERT_TF_WHEEL=FILE              a wheel on disk (tensorflow-cpu, or tensorflow for tfjs-node-gpu)
//   SBERT_TF_REQUIREMENT=SPEC        what pip downloads otherwise (default: tensorflow-cpu==2.21.0)
//   SBERT_TF_PACKAGE=NAME            @tensorflow/tfjs-node (default) or @tensorflow/tfjs-node-gpu
//   SBERT_TF_CACHE=DIR               downloaded wheels, extracted libraries, built addons
//                                    (default: $TMPDIR/sbert-tfjs-tensorflow)
// Exit 0: the backend loads. 1: a tool or a step failed; 2: SBERT_TF_WHEEL is not a usable wheel; 3: pip could
// not get the wheel (no index answered, or none has it).
//
// Steps, each skipped when its result is already there (so a second run, or one after `npm ci` wiped
// node_modules, takes seconds): get the package (npm install --no-save --ignore-scripts), get the wheel
// (pip download, pip's configured index), extract the two libraries and the C API headers into the cache,
// patch the addon's source (string-list attributes, a lock for worker threads: BINDING_PATCHES, below),
// compile the addon with node-gyp (bundled with npm) against Node's own headers, hard-link the libraries
// into the package's deps/lib (where the addon's rpath points), then load the package in a fresh process
// and multiply two matrices on it. Exit 0 only when that worked; otherwise one line `error: ...`.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  copyFileSync,
  existsSync,
  linkSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const DEFAULT_REQUIREMENT = 'tensorflow-cpu==2.21.0';
const PACKAGES = ['@tensorflow/tfjs-node', '@tensorflow/tfjs-node-gpu'];
/** Bump when what is cached changes shape, so old entries are not reused. */
const C_API_CACHE = 'c-api-v2';
const ADDON_CACHE = 'addon-v2';

/** Exit status when pip could not get the wheel (CI skips the tensorflow stage on it; anything else fails). */
const NO_WHEEL = 3;

class BuildError extends Error {
  /** @param {string} message @param {number} [code] */
  constructor(message, code = 1) {
    super(message);
    this.code = code;
  }
}

/** @param {string} m */
const say = (m) => process.stderr.write(`build:tensorflow: ${m}\n`);

/**
 * Runs a command; on failure throws a BuildError naming `what` and the most telling line of its output.
 * @param {string} cmd @param {string[]} args
 * @param {{ what: string, cwd?: string, env?: NodeJS.ProcessEnv, timeoutS?: number, log?: string, hint?: string }} o
 */
function run(cmd, args, o) {
  const r = spawnSync(cmd, args, {
    cwd: o.cwd ?? ROOT,
    env: o.env ?? process.env,
    encoding: 'utf8',
    timeout: (o.timeoutS ?? 600) * 1000,
    maxBuffer: 256 << 20,
  });
  const out = `${r.stdout ?? ''}${r.stderr ?? ''}`;
  if (o.log) writeFileSync(o.log, out);
  if (r.error) {
    const why =
      /** @type {NodeJS.ErrnoException} */ (r.error).code === 'ETIMEDOUT'
        ? `timed out after ${o.timeoutS ?? 600} s`
        : r.error.message;
    throw new BuildError(`${o.what} failed: ${why}${o.hint ? `; ${o.hint}` : ''}`);
  }
  if (r.status !== 0) {
    const lines = out
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean);
    const telling =
      lines.find((l) => /fatal error|error:|^ERROR|No matching distribution|No such file/i.test(l)) ??
      lines.at(-1) ??
      '';
    throw new BuildError(
      `${o.what} failed (exit ${r.status}): ${telling.slice(0, 300)}${o.log ? ` (full output: ${o.log})` : ''}${o.hint ? `; ${o.hint}` : ''}`,
    );
  }
  return out;
}

/** @param {string} cmd */
function onPath(cmd) {
  if (cmd.includes('/')) return existsSync(cmd) ? cmd : undefined;
  for (const d of (process.env.PATH ?? '').split(':').filter(Boolean))
    if (existsSync(join(d, cmd))) return join(d, cmd);
  return undefined;
}

/** The C++ toolchain node-gyp drives, and Python (node-gyp's gyp, and pip). */
function checkTools() {
  if (process.platform !== 'linux') {
    throw new BuildError(
      `only Linux is supported (this is ${process.platform}): TensorFlow's wheels for other systems ship the C API under other names`,
    );
  }
  const cxx = process.env.CXX ?? 'g++';
  if (!onPath(cxx.split(' ')[0] ?? cxx))
    throw new BuildError(`no C++ compiler: ${cxx} not found (Debian/Ubuntu: apt-get install g++ make)`);
  if (!onPath('make')) throw new BuildError('make not found (Debian/Ubuntu: apt-get install make)');
  const python = process.env.SBERT_TF_PYTHON ?? process.env.PYTHON ?? 'python3';
  if (!onPath(python))
    throw new BuildError(
      `${python} not found: pip and node-gyp need Python 3 (set SBERT_TF_PYTHON to another interpreter)`,
    );
  return { python };
}

/** Node's headers (node_api.h): beside the node binary in official builds, /usr/include/node in distributions'. */
function nodeHeaders() {
  const candidates = [
    process.env.npm_config_nodedir,
    resolve(dirname(process.execPath), '..'),
    '/usr',
    '/usr/local',
  ].filter((d) => typeof d === 'string' && d.length > 0);
  for (const d of /** @type {string[]} */ (candidates))
    if (existsSync(join(d, 'include', 'node', 'node_api.h'))) return d;
  throw new BuildError(
    `Node's C headers not found (no include/node/node_api.h under ${candidates.join(', ')}); ` +
      'install them (Debian: apt-get install libnode-dev) or point npm_config_nodedir at a Node source or headers tree',
  );
}

/** node-gyp: the one npm runs scripts with, else the copy inside npm, else node-gyp on PATH. */
function nodeGyp() {
  const candidates = [
    process.env.npm_config_node_gyp,
    join(
      dirname(process.execPath),
      '..',
      'lib',
      'node_modules',
      'npm',
      'node_modules',
      'node-gyp',
      'bin',
      'node-gyp.js',
    ),
  ];
  for (const c of candidates) if (c && existsSync(c)) return [process.execPath, c];
  const onpath = onPath('node-gyp');
  if (onpath) return [onpath];
  throw new BuildError('node-gyp not found (it comes with npm; or npm install -g node-gyp)');
}

/** The package to build, installed without its download script when npm left it out (or removed it). */
function ensurePackage() {
  const name = process.env.SBERT_TF_PACKAGE ?? PACKAGES[0];
  if (!PACKAGES.includes(/** @type {string} */ (name)))
    throw new BuildError(`SBERT_TF_PACKAGE must be one of ${PACKAGES.join(', ')}, got ${name}`);
  const ours = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
  const version = ours.optionalDependencies?.['@tensorflow/tfjs-node'] ?? ours.dependencies?.['@tensorflow/tfjs-node'];
  if (!version) throw new BuildError('package.json names no @tensorflow/tfjs-node version');
  const dir = join(ROOT, 'node_modules', ...String(name).split('/'));
  const installedVersion = () =>
    existsSync(join(dir, 'package.json'))
      ? JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).version
      : undefined;
  if (installedVersion() !== version) {
    // Its install script would try storage.googleapis.com again (and npm would remove the package when that fails).
    say(`installing ${name}@${version} without its download script`);
    const npm = process.env.npm_execpath ? [process.execPath, process.env.npm_execpath] : ['npm'];
    run(
      npm[0] ?? 'npm',
      [...npm.slice(1), 'install', '--no-save', '--ignore-scripts', '--no-audit', '--no-fund', `${name}@${version}`],
      {
        what: `npm install ${name}@${version}`,
        timeoutS: 900,
      },
    );
    if (installedVersion() !== version)
      throw new BuildError(`npm install ${name}@${version} left no ${dir}/package.json at that version`);
  }
  return { name: String(name), version: String(version), dir };
}

/** pip download of the requirement into the cache (pip reuses a wheel already there). → the wheel's path */
function downloadWheel(python, cache, requirement) {
  const dest = join(cache, 'wheels');
  mkdirSync(dest, { recursive: true });
  say(`pip download ${requirement} (pip's configured index; SBERT_TF_WHEEL=FILE for a wheel on disk)`);
  const args = [
    '-m',
    'pip',
    'download',
    '--no-deps',
    '--only-binary=:all:',
    '--retries',
    '1',
    '--dest',
    dest,
    requirement,
  ];
  let out;
  try {
    out = run(python, args, {
      what: `pip download ${requirement}`,
      timeoutS: 1800,
      hint: 'set SBERT_TF_WHEEL=FILE to use a wheel on disk, or PIP_INDEX_URL to name a reachable index',
    });
  } catch (e) {
    if (e instanceof BuildError) e.code = NO_WHEEL;
    throw e;
  }
  const saved = [...out.matchAll(/(?:Saved|File was already downloaded) (\S+\.whl)/g)].map((m) => m[1]).at(-1);
  const file = saved ? resolve(dest, saved) : undefined;
  if (!file || !existsSync(file))
    throw new BuildError(`pip download ${requirement} finished but named no wheel in ${dest}`);
  return file;
}

// The wheel is a zip; Python's zipfile reads it (Python is here anyway for node-gyp). Only the two libraries
// and the header folders the addon includes are extracted; member names are checked, never trusted as paths.
const EXTRACT_PY = String.raw`
import json, os, shutil, sys, zipfile
wheel, dest = sys.argv[1], (sys.argv[2] if len(sys.argv) > 2 else None)
LIBS = ("tensorflow/libtensorflow_cc.so.2", "tensorflow/libtensorflow_framework.so.2")
HEADERS = ("tensorflow/include/tensorflow/c/", "tensorflow/include/tensorflow/core/platform/",
           "tensorflow/include/tsl/platform/", "tensorflow/include/xla/tsl/c/",
           "tensorflow/include/tensorflow/core/common_runtime/next_pluggable_device/c/")
def fail(msg):
    sys.stderr.write(msg + "\n"); sys.exit(2)
try:
    z = zipfile.ZipFile(wheel)
except (zipfile.BadZipFile, OSError) as e:
    fail(f"{wheel}: not a wheel (zip): {e}")
names = set(z.namelist())
missing = [l for l in LIBS if l not in names]
if missing:
    fail(f"{wheel}: not a TensorFlow wheel with the C API (no {missing[0]})")
meta = next((n for n in names if n.endswith(".dist-info/METADATA") and n.count("/") == 1), None)
info = {"name": "?", "version": "?"}
if meta:
    for line in z.read(meta).decode("utf-8", "replace").splitlines():
        if line.startswith("Name: "): info["name"] = line[6:].strip()
        elif line.startswith("Version: "): info["version"] = line[9:].strip()
        elif not line.strip(): break
if dest is None:  # only checked
    print(json.dumps(info)); sys.exit(0)
count = 0
for n in sorted(names):
    if not (n in LIBS or (n.startswith(HEADERS) and n.endswith(".h"))):
        continue
    rel = n[len("tensorflow/"):]
    if rel.startswith("/") or ".." in rel.split("/"):
        fail(f"{wheel}: unsafe member name {n!r}")
    out = os.path.join(dest, "lib" if n in LIBS else "", os.path.basename(n) if n in LIBS else rel)
    os.makedirs(os.path.dirname(out), exist_ok=True)
    with z.open(n) as src, open(out, "wb") as dst:
        shutil.copyfileobj(src, dst, 1 << 20)
    count += 1
if not os.path.exists(os.path.join(dest, "include", "tensorflow", "c", "eager", "c_api.h")):
    fail(f"{wheel}: no C API headers (tensorflow/include/tensorflow/c/eager/c_api.h)")
info["files"] = count
print(json.dumps(info))
`;

/** The wheel's libraries and headers, extracted once per wheel into the cache. */
function extract(python, wheel, cache) {
  const key = basename(wheel).replace(/\.whl$/, '');
  const dir = join(cache, C_API_CACHE, key);
  const infoFile = join(dir, 'wheel.json');
  if (existsSync(infoFile)) return { dir, key, ...JSON.parse(readFileSync(infoFile, 'utf8')) };
  say(`extracting the C API from ${basename(wheel)}`);
  const partial = `${dir}.partial-${process.pid}`;
  rmSync(partial, { recursive: true, force: true });
  mkdirSync(partial, { recursive: true });
  try {
    const out = run(python, ['-c', EXTRACT_PY, wheel, partial], { what: `reading ${wheel}`, timeoutS: 600 });
    const info = JSON.parse(out.trim().split('\n').at(-1) ?? '{}');
    writeFileSync(join(partial, 'wheel.json'), JSON.stringify({ ...info, wheel: basename(wheel) }, null, 2));
    rmSync(dir, { recursive: true, force: true });
    renameSync(partial, dir);
    return { dir, key, ...info, wheel: basename(wheel) };
  } catch (e) {
    rmSync(partial, { recursive: true, force: true });
    throw asBadWheel(e);
  }
}

/** A wheel the Python side rejected is bad input (exit 2), said in its own words. */
function asBadWheel(e) {
  if (e instanceof BuildError && /not a wheel|not a TensorFlow wheel|no C API headers|unsafe member/.test(e.message)) {
    return new BuildError(e.message.replace(/^reading .*? failed \(exit \d+\): /, ''), 2);
  }
  return e;
}

/** SBERT_TF_WHEEL is checked (a zip holding the two libraries) before anything is installed or built. */
function checkWheel(python, wheel) {
  try {
    run(python, ['-c', EXTRACT_PY, wheel], { what: `reading ${wheel}`, timeoutS: 120 });
  } catch (e) {
    throw asBadWheel(e);
  }
}

/**
 * src at dest through a new file and a rename, so a process that has dest mapped keeps its old copy: a hard link
 * where `link` (no copy of 850 MB when the cache is on the same file system) and the file system allows it, else
 * a copy (the addon and helper, which nothing may change through the cache's name).
 */
function place(src, dest, link = true) {
  const partial = `${dest}.partial`;
  rmSync(partial, { force: true });
  let linked = false;
  if (link) {
    try {
      linkSync(src, partial);
      linked = true;
    } catch {}
  }
  if (!linked) copyFileSync(src, partial);
  renameSync(partial, dest);
  // rename() of two links to one file succeeds and leaves both (POSIX).
  rmSync(partial, { force: true });
}

/** A symbolic link dest → target, put in place by a rename (dest is never missing on the way). */
function placeLink(target, dest) {
  const partial = `${dest}.partial`;
  rmSync(partial, { force: true });
  symlinkSync(target, partial);
  if (existsSync(dest) && !lstatSync(dest).isSymbolicLink()) rmSync(dest, { recursive: true, force: true });
  renameSync(partial, dest);
}

/**
 * The libraries where the addon's rpath ($ORIGIN/../../deps/lib) finds them, plus the link-time names. Each name
 * is replaced by a rename, never removed first: a process that starts tfjs-node meanwhile (a test, a server)
 * finds either the old file or the new one.
 */
function installLibs(pkg, api) {
  const lib = join(pkg.dir, 'deps', 'lib');
  mkdirSync(lib, { recursive: true });
  const keep = [
    'libtensorflow_cc.so.2',
    'libtensorflow_framework.so.2',
    'libtensorflow.so',
    'libtensorflow_framework.so',
  ];
  for (const f of readdirSync(lib)) if (!keep.includes(f)) rmSync(join(lib, f), { recursive: true, force: true });
  place(join(api.dir, 'lib', 'libtensorflow_cc.so.2'), join(lib, 'libtensorflow_cc.so.2'));
  place(join(api.dir, 'lib', 'libtensorflow_framework.so.2'), join(lib, 'libtensorflow_framework.so.2'));
  // binding.gyp links -ltensorflow -ltensorflow_framework; the addon then records the libraries' sonames.
  placeLink('libtensorflow_cc.so.2', join(lib, 'libtensorflow.so'));
  placeLink('libtensorflow_framework.so.2', join(lib, 'libtensorflow_framework.so'));
  placeLink(join(api.dir, 'include'), join(pkg.dir, 'deps', 'include'));
}

/** Where tfjs-node will look for its addon (node-pre-gyp's rule: lib/napi-v<highest N-API version both support>). */
function bindingPath(pkg) {
  const req = createRequire(join(pkg.dir, 'package.json'));
  /** @type {{ find(p: string): string }} */
  const preGyp = req('@mapbox/node-pre-gyp');
  return preGyp.find(join(pkg.dir, 'package.json'));
}

/** Loads the package in a fresh process and computes [1 2]·[3 4]ᵀ; → libtensorflow's version. */
function probe(pkg) {
  const deps = join(pkg.dir, 'deps');
  // As src/backend/tensorflow.ts loads it: TensorFlow's libraries through the helper, then our ops (optional).
  const code = `
    process.env.TF_CPP_MIN_LOG_LEVEL ??= '2';
    process.env.TF_ENABLE_ONEDNN_OPTS ??= '0';
    const { existsSync } = require('node:fs');
    const { join } = require('node:path');
    const deps = ${JSON.stringify(deps)};
    const helper = require(join(deps, ${JSON.stringify(PRELOAD)}));
    const error = helper.load([join(deps, 'lib', 'libtensorflow_framework.so.2'), join(deps, 'lib', 'libtensorflow_cc.so.2')],
      join(require('node:os').tmpdir(), 'sbert-build-probe-' + process.pid + '.log'));
    if (error) throw new Error(error);
    const ops = join(deps, ${JSON.stringify(OPS)});
    const opsError = existsSync(ops) ? helper.loadOptional(ops) : undefined;
    if (opsError) process.stderr.write('OPS-ERROR ' + opsError.split('\\n')[0] + '\\n');
    const tf = require(${JSON.stringify(pkg.dir)});
    const y = tf.matMul(tf.tensor2d([[1, 2]]), tf.tensor2d([[3], [4]])).dataSync()[0];
    if (tf.getBackend() !== 'tensorflow' || y !== 11) throw new Error('backend ' + tf.getBackend() + ' computed ' + y);
    process.stdout.write(tf.backend().binding.TF_Version);`;
  const r = spawnSync(process.execPath, ['-e', code], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
  rmSync(join(tmpdir(), `sbert-build-probe-${r.pid}.log`), { force: true });
  const opsError = /^OPS-ERROR (.*)$/m.exec(r.stderr ?? '')?.[1];
  if (r.status === 0) return { ok: true, version: r.stdout.trim(), opsError };
  const lines = `${r.stderr ?? ''}`
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !/^(at |I0000|WARNING: All log|Node\.js v)/.test(l));
  return { ok: false, why: (lines.find((l) => /Error|error/.test(l)) ?? lines[0] ?? `exit ${r.status}`).slice(0, 300) };
}

/**
 * Our changes to tfjs-node's binding source (binding/tfjs_backend.cc), applied before compiling, each once (its
 * marker says it is there; a source without the text it replaces is an error naming the file):
 * - string-list: a string attribute may be a list (TFE_OpSetAttrStringList). tfjs-node's AssignOpAttr reads a
 *   TF_ATTR_STRING value as one string only, so an op with a `list(string)` attribute cannot be called from JS;
 *   `_MklNativeFusedMatMul`'s `fused_ops` (["BiasAdd", "GeluExact"]: the bias and the exact GELU run in the
 *   matmul's epilogue) is one. An array value now becomes a string list; a string takes the original path.
 *   src/backend/tensorflow-kernels.ts checks at start-up that the loaded addon has it.
 * - attr-name-lock: AssignOpAttr keeps every attribute name in one process-wide std::set (ATTR_NAME_SET) and
 *   inserts into it without a lock, so two worker threads running ops at once (the encoder's pool, a server's
 *   workers) corrupt the tree: a SIGSEGV in std::set::insert, in about 1 run in 20 of 256 sentences on 2 workers
 *   (2026-11-30). The insert now holds a mutex; the set's nodes never move, so the names it hands out stay valid.
 * Each patch names what the compiled addon must then contain (`inAddon`), so a cached addon built from another
 * source is never used.
 */
const BINDING_PATCHES = [
  {
    id: 'string-list-v1',
    marker: 'sbert-tfjs patch: string-list attributes',
    // Only the patched source calls it, so only a patched addon imports it (its dynamic symbol table).
    inAddon: 'TFE_OpSetAttrStringList',
    edits: [
      [
        `    case TF_ATTR_STRING: {
      // NOTE: String attribute values do not have to be utf8 encoded strings
      // (could be arbitrary byte sequences).
      std::string str_value;`,
        `    case TF_ATTR_STRING: {
      // sbert-tfjs patch: string-list attributes (scripts/build-tensorflow.mjs).
      if (IsArray(env, nstatus, &js_value)) {
        uint32_t length;
        nstatus = napi_get_array_length(env, js_value, &length);
        ENSURE_NAPI_OK(env, nstatus);
        std::vector<std::string> strings(length);
        std::vector<const void *> values(length);
        std::vector<size_t> lengths(length);
        for (uint32_t i = 0; i < length; ++i) {
          napi_value element;
          nstatus = napi_get_element(env, js_value, i, &element);
          ENSURE_NAPI_OK(env, nstatus);
          nstatus = GetStringParam(env, element, strings[i]);
          ENSURE_NAPI_OK(env, nstatus);
          values[i] = strings[i].data();
          lengths[i] = strings[i].size();
        }
        TFE_OpSetAttrStringList(tfe_op, attr_name, values.data(), lengths.data(), static_cast<int>(length));
        break;
      }
      // NOTE: String attribute values do not have to be utf8 encoded strings
      // (could be arbitrary byte sequences).
      std::string str_value;`,
      ],
    ],
  },
  {
    id: 'attr-name-lock-v1',
    marker: 'sbert-tfjs patch: attribute names under a lock',
    // A string the patch puts in the addon's read-only data (kept: `used`).
    inAddon: 'sbert-tfjs patch: attribute names under a lock',
    edits: [
      ['#include <memory>\n#include <set>\n', '#include <memory>\n#include <mutex>\n#include <set>\n'],
      [
        `static std::set<std::string> ATTR_NAME_SET;
`,
        `static std::set<std::string> ATTR_NAME_SET;
// Worker threads each run ops, and the set is the process's (scripts/build-tensorflow.mjs):
static std::mutex ATTR_NAME_SET_MUTEX;
__attribute__((used)) static const char SBERT_ATTR_NAME_LOCK[] = "sbert-tfjs patch: attribute names under a lock";
`,
      ],
      [
        `  const char *attr_name =
      ATTR_NAME_SET.insert(attr_name_string.c_str()).first->c_str();`,
        `  const char *attr_name;
  {
    std::lock_guard<std::mutex> lock(ATTR_NAME_SET_MUTEX);
    attr_name = ATTR_NAME_SET.insert(attr_name_string.c_str()).first->c_str();
  }`,
      ],
    ],
  },
];
/** What the stamp and the addon cache's slot name: every patch the addon is compiled with. */
const BINDING_PATCH_ID = BINDING_PATCHES.map((p) => p.id).join('+');

/** Whether a compiled addon carries every patch (`inAddon` of each is in the file). */
function addonHasPatch(file) {
  const bytes = readFileSync(file);
  return BINDING_PATCHES.every((p) => bytes.includes(p.inAddon));
}

/** Whether the binding source carries every patch. */
const sourceHasPatch = (src) => BINDING_PATCHES.every((p) => src.includes(p.marker));

/** Applies each of BINDING_PATCHES to the package's binding source that is not there yet. */
function patchBinding(pkg) {
  const file = join(pkg.dir, 'binding', 'tfjs_backend.cc');
  let src = readFileSync(file, 'utf8');
  for (const patch of BINDING_PATCHES) {
    if (src.includes(patch.marker)) continue;
    for (const [from, to] of patch.edits) {
      if (!src.includes(from))
        throw new BuildError(
          `${file}: not the source this script patches (${pkg.name} ${pkg.version}; ${patch.id}: ${JSON.stringify(from.split('\n')[0])} not found)`,
        );
      src = src.replace(from, to);
    }
    writeFileSync(file, src);
    say(`patched ${file}: ${patch.marker}`);
  }
}

/** What src/backend/tensorflow.ts looks for beside the addon: the quiet loader of TensorFlow's libraries. */
const PRELOAD = 'sbert-preload.node';
const PRELOAD_SOURCE = join(ROOT, 'scripts', 'tensorflow-preload.cc');
/** Which version of the helper's source a build has (a changed helper is rebuilt). */
const preloadHash = () => createHash('sha256').update(readFileSync(PRELOAD_SOURCE)).digest('hex').slice(0, 12);
/** Our own TensorFlow ops (SbertAttention, SbertLayerNorm, SbertLinear), loaded by the helper after TensorFlow's libraries. */
const OPS = 'sbert-ops.so';
const OPS_SOURCE = join(ROOT, 'scripts', 'tensorflow-ops.cc');
/** What OPS_SOURCE includes from beside it: its vector kernels, once per instruction set. */
const OPS_HEADERS = [join(ROOT, 'scripts', 'tensorflow-kernels.h')];
/** Flags our ops are compiled with (beside the include and link flags). */
const OPS_FLAGS = ['-shared', '-fPIC', '-O3', '-std=c++17', '-fno-math-errno', '-Wno-psabi', '-pthread'];
/** Which build of our ops a stamp or cache entry has: the source, the compiler asked for and the flags. */
const opsHash = () =>
  createHash('sha256')
    .update(readFileSync(OPS_SOURCE))
    .update(Buffer.concat(OPS_HEADERS.map((f) => readFileSync(f))))
    .update(JSON.stringify([process.env.CXX ?? 'g++', OPS_FLAGS]))
    .digest('hex')
    .slice(0, 12);

/**
 * Compiles scripts/tensorflow-ops.cc against the wheel's C API headers and libtensorflow_framework (their rpath
 * finds it beside them in deps/lib) into `out`; → undefined, or why not (the backend then runs without them, as
 * it does with a tfjs-node that was not built here).
 */
function buildOps(api, out) {
  const cxx = (process.env.CXX ?? 'g++').split(' ');
  const flags = [...OPS_FLAGS, `-I${join(api.dir, 'include')}`];
  const link = [`-L${join(api.dir, 'lib')}`, '-l:libtensorflow_framework.so.2', '-Wl,-rpath,$ORIGIN/lib'];
  try {
    run(cxx[0] ?? 'g++', [...cxx.slice(1), ...flags, OPS_SOURCE, '-o', `${out}.partial`, ...link], {
      what: `compiling ${OPS_SOURCE}`,
    });
  } catch (e) {
    rmSync(`${out}.partial`, { force: true });
    if (!(e instanceof BuildError)) throw e;
    return e.message.split('\n')[0];
  }
  renameSync(`${out}.partial`, out);
  return undefined;
}

/**
 * tfjs-node's addon (node-gyp, tfjs-node's binding.gyp) and our preload helper (one C++ file), each compiled
 * once per package version × N-API version × wheel and kept in the cache; → true when something was compiled.
 */
function build(pkg, api, cache, headersDir) {
  const target = bindingPath(pkg);
  // The slot names everything the addon is compiled from: package, N-API version, C API and our patch.
  const slot = join(
    cache,
    ADDON_CACHE,
    `${pkg.name.replace('/', '+')}-${pkg.version}-${basename(dirname(target))}-${api.key}-${BINDING_PATCH_ID}`,
  );
  const built = join(slot, 'tfjs_binding.node');
  const preload = join(slot, `sbert-preload-${preloadHash()}.node`);
  const ops = join(slot, `sbert-ops-${opsHash()}.so`);
  mkdirSync(dirname(target), { recursive: true });
  mkdirSync(slot, { recursive: true });
  let compiled = false;
  // Patched whether the addon is compiled or restored: the source beside the addon says what it was built from.
  patchBinding(pkg);
  if (!existsSync(built) || !addonHasPatch(built)) {
    say(`compiling the addon against ${api.name} ${api.version}'s C API (node-gyp, ≈ 30 s)`);
    const napi = /napi-v(\d+)$/.exec(dirname(target))?.[1];
    if (!napi) throw new BuildError(`unexpected addon path ${target} (no napi-vN folder)`);
    const log = join(cache, `node-gyp-${process.pid}.log`);
    const gyp = nodeGyp();
    const args = [
      'rebuild',
      `--nodedir=${headersDir}`,
      '--module_name=tfjs_binding',
      `--module_path=${dirname(target)}`,
    ];
    run(gyp[0] ?? 'node-gyp', [...gyp.slice(1), ...args, `--napi_build_version=${napi}`, '--jobs=max'], {
      what: 'node-gyp rebuild',
      cwd: pkg.dir,
      timeoutS: 1200,
      log,
    });
    const out = existsSync(target) ? target : join(pkg.dir, 'build', 'Release', 'tfjs_binding.node');
    rmSync(log, { force: true });
    if (!addonHasPatch(out)) throw new BuildError(`${out}: compiled without our patches (${BINDING_PATCH_ID})`);
    place(out, built, false);
    compiled = true;
  }
  if (!existsSync(preload)) {
    const cxx = (process.env.CXX ?? 'g++').split(' ');
    const src = PRELOAD_SOURCE;
    const flags = [
      '-shared',
      '-fPIC',
      '-O2',
      '-std=c++17',
      `-I${join(headersDir, 'include', 'node')}`,
      '-DNAPI_VERSION=8',
    ];
    run(cxx[0] ?? 'g++', [...cxx.slice(1), ...flags, src, '-o', `${preload}.partial`, '-ldl'], {
      what: `compiling ${src}`,
    });
    renameSync(`${preload}.partial`, preload);
    compiled = true;
  }
  if (!existsSync(ops)) {
    const why = buildOps(api, ops);
    if (why) say(`warning: our TensorFlow ops were not built (${why}); the backend runs on TensorFlow's alone`);
    else compiled = true;
  }
  place(built, target, false);
  place(preload, join(pkg.dir, 'deps', PRELOAD), false);
  if (existsSync(ops)) place(ops, join(pkg.dir, 'deps', OPS), false);
  else rmSync(join(pkg.dir, 'deps', OPS), { force: true });
  return compiled;
}

function main() {
  const force = process.argv.includes('--force');
  const unknown = process.argv.slice(2).filter((a) => a !== '--force');
  if (unknown.length)
    throw new BuildError(`unknown argument ${unknown[0]} (only --force; settings are SBERT_TF_* variables)`);
  const cache = resolve(process.env.SBERT_TF_CACHE ?? join(tmpdir(), 'sbert-tfjs-tensorflow'));
  const given = process.env.SBERT_TF_WHEEL ? resolve(process.env.SBERT_TF_WHEEL) : undefined;
  const wanted = given
    ? { wheelPath: given }
    : { requirement: process.env.SBERT_TF_REQUIREMENT ?? DEFAULT_REQUIREMENT };

  const { python } = checkTools();
  if (given) {
    if (!existsSync(given)) throw new BuildError(`SBERT_TF_WHEEL=${given}: no such file`, 2);
    if (!statSync(given).isFile()) throw new BuildError(`SBERT_TF_WHEEL=${given}: not a regular file`, 2);
    checkWheel(python, given);
  }
  const pkg = ensurePackage();
  const stamp = join(pkg.dir, 'deps', 'sbert-build.json');
  // Already built from the same wheel, and it loads: nothing to do.
  if (!force && existsSync(stamp)) {
    const s = JSON.parse(readFileSync(stamp, 'utf8'));
    const sameWheel = given
      ? s.wheelPath === given && s.wheelBytes === statSync(given).size
      : s.requirement === wanted.requirement;
    const target = bindingPath(pkg);
    const same =
      sameWheel &&
      s.preload === preloadHash() &&
      s.ops === opsHash() &&
      s.bindingPatch === BINDING_PATCH_ID &&
      existsSync(target) &&
      addonHasPatch(target) &&
      sourceHasPatch(readFileSync(join(pkg.dir, 'binding', 'tfjs_backend.cc'), 'utf8'));
    if (same) {
      const p = probe(pkg);
      if (p.ok) {
        const what = `${pkg.name} ${pkg.version} is already built against TensorFlow ${p.version}'s C API (${s.wheel})`;
        process.stdout.write(`build:tensorflow: ${what}; --force rebuilds\n`);
        return;
      }
      say(`the existing build does not load (${p.why}); rebuilding`);
    }
  }
  const headersDir = nodeHeaders();
  mkdirSync(cache, { recursive: true });
  const wheel = given ? given : downloadWheel(python, cache, wanted.requirement ?? DEFAULT_REQUIREMENT);
  const api = extract(python, wheel, cache);
  rmSync(stamp, { force: true });
  installLibs(pkg, api);
  const compiled = build(pkg, api, cache, headersDir);
  const p = probe(pkg);
  if (!p.ok) throw new BuildError(`${pkg.name} was built but does not load: ${p.why}`);
  const opsFile = join(pkg.dir, 'deps', OPS);
  if (p.opsError) {
    say(
      `warning: our TensorFlow ops were built but do not load (${p.opsError}); the backend runs on TensorFlow's alone`,
    );
    rmSync(opsFile, { force: true });
  }
  const record = {
    ...wanted,
    preload: preloadHash(),
    ...(existsSync(opsFile) && { ops: opsHash() }),
    bindingPatch: BINDING_PATCH_ID,
    wheelBytes: statSync(wheel).size,
    wheel: api.wheel,
    tensorflow: `${api.name} ${api.version}`,
  };
  writeFileSync(stamp, JSON.stringify({ ...record, cApi: p.version, builtAt: new Date().toISOString() }, null, 2));
  const how = compiled ? 'built' : 'restored from the cache';
  process.stdout.write(
    `build:tensorflow: ${pkg.name} ${pkg.version} ${how} against TensorFlow ${p.version}'s C API (${api.wheel}); ` +
      '--backend tensorflow is ready\n',
  );
}

try {
  main();
} catch (e) {
  if (!(e instanceof BuildError)) throw e;
  process.stderr.write(`error: build:tensorflow: ${e.message}\n`);
  process.exit(e.code);
}
