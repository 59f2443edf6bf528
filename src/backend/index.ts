// Picks and initialises the tfjs backend. Optional backends are loaded with dynamic import() of a
// variable specifier, so neither tsc nor the bundler needs them present.
//   tensorflow: @tensorflow/tfjs-node-gpu, then @tensorflow/tfjs-node (libtensorflow, multi-threaded)
//   webgpu:     @tensorflow/tfjs-backend-webgpu over the `webgpu` package (Dawn), when an adapter exists
//   wasm:       @tensorflow/tfjs-backend-wasm (XNNPACK, SIMD; the default here)
//   cpu:        @tensorflow/tfjs-backend-cpu (plain JS; slow, a reference)
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { UsageError } from '../errors.js';
import { layerNormComposite } from '../ops/layer-norm.js';
import { setupWasmBlas } from './blas/index.js';
import { registerGradients } from './gradients.js';
import { BACKEND_NAMES, type BackendName } from './names.js';
import { tensorflowKernels, tensorflowKernelsIsa } from './tensorflow-kernels.js';
import { setupTensorflow } from './tensorflow.js';
import { BackendUnavailable } from './unavailable.js';
import { shareWasmIdentity } from './wasm-identity.js';
import { checkFusedAttention } from './webgpu/attention.js';
import { checkMaskValues } from './webgpu/mask.js';
import { type DeviceCheck, passed } from './webgpu/device-check.js';
import { checkFusedLayerNorm } from './webgpu/layer-norm.js';
import { resolveWebgpuMatmul } from './webgpu/matmul-choice.js';
import { applyWebgpuFlags, linearTile, webgpuMatmul } from './webgpu/settings.js';

export { BACKEND_NAMES, BackendUnavailable, type BackendName };
export { tensorflowOnCpu, tensorflowWorkersSafe } from './tensorflow.js';

export interface BackendChoice {
  /** The tfjs backend now active: `tensorflow`, `webgpu`, `wasm` or `cpu`. */
  name: string;
  /** Why it was chosen (for `auto`: why each better one was not). */
  reason: string;
}

const importOptional = (specifier: string): Promise<unknown> => import(specifier);

function short(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  return (msg.split('\n')[0] ?? msg).slice(0, 200);
}

async function activate(name: string): Promise<void> {
  let ok: boolean;
  try {
    ok = await tf.setBackend(name);
  } catch (e) {
    throw new BackendUnavailable(`backend ${name} failed to initialise: ${short(e)}`);
  }
  if (!ok) throw new BackendUnavailable(`backend ${name} failed to initialise`);
  await tf.ready();
}

const tensorflow = (): Promise<string> => setupTensorflow(activate);

interface Adapter {
  info?: { vendor?: string; architecture?: string; description?: string };
  isFallbackAdapter?: boolean;
}
interface Gpu {
  requestAdapter(): Promise<Adapter | null>;
}
interface DawnModule {
  create(flags: string[]): Gpu;
  globals: Record<string, unknown>;
}

/** The adapter in a few words, and whether it is a CPU implementation (Mesa's lavapipe, SwiftShader, WARP). */
export function describeAdapter(a: Adapter): { name: string; software: boolean } {
  const info = a.info ?? {};
  const name = (info.description || [info.vendor, info.architecture].filter(Boolean).join(' ') || 'unnamed')
    .split(' (')[0]!
    .trim();
  const software =
    a.isFallbackAdapter === true ||
    info.architecture === 'software' ||
    /llvmpipe|lavapipe|swiftshader|microsoft basic render|warp/i.test(`${info.vendor ?? ''} ${info.description ?? ''}`);
  return { name, software };
}

/**
 * Dawn reaches GPUs on Linux through the Vulkan loader; without it there is no adapter, and creating
 * a Dawn instance would only print a native warning to stderr. So look for the loader first.
 */
