// Our WGSL programs as tfjs kernels on the webgpu backend: the part of tfjs-backend-webgpu's program
// interface they fill in (webgpu_program.d.ts), and registration, so tidy / dispose / profiling treat their
// outputs like any tfjs tensor.
import * as tf from '@tensorflow/tfjs-core';

export interface WebgpuProgram {
  outputShape: number[];
  shaderKey: string;
  /** Not flat (a `y`), so tfjs calls `main()` without an index. */
  dispatchLayout: { x: number[]; y: number[] };
  dispatch: [number, number, number];
  variableNames: string[];
  /** Per input: 4 reads it as vec4<f32> (default: outputComponent). */
  variableComponents?: number[];
  outputComponent?: number;
  workgroupSize: [number, number, number];
  /** WGSL members appended to tfjs's uniform struct, in the order of the uniform values passed. */
  uniforms: string;
  getUserCode(): string;
}

export interface WebgpuRun {
  program: WebgpuProgram;
  inputs: tf.TensorInfo[];
  uniforms: { type: 'int32' | 'float32'; data: number[] }[];
}

interface WebgpuBackend {
  runWebGPUProgram(
    p: WebgpuProgram,
    inputs: tf.TensorInfo[],
    dtype: 'float32',
    uniforms: WebgpuRun['uniforms'],
  ): tf.TensorInfo;
}

/**
 * WGSL `fn name(v : f32, t : i32) -> f32`: `op` folded over the `threads` values of a workgroup (thread t
 * gives v) by halving, through the workgroup array `scratch` the program declares, and returned to every
 * thread. Every barrier is in it, so call it in uniform control flow.
 */
export function workgroupReduceWgsl(
  name: string,
  op: (a: string, b: string) => string,
  threads: number,
  scratch: string,
): string {
  return `
      fn ${name}(v : f32, t : i32) -> f32 {
        ${scratch}[t] = v;
        workgroupBarrier();
        for (var s = ${threads / 2}; s > 0; s = s >> 1) {
          if (t < s) { ${scratch}[t] = ${op(`${scratch}[t]`, `${scratch}[t + s]`)}; }
          workgroupBarrier();
        }
        let r = ${scratch}[0];
        workgroupBarrier(); // read by all before the next reduction writes
        return r;
      }`;
}

const registered = new Set<string>();

/** Registers kernel `name` for webgpu once; `plan` turns its inputs and attributes into one program run. */
export function registerWebgpuKernel(
  name: string,
  plan: (inputs: tf.NamedTensorInfoMap, attrs: tf.NamedAttrMap) => WebgpuRun,
): void {
  if (registered.has(name)) return;
  registered.add(name);
  tf.registerKernel({
    kernelName: name,
    backendName: 'webgpu',
    kernelFunc: ({ inputs, backend, attrs }) => {
      const run = plan(inputs, attrs ?? {});
      return (backend as unknown as WebgpuBackend).runWebGPUProgram(run.program, run.inputs, 'float32', run.uniforms);
    },
  });
}
