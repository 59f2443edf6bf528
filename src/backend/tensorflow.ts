// The `tensorflow` backend: @tensorflow/tfjs-node-gpu, else @tensorflow/tfjs-node, each TensorFlow's C API
// (libtensorflow) behind an N-API addon. Their install script downloads libtensorflow 2.9.1 from Google's
// storage; where that cannot run, `npm run build:tensorflow` (scripts/build-tensorflow.mjs) builds the addon
// against the C API of a TensorFlow Python wheel. Either way, one process runs each op on all cores
// (TensorFlow's intra-op pool); the encoder adds worker threads only for large calls on the CPU build
// (defaultWorkers in src/encoder/sentence-encoder.ts).
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { isMainThread, threadId } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs-core';
import { installTensorflowKernels, tensorflowKernels, tensorflowKernelsIsa } from './tensorflow-kernels.js';
import { BackendUnavailable } from './unavailable.js';

export const TENSORFLOW_PACKAGES = ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node'] as const;

const BUILD_HINT = 'npm run build:tensorflow';

/** The package whose backend is active in this thread, once `setupTensorflow` succeeded. */
let active: (typeof TENSORFLOW_PACKAGES)[number] | undefined;
/** Whether its addon carries the lock that lets worker threads run ops at once: read on first ask, then kept. */
let workerLock: boolean | undefined;

/**
 * What scripts/build-tensorflow.mjs's attr-name-lock patch puts in the compiled addon. tfjs-node's binding keeps
 * attribute names in one process-wide std::set and inserts without a lock, so two threads running ops at once
 * crash it (≈ 1 run in 20 with two encoder workers); the patch adds a mutex (docs/tensorflow.md).
 */
export const WORKER_LOCK_MARKER = 'sbert-tfjs patch: attribute names under a lock';

/** True when the addon file `file` carries the lock (its marker string is in it); false if unreadable. */
export function addonHasWorkerLock(file: string): boolean {
  try {
    return readFileSync(file).includes(WORKER_LOCK_MARKER);
  } catch {
    return false;
  }
}

/** Every compiled addon of `pkg` (`lib/napi-v*\/tfjs_binding.node`) carries the lock, and there is one. */
function packageHasWorkerLock(pkg: string): boolean {
  try {
    const lib = join(dirname(requireHere.resolve(`${pkg}/package.json`)), 'lib');
    const addons = readdirSync(lib)
      .filter((d) => /^napi-v\d+$/.test(d))
      .map((d) => join(lib, d, 'tfjs_binding.node'))
      .filter((f) => existsSync(f));
    return addons.length > 0 && addons.every(addonHasWorkerLock);
  } catch {
    return false;
  }
}

/**
 * Whether worker threads may each run the `tensorflow` backend at once: tfjs-node's addon as
 * `npm run build:tensorflow` builds it (with the lock). tfjs-node's prebuilt addon runs in one thread only.
 */
export function tensorflowWorkersSafe(): boolean {
  if (active === undefined) return false;
  workerLock ??= packageHasWorkerLock(active);
  return workerLock;
}

/**
 * True once tfjs-node (CPU) runs the `tensorflow` backend in this thread; false before, and with tfjs-node-gpu
 * (whose ops run on a GPU: the encoder keeps it in process).
 */
export function tensorflowOnCpu(): boolean {
  return active === '@tensorflow/tfjs-node';
}

/** What this file reads of the package: its versions (ESM's view of a CommonJS module has them twice). */
interface NodeModule {
  version?: Record<string, string>;
  default?: { version?: Record<string, string> };
}

interface NodeBackend {
  binding?: { TF_Version?: string };
}

const importOptional = (specifier: string): Promise<unknown> => import(specifier);
const requireHere = createRequire(import.meta.url);

/**
 * Our own TensorFlow ops (scripts/tensorflow-ops.cc: SbertAttention, SbertLayerNorm), built beside the preload
 * helper and loaded after TensorFlow's libraries (they register through its C API); not with SBERT_TF_KERNELS=tfjs.
 */
const OPS_LIBRARY = 'sbert-ops.so';

/** What TensorFlow ≥ 2.16 prints while its libraries load (absl INFO lines, whatever TF_CPP_MIN_LOG_LEVEL says). */
const LOAD_NOISE =
  /^(WARNING: All log messages before absl::InitializeLog\(\) is called are written to STDERR|I\d{4} .*)$/;

/**
 * Where `npm run build:tensorflow` built `pkg`, its helper (scripts/tensorflow-preload.cc) loads TensorFlow's
 * two libraries, then our ops' library, with stderr captured; the INFO lines are dropped, anything else is passed
 * on. tfjs-node's addon then finds the libraries loaded. Elsewhere (tfjs-node's own libtensorflow) nothing happens
 * here.
 */
