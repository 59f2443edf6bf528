// The attention mask's float32 forms as one WGSL program for the webgpu backend: `on` where the int32 mask is
// > 0, else `off` (1/0 for pooling; 0/float32's min for the additive mask BertModel adds to the scores). tfjs
// composes it from ≈ 10 kernels (greater, ones, zeros, where, then sub and mul), each a dispatch's host cost, and
// its int32 → float32 cast only relabels the buffer (src/model/mask.ts), so the int32 values are read here as i32.
//
// Runs where our other programs may (SBERT_WEBGPU_MATMUL not `tfjs`) and only after `checkMaskValues` got the
// exact values back on this device.
import * as tf from '@tensorflow/tfjs-core';
import { type DeviceCheck, passed, withDeviceErrors } from './device-check.js';
import { ownKernelsAllowed } from './settings.js';
import { registerWebgpuKernel, type WebgpuProgram } from './program.js';

export const MASK_KERNEL = 'SbertMaskValues';
const THREADS = 64;
/** Workgroups per dispatch row (WebGPU allows 65 535 per dimension). */
const GROUPS_X = 32768;

function program(shape: number[]): WebgpuProgram {
  const size = shape.reduce((a, b) => a * b, 1);
  const groups = Math.ceil(size / THREADS);
  return {
    outputShape: shape,
    shaderKey: 'sbertMaskValues',
    dispatchLayout: { x: [1], y: [0] }, // not flat: main() takes no index
    dispatch: [Math.min(groups, GROUPS_X), Math.ceil(groups / GROUPS_X), 1],
    variableNames: ['mask'],
    workgroupSize: [THREADS, 1, 1],
    uniforms: 'count : i32, on : f32, off : f32,',
    getUserCode: () => `
      fn main() {
        let i = i32(workgroupId.x + workgroupId.y * numWorkgroups.x) * ${THREADS} + i32(localIndex);
        if (i < uniforms.count) { result[i] = select(uniforms.off, uniforms.on, mask[i] > 0); }
      }
    `,
  };
}

/**
 * int32 mask (any shape; 1 = token, 0 = padding) → float32 of the same shape: `on` where mask > 0, else `off`.
 * Callers check `maskValuesApply` first.
 */
export function maskValues<T extends tf.Tensor>(mask: T, on: number, off: number): T {
  registerWebgpuKernel(MASK_KERNEL, (inputs, attrs) => {
    const m = (inputs as { mask: tf.TensorInfo }).mask;
    return {
      program: program(m.shape),
      inputs: [m],
      uniforms: [
        { type: 'int32', data: [tf.util.sizeFromShape(m.shape)] },
        { type: 'float32', data: [attrs.on as number] },
        { type: 'float32', data: [attrs.off as number] },
      ],
    };
  });
  return tf.engine().runKernel(MASK_KERNEL, { mask }, { on, off } as unknown as tf.NamedAttrMap) as T;
}

let agreement: DeviceCheck | undefined;

/** True when the mask program runs here: webgpu, our kernels allowed, checked on this device. */
export function maskValuesApply(): boolean {
  return ownKernelsAllowed() && passed(agreement);
}

/**
 * Runs the program once per process on a mask of 3 × 37 (int32 values 0, 1 and 2) with float32's min as `off`
 * and enables it only if every value comes back exactly and the device reported no error.
 */
export async function checkMaskValues(): Promise<DeviceCheck> {
  if (agreement) return agreement;
  const values = Int32Array.from({ length: 3 * 37 }, (_, i) => (i * 7) % 3);
  const off = -3.4028234663852886e38;
  const { value: wrong, error } = await withDeviceErrors(async () => {
    const m = tf.tensor2d(values, [3, 37], 'int32');
    try {
      const y = maskValues(m, 1, off);
      try {
        const got = (await y.data()) as Float32Array;
        return values.filter((v, i) => got[i] !== (v > 0 ? 1 : Math.fround(off))).length;
      } finally {
        y.dispose();
      }
    } finally {
      m.dispose();
    }
  });
  agreement = { diff: error || wrong > 0 ? Infinity : 0, error };
  return agreement;
}
