// The webgpu settings our kernels read, parsed once per process: SBERT_WEBGPU_MATMUL (which matmul the Linear
// layers run: measured `auto`, or forced `tfjs` / `tiled`; `tfjs` also keeps tfjs's kernels everywhere else) and
// SBERT_WEBGPU_TILE (the tiled matmul's output tile).
import * as tf from '@tensorflow/tfjs-core';
import { UsageError } from '../../errors.js';
import { LINEAR_TILES, type LinearTile } from './linear-wgsl.js';

export type WebgpuMatmul = 'auto' | 'tfjs' | 'tiled';
export const WEBGPU_MATMULS: readonly WebgpuMatmul[] = ['auto', 'tfjs', 'tiled'];

let setting: WebgpuMatmul | undefined;
let tileSetting: LinearTile | 'auto' | undefined;

/** Environment variable `name`'s value `v`, which must be one of `choices` (unset or empty: the first, `auto`). */
function envChoice<T extends string>(name: string, v: string | undefined, choices: readonly T[]): T {
  if (v === undefined || v === '') return choices[0]!;
  if (!(choices as readonly string[]).includes(v))
    throw new UsageError(`${name}="${v}" is not one of ${choices.join(', ')}`);
  return v as T;
}

/** The setting: SBERT_WEBGPU_MATMUL, else `auto` (or what setWebgpuMatmul chose). */
export function webgpuMatmul(): WebgpuMatmul {
  return (setting ??= envChoice('SBERT_WEBGPU_MATMUL', process.env.SBERT_WEBGPU_MATMUL, WEBGPU_MATMULS));
}

export function setWebgpuMatmul(m: WebgpuMatmul): void {
  if (!WEBGPU_MATMULS.includes(m))
    throw new UsageError(`unknown webgpu matmul "${m}" (choose from ${WEBGPU_MATMULS.join(', ')})`);
  setting = m;
}

/** Our WGSL programs may run: the webgpu backend is active and SBERT_WEBGPU_MATMUL is not `tfjs`. */
export function ownKernelsAllowed(): boolean {
  return tf.getBackend() === 'webgpu' && webgpuMatmul() !== 'tfjs';
}

/** The tiled Linear's output tile: SBERT_WEBGPU_TILE, else `auto` (`autoTile` per product). */
export function linearTile(): LinearTile | 'auto' {
  return (tileSetting ??= envChoice('SBERT_WEBGPU_TILE', process.env.SBERT_WEBGPU_TILE, [
    'auto',
    ...LINEAR_TILES,
  ] as const));
}

/**
 * Dispatches tfjs-webgpu records before it submits them to the GPU queue (its WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE,
 * 15 by default). Measured on an H200 (docs/gpu.md): the GPU idles while the host records, so early, small
 * submits win: batch 128 at 4 → 6 576 sentences/s, 15 → 5 433, 64 → 3 071; 1 or 2 lose again to the submits' cost.
 */
export const WEBGPU_SUBMIT_BATCH = 4;
/** tfjs-webgpu's flag for it. */
export const WEBGPU_SUBMIT_FLAG = 'WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE';

/**
 * Sets tfjs-webgpu's submit batch (WEBGPU_SUBMIT_BATCH); called each time the webgpu backend starts, so a program
 * that wants its own sets the flag after `setupBackend`.
 */
export function applyWebgpuFlags(): void {
  tf.env().set(WEBGPU_SUBMIT_FLAG, WEBGPU_SUBMIT_BATCH);
}
