// Where to look for a matmul library: SBERT_BLAS (a path, or `off`), else the names a package manager installs
// per platform. On Linux and Windows oneDNN comes first: its sgemm (dnnl_sgemm, the GEMM under PyTorch's and
// TensorFlow's CPU matmuls) ran BERT-base's short-batch products faster per core than OpenBLAS (docs/blas.md).
// Then the BLASes, most parallel first (Debian's alternative may point at a serial or OpenMP build; Fedora names
// its pthreads build libopenblasp). The reference BLAS (libblas.so.3 from netlib) is left out on purpose: it is
// slower than tfjs-wasm's own XNNPACK matmul.
import { existsSync, statSync } from 'node:fs';

/** What SBERT_BLAS asks for: `off`, a library path, or nothing (search the usual names). */
export type BlasSetting = { kind: 'off' } | { kind: 'path'; path: string } | { kind: 'search' };

export function blasSetting(value: string | undefined = process.env.SBERT_BLAS): BlasSetting {
  const v = value?.trim() ?? '';
  if (v === '' || v === 'auto') return { kind: 'search' };
  if (/^(off|0|false|none|no)$/i.test(v)) return { kind: 'off' };
  return { kind: 'path', path: v };
}

const MULTIARCH: Record<string, string> = {
  x64: 'x86_64-linux-gnu',
  arm64: 'aarch64-linux-gnu',
  ppc64: 'powerpc64le-linux-gnu',
  s390x: 's390x-linux-gnu',
  riscv64: 'riscv64-linux-gnu',
  loong64: 'loongarch64-linux-gnu',
};

/** Library names / paths to try, in order, on `platform` and `arch` (as `process.platform` / `process.arch`). */
export function blasCandidates(platform: string = process.platform, arch: string = process.arch): string[] {
  switch (platform) {
    case 'darwin':
      return [
        // In the dyld shared cache, not on disk: dlopen finds it by this path all the same.
        '/System/Library/Frameworks/Accelerate.framework/Accelerate',
        '/opt/homebrew/opt/openblas/lib/libopenblas.dylib',
        '/usr/local/opt/openblas/lib/libopenblas.dylib',
        'libmkl_rt.2.dylib',
        'libmkl_rt.dylib',
      ];
    case 'win32':
      return ['dnnl.dll', 'libopenblas.dll', 'openblas.dll', 'mkl_rt.2.dll', 'mkl_rt.dll'];
    default: {
      const triplet = MULTIARCH[arch];
      const debian = triplet ? [`/usr/lib/${triplet}/openblas-pthread/libopenblas.so.0`] : [];
      return [
        'libdnnl.so.3', // oneDNN 3.x
        'libdnnl.so.2', // oneDNN 2.x (Debian 12's libdnnl2)
        ...debian,
        'libopenblasp.so.0', // Fedora / RHEL: the pthreads build (their libopenblas.so.0 is serial)
        'libopenblas.so.0',
        'libopenblas.so',
        'libmkl_rt.so.2',
        'libmkl_rt.so',
      ];
    }
  }
}

/**
 * Why `path` cannot be a library, or undefined when it may be one (a bare name is left to the dynamic
 * loader's search). A FIFO or device would make dlopen block or read forever, so only regular files pass.
 */
export function unloadablePath(path: string, platform: string = process.platform): string | undefined {
  if (!path.includes('/') && !path.includes('\\')) return undefined;
  if (!existsSync(path)) {
    // macOS keeps system frameworks in the dyld cache only; dlopen still resolves their paths.
    return platform === 'darwin' && path.startsWith('/System/') ? undefined : 'no such file';
  }
  const st = statSync(path);
  if (st.isDirectory()) return 'a directory, not a library';
  if (!st.isFile()) return 'not a regular file';
  return undefined;
}
