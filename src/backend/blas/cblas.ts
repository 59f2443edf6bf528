// cblas_sgemm from a shared library found at run time, called through koffi (an FFI with prebuilt binaries
// in its npm package: no compiler needed). Float32Array arguments reach C as pointers to their own bytes, so
// views of the wasm heap are multiplied in place. A library is used only after a small product in each
// transpose case has come out right (a wrong or ILP64 build is refused, not trusted).
import { basename } from 'node:path';
import { unloadablePath } from './find.js';

/** A library that cannot serve as our BLAS; the message is one line, naming the file and the problem. */
export class BlasLoadError extends Error {
  override name = 'BlasLoadError';
}

/** The part of koffi used here (koffi is an optional dependency, imported at run time). */
type KoffiFunction = (...args: unknown[]) => unknown;
interface KoffiLibrary {
  func(definition: string): KoffiFunction;
}
export interface Koffi {
  load(path: string): KoffiLibrary;
  /** `count` values of `type` at a C pointer. */
  decode(ptr: unknown, type: string, count: number): unknown;
}

export interface Cblas {
  /** What the report calls it: `OpenBLAS 0.3.21 SkylakeX`, `Intel MKL 2024.1`, `Accelerate`, or the file name. */
  readonly name: string;
  /** The path or name it was loaded by. */
  readonly path: string;
  /**
   * Row-major C = alpha · op(A) · op(B) + beta · C with op(A) [m, k], op(B) [k, n], as BLAS's sgemm.
   * The arrays are views starting at each matrix's first element.
   */
  sgemm(
    transA: boolean,
    transB: boolean,
    m: number,
    n: number,
    k: number,
    alpha: number,
    a: Float32Array,
    lda: number,
    b: Float32Array,
    ldb: number,
    beta: number,
    c: Float32Array,
    ldc: number,
  ): void;
  /** The library's worker threads, where it says (OpenBLAS, MKL, BLIS); undefined elsewhere (Accelerate). */
  threads(): number | undefined;
  /** Sets them, where the library lets us; false where it does not. */
  setThreads(n: number): boolean;
}

const ROW_MAJOR = 101;
const NO_TRANS = 111;
const TRANS = 112;

const short = (e: unknown): string => {
  const msg = e instanceof Error ? e.message : String(e);
  return (msg.split('\n')[0] ?? msg).slice(0, 160);
};

/** A threads setter that says whether the library had one. */
const setter =
  (set: KoffiFunction | undefined) =>
  (n: number): boolean => {
    set?.(n);
    return set !== undefined;
  };

/**
 * Libraries that loaded but were refused stay loaded: closing one whose initialisation started threads (a
 * BLAS) can crash the process, and koffi would close a handle it collects.
 */
const retained: KoffiLibrary[] = [];

/** Binds `definition` if the library exports it, else undefined. */
function optional(lib: KoffiLibrary, definition: string): KoffiFunction | undefined {
  try {
    return lib.func(definition);
  } catch {
    return undefined;
  }
}

