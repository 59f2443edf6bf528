import { setupWasmBlas, activeBlas } from './dist/src/backend/blas/index.js';
import * as tf from '@tensorflow/tfjs-core';
import './node_modules/@tensorflow/tfjs-backend-wasm/dist/tf-backend-wasm.node.js';
await tf.setBackend('wasm');
console.log(await setupWasmBlas(), 'env now:', process.env.OMP_WAIT_POLICY);
const lib = activeBlas();
const [m, k, n] = [352, 768, 3072];
const a = new Float32Array(m * k).fill(0.1), b = new Float32Array(k * n).fill(0.1), c = new Float32Array(m * n);
const sab = new Int32Array(new SharedArrayBuffer(4));
const c0 = process.cpuUsage(); const t0 = performance.now(); let inCall = 0;
for (let i = 0; i < 50; i++) { const s = performance.now(); lib.sgemm(false, false, m, n, k, 1, a, k, b, n, 0, c, n); inCall += performance.now() - s; Atomics.wait(sab, 0, 0, 10); }
const u = process.cpuUsage(c0);
console.log(`wall ${(performance.now() - t0).toFixed(0)} ms, in sgemm ${inCall.toFixed(0)} ms, CPU ${((u.user + u.system) / 1e3).toFixed(0)} ms`);
