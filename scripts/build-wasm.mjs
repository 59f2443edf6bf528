#!/usr/bin/env node
// Assembles src/backend/blas/kernels.wat into src/backend/blas/kernels-wasm.ts (the module's bytes as base64),
// so the kernels load with no file lookup and no assembler at run time. `--check` only compares (a test runs it).
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import wabtInit from 'wabt';

const src = fileURLToPath(new URL('../src/backend/blas/kernels.wat', import.meta.url));
const out = fileURLToPath(new URL('../src/backend/blas/kernels-wasm.ts', import.meta.url));

export async function assemble() {
  const wabt = await wabtInit();
  const mod = wabt.parseWat('kernels.wat', readFileSync(src, 'utf8'), { simd: true });
  try {
    mod.validate();
    const { buffer } = mod.toBinary({});
    const b64 = Buffer.from(buffer).toString('base64');
    const lines = b64.match(/.{1,112}/g).map((l) => `  '${l}'`);
    return [
      '// Generated from kernels.wat by `npm run build:wasm` (scripts/build-wasm.mjs); do not edit.',
      'export const KERNELS_WASM_BASE64 =',
      `${lines.join(' +\n')};`,
      '',
    ].join('\n');
  } finally {
    mod.destroy();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const text = await assemble();
  if (process.argv.includes('--check')) {
    const same = readFileSync(out, 'utf8') === text;
    if (!same) console.error(`${out} is out of date with kernels.wat: run npm run build:wasm`);
    process.exit(same ? 0 : 1);
  }
  writeFileSync(out, text);
}