function describe(
  lib: KoffiLibrary,
  path: string,
): { name: string; threads(): number | undefined; setThreads(n: number): boolean } {
  const openblasConfig = optional(lib, 'const char *openblas_get_config(void)');
  if (openblasConfig) {
    const get = optional(lib, 'int openblas_get_num_threads(void)');
    const set = optional(lib, 'void openblas_set_num_threads(int)');
    // "OpenBLAS 0.3.21 NO_LAPACKE DYNAMIC_ARCH NO_AFFINITY SkylakeX MAX_THREADS=64": version and the core's kernels.
    const words = String(openblasConfig() ?? 'OpenBLAS').split(/\s+/);
    const core = words.slice(2).find((w) => /^[A-Z][a-z][A-Za-z0-9]*$/.test(w)); // SkylakeX, Haswell, NeoverseN1
    return {
      name: [words[0], words[1], core].filter(Boolean).join(' '),
      threads: () => (get ? Number(get()) : undefined),
      setThreads: setter(set),
    };
  }
  const mklVersion = optional(lib, 'void MKL_Get_Version_String(_Out_ uint8_t *buf, int len)');
  if (mklVersion) {
    const buf = new Uint8Array(198);
    mklVersion(buf, buf.length);
    const text = new TextDecoder().decode(buf.subarray(0, Math.max(0, buf.indexOf(0)))).trim();
    const version = /Version (\S+)/.exec(text)?.[1];
    const get = optional(lib, 'int MKL_Get_Max_Threads(void)');
    const set = optional(lib, 'void MKL_Set_Num_Threads(int)');
    return {
      name: `Intel MKL${version ? ` ${version}` : ''}`,
      threads: () => (get ? Number(get()) : undefined),
      setThreads: setter(set),
    };
  }
  const bliGet = optional(lib, 'int64_t bli_thread_get_num_threads(void)');
  if (bliGet) {
    const set = optional(lib, 'void bli_thread_set_num_threads(int64_t)');
    // -1 until set (BLIS then reads BLIS_NUM_THREADS or runs one thread)
    const threads = () => (Number(bliGet()) >= 1 ? Number(bliGet()) : undefined);
    return { name: 'BLIS', threads, setThreads: setter(set) };
  }
  const name = /Accelerate/.test(path) ? 'Accelerate' : basename(path);
  return { name, threads: () => undefined, setThreads: () => false };
}

/** Largest |C − reference| over the four transpose cases, on a product with padded leading dimensions. */
export function sgemmSelfCheck(sgemm: Cblas['sgemm']): number {
  const [m, n, k] = [5, 7, 3];
  const pad = 2;
  let worst = 0;
  for (const transA of [false, true]) {
    for (const transB of [false, true]) {
      const [ar, ac] = transA ? [k, m] : [m, k];
      const [br, bc] = transB ? [n, k] : [k, n];
      const lda = ac + pad;
      const ldb = bc + pad;
      const ldc = n + pad;
      const a = Float32Array.from({ length: ar * lda }, (_, i) => ((i * 7) % 11) - 5);
      const b = Float32Array.from({ length: br * ldb }, (_, i) => ((i * 5) % 13) - 6);
      const c = new Float32Array(m * ldc).fill(1);
      sgemm(transA, transB, m, n, k, 0.5, a, lda, b, ldb, 2, c, ldc);
      for (let i = 0; i < m; i++) {
        for (let j = 0; j < ldc; j++) {
          let want = 1; // the padding columns must stay untouched
          if (j < n) {
            let s = 0;
            for (let p = 0; p < k; p++)
              s += a[transA ? p * lda + i : i * lda + p]! * b[transB ? j * ldb + p : p * ldb + j]!;
            want = 0.5 * s + 2;
          }
          worst = Math.max(worst, Number.isNaN(c[i * ldc + j]!) ? Infinity : Math.abs(c[i * ldc + j]! - want));
        }
      }
    }
  }
  return worst;
}

/**
 * Runs `load` with OMP_WAIT_POLICY=passive: an OpenMP runtime (oneDNN's, an OpenMP OpenBLAS) reads it once, as it
 * is loaded. Its other policies keep idle threads spinning after each product: on a busy machine they take the
 * cores their own siblings need (a forward on two threads ran far slower, docs/blas.md), and when Node exits
 * while they spin, libgomp's teardown crashes the process (SIGSEGV after the last line of output). So passive
 * even where the environment says otherwise; the variable is put back after the load, so processes started
 * later (a Python anchor) inherit the user's environment, not ours.
 */
function withPassiveOpenmp<T>(load: () => T): T {
  const saved = process.env.OMP_WAIT_POLICY;
  process.env.OMP_WAIT_POLICY = 'passive';
  try {
    return load();
  } finally {
    if (saved === undefined) delete process.env.OMP_WAIT_POLICY;
    else process.env.OMP_WAIT_POLICY = saved;
  }
}

/**
 * Loads `path` (a file, or a name the dynamic loader searches) and binds `cblas_sgemm`. Throws BlasLoadError
 * when it is not a loadable library, lacks the symbol, or computes a wrong product.
 */