function vulkanLoaderPresent(): boolean {
  if (process.platform !== 'linux') return true;
  const dirs = [
    ...(process.env.LD_LIBRARY_PATH ?? '').split(':').filter(Boolean),
    '/usr/lib/x86_64-linux-gnu',
    '/usr/lib/aarch64-linux-gnu',
    '/lib/x86_64-linux-gnu',
    '/lib/aarch64-linux-gnu',
    '/usr/lib64',
    '/usr/lib',
    '/lib64',
    '/lib',
    '/usr/local/lib',
  ];
  return dirs.some((d) => existsSync(join(d, 'libvulkan.so.1')));
}

let dawnGpu: Gpu | undefined;

/**
 * Flags for Dawn's Node binding (`webgpu`'s create()), from SBERT_WEBGPU_DAWN_FLAGS, space-separated: e.g.
 * `enable-dawn-features=skip_validation,disable_robustness` (Dawn's toggles, for measuring what validation and
 * bounds checks cost; docs/gpu.md). Unset: none.
 */
export function dawnFlags(): string[] {
  return (process.env.SBERT_WEBGPU_DAWN_FLAGS ?? '').split(/\s+/).filter(Boolean);
}

/**
 * `auto` passes `auto = true`: a software adapter then counts as absent, since it runs far slower than wasm.
 * Asked for by name, a software adapter is used (that is how the webgpu paths are tested without a GPU).
 */
async function webgpu(auto = false): Promise<string> {
  webgpuMatmul(); // a bad SBERT_WEBGPU_MATMUL or SBERT_WEBGPU_TILE fails here, before any GPU work
  linearTile();
  let dawn: DawnModule;
  try {
    dawn = (await importOptional('webgpu')) as DawnModule;
  } catch {
    throw new BackendUnavailable(
      'backend webgpu needs the optional packages webgpu and @tensorflow/tfjs-backend-webgpu (npm install webgpu @tensorflow/tfjs-backend-webgpu)',
    );
  }
  const g = globalThis as { navigator?: { gpu?: unknown } };
  if (!g.navigator?.gpu && !vulkanLoaderPresent()) {
    throw new BackendUnavailable('backend webgpu: no WebGPU adapter (no Vulkan loader libvulkan.so.1 on this machine)');
  }
  const gpu = g.navigator?.gpu ?? (dawnGpu ??= dawn.create(dawnFlags()));
  const adapter = await (gpu as Gpu).requestAdapter();
  if (!adapter)
    throw new BackendUnavailable('backend webgpu: no WebGPU adapter found (Dawn found no Vulkan/Metal/D3D12 GPU)');
  const { name, software } = describeAdapter(adapter);
  if (software && auto) {
    throw new BackendUnavailable(
      `backend webgpu: only a software adapter (${name}), slower than wasm; pass --backend webgpu to use it anyway`,
      `software adapter ${name} only`,
    );
  }
  // tfjs-backend-webgpu looks for navigator.gpu when it is imported.
  if (!g.navigator?.gpu) {
    for (const [k, v] of Object.entries(dawn.globals)) if (!(k in globalThis)) Object.assign(globalThis, { [k]: v });
    Object.defineProperty(globalThis, 'navigator', {
      value: { ...g.navigator, gpu },
      configurable: true,
      writable: true,
    });
  }
  try {
    await importOptional('@tensorflow/tfjs-backend-webgpu');
  } catch {
    throw new BackendUnavailable(
      'backend webgpu needs @tensorflow/tfjs-backend-webgpu (npm install @tensorflow/tfjs-backend-webgpu)',
    );
  }
  await activate('webgpu');
  applyWebgpuFlags();
  return `WebGPU adapter ${name}${software ? ' (software, slow)' : ''}; ${await resolveWebgpuMatmul()}${await resolveFusedKernels()}`;
}

