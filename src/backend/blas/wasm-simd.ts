// Our SIMD kernels (kernels.wat) instantiated over tfjs-backend-wasm's own memory, once per heap: they read and
// write tensors where tfjs keeps them. Absent (undefined) where that memory cannot be imported (a shared memory
// of the multithreaded build); callers then use their JavaScript loops.
import { KERNELS_WASM_BASE64 } from './kernels-wasm.js';
import type { WasmBackend } from './wasm-heap.js';

export interface SimdKernels {
  /** In place on n4·4 floats from byte offset `ptr`: exact GELU. */
  gelu(ptr: number, n4: number): void;
  /** [n0, n1, n2, d4·4] at byte offset `src` → [n0, n2, n1, d4·4] at `dst` (not overlapping). */
  swap_middle_axes(src: number, dst: number, n0: number, n1: number, n2: number, d4: number): void;
  /**
   * In place on `rows` rows of n4·4 floats at byte offset `s`: softmax(row + mask), mask being n4·4 floats at byte
   * offset `mask` (−∞ in the lanes past a row's true length).
   */
  softmax_rows(s: number, mask: number, rows: number, n4: number): void;
  /**
   * `rows` rows of h4·4 floats: out = LayerNorm(x + res) (res 0: none) with weight w, bias b, and the sum x + res
   * into `sum` (0: not kept); all byte offsets.
   */
  layer_norm(
    x: number,
    res: number,
    w: number,
    b: number,
    out: number,
    sum: number,
    rows: number,
    h4: number,
    eps: number,
  ): void;
}

let compiled: WebAssembly.Module | undefined;
const instances = new WeakMap<WebAssembly.Memory, SimdKernels>();

export function simdKernels(backend: WasmBackend): SimdKernels | undefined {
  const memory = backend.wasm.asm?.memory;
  if (!(memory instanceof WebAssembly.Memory) || !(memory.buffer instanceof ArrayBuffer)) return undefined;
  let k = instances.get(memory);
  if (!k) {
    compiled ??= new WebAssembly.Module(Buffer.from(KERNELS_WASM_BASE64, 'base64'));
    k = new WebAssembly.Instance(compiled, { env: { memory } }).exports as unknown as SimdKernels;
    instances.set(memory, k);
  }
  return k;
}
