// The wasm backend's matmuls on a system BLAS, when one can be had: SBERT_BLAS=PATH|off, else the usual library
// names (find.ts); koffi, the FFI, is an optional dependency. Whatever happens, the answer is one clause for the
// backend's report line: which BLAS now runs the matmuls, or why XNNPACK still does.
import { availableParallelism } from 'node:os';
import { BlasLoadError, type Cblas, type Koffi, loadCblas } from './cblas.js';
import { blasCandidates, blasSetting } from './find.js';
import { activeBlas } from './state.js';
import { useBlasForWasm } from './wasm-kernels.js';

export { activeBlas, blasMatmulCalls } from './state.js';
export type { Cblas } from './cblas.js';

const importOptional = (specifier: string): Promise<unknown> => import(specifier);

/** Libraries loaded so far, by path: each is loaded and checked once per thread. */
const loaded = new Map<string, Cblas>();

/** dlopen's "not there" (a bare name nowhere on the search path, or a path that does not exist). */
const notFound = (msg: string): boolean => /no such file|not found|image not found|cannot find/i.test(msg);

function installHint(): string {
  if (process.platform === 'darwin') return 'Accelerate should always be there; or brew install openblas';
  if (process.platform === 'win32') return 'put libopenblas.dll on PATH';
  return 'apt-get install libdnnl2 or libopenblas0-pthread, or dnf install onednn or openblas';
}

async function importKoffi(): Promise<Koffi | string> {
  try {
    const m = (await importOptional('koffi')) as { default?: Koffi } & Koffi;
    return m.default ?? m;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ERR_MODULE_NOT_FOUND') return 'the optional package koffi is not installed (npm install koffi)';
    return `koffi failed to load (${e instanceof Error ? (e.message.split('\n')[0] ?? '').slice(0, 120) : String(e)})`;
  }
}

function use(lib: Cblas, threads?: number): string {
  if (threads !== undefined) lib.setThreads(threads);
  useBlasForWasm(lib);
  const t = lib.threads();
  return `matmuls on ${lib.name} (${lib.path}${t === undefined ? '' : `, ${t} thread${t === 1 ? '' : 's'}`})`;
}

export interface WasmBlasOptions {
  /** BLAS threads (a worker of a pool takes its share of the cores); default: the library's own choice. */
  threads?: number;
}

/**
 * Puts the wasm backend's matmuls on a BLAS if one loads, else leaves (or puts back) tfjs-wasm's own, and
 * says which in one clause. Never throws for a missing or broken library: that is the fallback's reason.
 */
export async function setupWasmBlas(opts: WasmBlasOptions = {}): Promise<string> {
  const setting = blasSetting();
  if (setting.kind === 'off') {
    useBlasForWasm(undefined);
    return 'matmuls on XNNPACK (SBERT_BLAS=off)';
  }
  const koffi = await importKoffi();
  if (typeof koffi === 'string') {
    useBlasForWasm(undefined);
    return `matmuls on XNNPACK (no BLAS: ${koffi})`;
  }
  const paths = setting.kind === 'path' ? [setting.path] : blasCandidates();
  const refused: string[] = [];
  for (const path of paths) {
    try {
      let lib = loaded.get(path);
      if (!lib) {
        lib = loadCblas(koffi, path);
        loaded.set(path, lib);
      }
      return use(lib, opts.threads);
    } catch (e) {
      if (!(e instanceof BlasLoadError)) throw e;
      if (setting.kind === 'path' || !notFound(e.message)) refused.push(e.message);
    }
  }
  useBlasForWasm(undefined);
  if (setting.kind === 'path') return `matmuls on XNNPACK (SBERT_BLAS not used: ${refused.join('; ')})`;
  if (refused.length > 0) return `matmuls on XNNPACK (no usable BLAS: ${refused.join('; ')})`;
  return `matmuls on XNNPACK (no BLAS library found: ${installHint()}; or SBERT_BLAS=PATH)`;
}

/** Whether the wasm backend's matmuls run on a BLAS now. */
export function wasmBlasActive(): boolean {
  return activeBlas() !== undefined;
}

/** BLAS threads for each of `workers` processes or threads sharing this machine's cores. */
export function blasThreadsPerWorker(workers: number): number {
  return Math.max(1, Math.floor(availableParallelism() / workers));
}