/** What the backend report says about the fused LayerNorm and attention (nothing when tfjs's kernels are forced). */
async function resolveFusedKernels(): Promise<string> {
  if (webgpuMatmul() === 'tfjs') return '';
  const say = (what: string, check: DeviceCheck, against: string): string => {
    if (check.error) return `; ${what} as tfjs ops (the fused program failed on this device: ${check.error})`;
    const d = check.diff.toExponential(1);
    return passed(check)
      ? `; fused ${what} (agrees with ${against} to ${d})`
      : `; ${what} as tfjs ops (the fused program disagreed by ${d} on this device)`;
  };
  return (
    say('LayerNorm', await checkFusedLayerNorm(layerNormComposite), "tfjs's ops") +
    say('attention', await checkFusedAttention(), 'a float64 attention') +
    say('mask', await checkMaskValues(), 'its int32 values')
  );
}

/**
 * tfjs-wasm's Emscripten glue adds process-wide 'uncaughtException' and 'unhandledRejection' listeners that
 * rethrow from inside tf-backend-wasm.node.js, so any later error of the program using us would surface as
 * that file's, with exit code 7. The listeners added while the backend starts are removed again.
 */
async function withoutProcessHandlers<T>(start: () => Promise<T>): Promise<T> {
  const exceptions = new Set(process.listeners('uncaughtException'));
  const rejections = new Set(process.listeners('unhandledRejection'));
  try {
    return await start();
  } finally {
    for (const l of process.listeners('uncaughtException'))
      if (!exceptions.has(l)) process.removeListener('uncaughtException', l);
    for (const l of process.listeners('unhandledRejection'))
      if (!rejections.has(l)) process.removeListener('unhandledRejection', l);
  }
}

async function wasm(): Promise<string> {
  await import('@tensorflow/tfjs-backend-wasm');
  shareWasmIdentity();
  await withoutProcessHandlers(() => activate('wasm'));
  const simd = tf.env().getBool('WASM_HAS_SIMD_SUPPORT');
  const threads = tf.env().getBool('WASM_HAS_MULTITHREAD_SUPPORT');
  return `WebAssembly (XNNPACK${simd ? ', SIMD' : ''}${threads ? ', threads' : ', 1 thread'}); ${await setupWasmBlas()}`;
}

async function cpu(): Promise<string> {
  await import('@tensorflow/tfjs-backend-cpu');
  await activate('cpu');
  // Its one-time "install tfjs-node" banner would land in CLI output; the choice is reported instead.
  (tf.backend() as unknown as { firstUse?: boolean }).firstUse = false;
  return 'plain JavaScript kernels';
}

const SETUP: Record<Exclude<BackendName, 'auto'>, (auto?: boolean) => Promise<string>> = {
  tensorflow,
  webgpu,
  wasm,
  cpu,
};

/** Activates the backend `name` (for `auto`, the best one present: tensorflow → webgpu → wasm → cpu). */
export async function setupBackend(name: BackendName = 'auto'): Promise<BackendChoice> {
  try {
    return await chooseBackend(name);
  } finally {
    // tfjs-node imports the @tensorflow/tfjs union package, which registers tfjs's own gradients over ours.
    registerGradients();
  }
}

async function chooseBackend(name: BackendName): Promise<BackendChoice> {
  if (!BACKEND_NAMES.includes(name))
    throw new UsageError(`unknown backend "${name}" (choose from ${BACKEND_NAMES.join(', ')})`);
  // A bad SBERT_* setting is wrong on any machine: say so even when `auto` stops before that setting's backend.
  webgpuMatmul();
  linearTile();
  tensorflowKernels();
  tensorflowKernelsIsa();
  if (name !== 'auto') return { name, reason: await SETUP[name]() };
  const skipped: string[] = [];
  for (const candidate of ['tensorflow', 'webgpu', 'wasm', 'cpu'] as const) {
    try {
      const why = await SETUP[candidate](true);
      return { name: candidate, reason: `auto: ${why}${skipped.length ? `; ${skipped.join('; ')}` : ''}` };
    } catch (e) {
      if (e instanceof UsageError) throw e; // a setting that is wrong everywhere, not an absent backend
      skipped.push(`${candidate} unavailable (${e instanceof BackendUnavailable ? e.brief : short(e)})`);
    }
  }
  throw new BackendUnavailable(`no tfjs backend could start: ${skipped.join('; ')}`);
}
