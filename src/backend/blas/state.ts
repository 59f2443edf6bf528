// Which BLAS the wasm backend's kernels run on now (set by wasm-kernels.ts), and how often they have.
import type { Cblas } from './cblas.js';

let active: Cblas | undefined;
let calls = 0;

/** The BLAS under the wasm backend now, if any. */
export function activeBlas(): Cblas | undefined {
  return active;
}

export function setActiveBlas(lib: Cblas | undefined): void {
  active = lib;
}

/** Products run on the BLAS since the process started (tests use it to see that the kernels are ours). */
export function blasMatmulCalls(): number {
  return calls;
}

export function countBlasCall(): void {
  calls++;
}