function preloadQuietly(pkg: string): void {
  let dir: string;
  try {
    dir = dirname(requireHere.resolve(`${pkg}/package.json`));
  } catch {
    return; // not installed: the import says so
  }
  const helper = join(dir, 'deps', 'sbert-preload.node');
  if (!existsSync(helper)) return;
  const lib = join(dir, 'deps', 'lib');
  const capture = join(tmpdir(), `sbert-tensorflow-load-${process.pid}-${threadId}.log`);
  let error: string | undefined;
  try {
    const { load, loadOptional } = requireHere(helper) as {
      load(libraries: string[], capture: string): string | undefined;
      loadOptional?(library: string): string | undefined;
    };
    error = load([join(lib, 'libtensorflow_framework.so.2'), join(lib, 'libtensorflow_cc.so.2')], capture);
    const ops = join(dir, 'deps', OPS_LIBRARY);
    if (!error && loadOptional && existsSync(ops) && tensorflowKernels() === 'native') {
      // Optional: a library that does not load leaves TensorFlow's ops to run (the start-up check finds ours absent).
      const why = loadOptional(ops);
      if (why && isMainThread)
        process.stderr.write(
          `sbert: ${ops} did not load (${firstLine(why)}); TensorFlow's ops run instead (${BUILD_HINT})\n`,
        );
    }
  } finally {
    const kept = (existsSync(capture) ? readFileSync(capture, 'utf8') : '')
      .split('\n')
      .filter((l) => l && !LOAD_NOISE.test(l));
    rmSync(capture, { force: true });
    if (kept.length) process.stderr.write(`${kept.join('\n')}\n`);
  }
  if (error) throw new Error(error);
}

function firstLine(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  return (msg.split('\n')[0] ?? msg).slice(0, 200);
}

/** Why `pkg` did not load, in a few words that say what to do. */
export function whyNotLoaded(pkg: string, e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  // Only the package itself missing means "not installed"; a missing dependency of it is a broken install.
  if (code === 'ERR_MODULE_NOT_FOUND' && msg.includes(`'${pkg}'`)) return 'not installed';
  if (/native addon module \(tfjs_binding\.node\) can not be found/.test(msg))
    return `installed, its native addon not built (${BUILD_HINT})`;
  if (/libtensorflow\S*: cannot open shared object file/.test(msg))
    return `its libtensorflow is missing (${BUILD_HINT}): ${firstLine(e)}`;
  return firstLine(e);
}

/**
 * Loads tfjs-node(-gpu) and activates its backend; → a report such as
 * `@tensorflow/tfjs-node 4.22.0, libtensorflow 2.21.0; MatMul for 2-D products`.
 * Throws BackendUnavailable saying how to install or build it.
 */
export async function setupTensorflow(activate: (name: string) => Promise<void>): Promise<string> {
  tensorflowKernels(); // a bad SBERT_TF_KERNELS (or _ISA) fails here, before anything loads
  tensorflowKernelsIsa();
  // TensorFlow's INFO lines (CPU features, thread pools) are not output of ours; set TF_CPP_MIN_LOG_LEVEL=0 to see them.
  process.env.TF_CPP_MIN_LOG_LEVEL ??= '1';
  // With TensorFlow's automatic oneDNN rewrites on, eager mode asks every oneDNN op for a kernel label that
  // _MklLayerNorm and _MklFusedBatchMatMulV2 lack; off, our kernels call oneDNN's ops by name (matmuls included).
  if (tensorflowKernels() === 'native') process.env.TF_ENABLE_ONEDNN_OPTS ??= '0';
  const tried: string[] = [];
  for (const pkg of TENSORFLOW_PACKAGES) {
    let mod: NodeModule;
    try {
      preloadQuietly(pkg);
      mod = (await importOptional(pkg)) as typeof mod;
    } catch (e) {
      tried.push(`${pkg}: ${whyNotLoaded(pkg, e)}`);
      continue;
    }
    try {
      await activate('tensorflow');
    } catch (e) {
      tried.push(`${pkg}: ${e instanceof BackendUnavailable ? e.message : firstLine(e)}`);
      continue;
    }
    const nodeVersion = mod.version?.['tfjs-node'] ?? mod.default?.version?.['tfjs-node'];
    const libVersion = (tf.backend() as unknown as NodeBackend).binding?.TF_Version ?? 'of unknown version';
    const threads = process.env.TF_NUM_INTRAOP_THREADS;
    const kernels = installTensorflowKernels();
    active = pkg;
    const name = nodeVersion ? `${pkg} ${nodeVersion}` : pkg;
    return `${name}, libtensorflow ${libVersion}${threads ? `, TF_NUM_INTRAOP_THREADS=${threads}` : ''}; ${kernels}`;
  }
  const none = tried.every((t) => t.endsWith(': not installed'));
  const unbuilt = tried.some((t) => t.includes('native addon not built'));
  throw new BackendUnavailable(
    none
      ? `backend tensorflow needs @tensorflow/tfjs-node: npm install @tensorflow/tfjs-node (its install script downloads ` +
          `libtensorflow), or ${BUILD_HINT} to build it against a TensorFlow wheel from pip; with CUDA, @tensorflow/tfjs-node-gpu ` +
          `(${tried.join('; ')})`
      : `backend tensorflow: ${tried.join('; ')}`,
    none ? 'tfjs-node not installed' : unbuilt ? `tfjs-node addon not built; ${BUILD_HINT}` : tried.join('; '),
  );
}
