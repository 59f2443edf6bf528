// The `tensorflow` backend: @tensorflow/tfjs-node-gpu, else @tensorflow/tfjs-node, each TensorFlow's C API
// (libtensorflow) behind an N-API addon. Their install script downloads libtensorflow 2.9.1 from Google's
// storage; where that cannot run, `npm run build:tensorflow` (scripts/build-tensorflow.mjs) builds the addon
// against the C API of a TensorFlow Python wheel. Either way, one process runs each op on all cores
// (TensorFlow's intra-op pool), so the encoder does not add worker threads on this backend.
import * as tf from '@tensorflow/tfjs-core';
import { installTensorflowKernels, tensorflowKernels } from './tensorflow-kernels.js';
import { BackendUnavailable } from './unavailable.js';

export const TENSORFLOW_PACKAGES = ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node'] as const;

const BUILD_HINT = 'npm run build:tensorflow';

/** What this file reads of the package: its versions (ESM's view of a CommonJS module has them twice). */
interface NodeModule {
  version?: Record<string, string>;
  default?: { version?: Record<string, string> };
}

interface NodeBackend {
  binding?: { TF_Version?: string };
}

const importOptional = (specifier: string): Promise<unknown> => import(specifier);

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
  if (/native addon module \(tfjs_binding\.node\) can not be found/.test(msg)) return `installed, its native addon not built (${BUILD_HINT})`;
  if (/libtensorflow\S*: cannot open shared object file/.test(msg)) return `its libtensorflow is missing (${BUILD_HINT}): ${firstLine(e)}`;
  return firstLine(e);
}

/**
 * Loads tfjs-node(-gpu) and activates its backend; → a report such as
 * `@tensorflow/tfjs-node 4.22.0, libtensorflow 2.21.0 (TensorFlow's C API), 2 intra-op threads`.
 * Throws BackendUnavailable saying how to install or build it.
 */
export async function setupTensorflow(activate: (name: string) => Promise<void>): Promise<string> {
  tensorflowKernels(); // a bad SBERT_TF_KERNELS fails here, before anything loads
  const tried: string[] = [];
  for (const pkg of TENSORFLOW_PACKAGES) {
    let mod: NodeModule;
    try {
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