export function loadCblas(koffi: Koffi, path: string): Cblas {
  const bad = unloadablePath(path);
  if (bad) throw new BlasLoadError(`${path}: ${bad}`);
  let lib: KoffiLibrary;
  try {
    lib = withPassiveOpenmp(() => koffi.load(path));
  } catch (e) {
    // dlopen's message already names the file: "libx.so: cannot open shared object file: No such file ..."
    const why = short(e).replace(/^Failed to load shared library:\s*/i, '');
    throw new BlasLoadError(why.includes(path) ? why : `${path}: ${why}`);
  }
  retained.push(lib);
  const fn = optional(
    lib,
    'void cblas_sgemm(int, int, int, int, int, int, float, const float *, int, const float *, int, float, float *, int)',
  );
  const onednn = fn ? undefined : bindOnednn(koffi, lib, path);
  if (!fn && !onednn) throw new BlasLoadError(`${path}: no cblas_sgemm in this library (not a CBLAS, not oneDNN)`);
  const sgemm: Cblas['sgemm'] = fn
    ? (tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc) => {
        fn(ROW_MAJOR, tA ? TRANS : NO_TRANS, tB ? TRANS : NO_TRANS, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
      }
    : onednn!.sgemm;
  let err: number;
  try {
    err = sgemmSelfCheck(sgemm);
  } catch (e) {
    throw new BlasLoadError(`${path}: its sgemm failed on a small product (${short(e)}); not used`);
  }
  if (!(err <= 1e-5)) {
    const what = fn ? 'cblas_sgemm' : 'dnnl_sgemm';
    throw new BlasLoadError(`${path}: ${what} computed a wrong product (off by ${err}); not used`);
  }
  return { path, sgemm, ...(onednn ?? describe(lib, path)) };
}

type Described = ReturnType<typeof describe>;

/**
 * oneDNN (libdnnl, the library TensorFlow and PyTorch run their CPU matmuls on) has no CBLAS, but its
 * `dnnl_sgemm` is BLAS's sgemm, row-major, with 64-bit sizes and 'N'/'T' for the transposes; a status comes
 * back (0: done). Its threads are its runtime's: OpenMP in the Debian/Ubuntu and conda builds.
 */
function bindOnednn(
  koffi: Koffi,
  lib: KoffiLibrary,
  path: string,
): (Described & { sgemm: Cblas['sgemm'] }) | undefined {
  const fn = optional(
    lib,
    'int dnnl_sgemm(char, char, int64_t, int64_t, int64_t, float, const float *, int64_t, const float *, int64_t, float, float *, int64_t)',
  );
  if (!fn) return undefined;
  const [N, T] = ['N'.charCodeAt(0), 'T'.charCodeAt(0)];
  const sgemm: Cblas['sgemm'] = (tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc) => {
    const status = fn(tA ? T : N, tB ? T : N, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    if (status !== 0) throw new Error(`${path}: dnnl_sgemm failed (status ${String(status)}) on ${m}×${k}·${k}×${n}`);
  };
  return { name: onednnName(koffi, lib), sgemm, ...openmpThreads(koffi) };
}

/** `oneDNN 2.6.3` from dnnl_version(), which returns a pointer to { int major, minor, patch; ... }. */
function onednnName(koffi: Koffi, lib: KoffiLibrary): string {
  const version = optional(lib, 'const int *dnnl_version(void)');
  const v = version?.() as unknown;
  if (!v) return 'oneDNN';
  try {
    const [major, minor, patch] = koffi.decode(v, 'int', 3) as number[];
    return `oneDNN ${major}.${minor}.${patch}`;
  } catch {
    return 'oneDNN';
  }
}

/** OpenMP's thread count (oneDNN's runtime), through the libgomp it is linked against, where it is one. */
function openmpThreads(koffi: Koffi): { threads(): number | undefined; setThreads(n: number): boolean } {
  let omp: KoffiLibrary | undefined;
  try {
    omp = koffi.load(process.platform === 'darwin' ? 'libomp.dylib' : 'libgomp.so.1');
    retained.push(omp);
  } catch {
    return { threads: () => undefined, setThreads: () => false };
  }
  const get = optional(omp, 'int omp_get_max_threads(void)');
  const set = optional(omp, 'void omp_set_num_threads(int)');
  return { threads: () => (get ? Number(get()) : undefined), setThreads: setter(set) };
}
