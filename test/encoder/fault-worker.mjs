// The encoder worker with fault injection, for worker-pool.test.ts: a {fault} message makes the thread die
// the ways real workers die (process.exit, an uncaught exception, out of memory under resourceLimits), and a
// file named by workerData.failStartIf makes new workers fail to start, workerData.dieOnBatch makes every batch
// kill its worker. Otherwise it is the real worker.
import { existsSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';

if (workerData?.failStartIf && existsSync(workerData.failStartIf)) process.exit(9);
parentPort.on('message', (m) => {
  if (workerData?.dieOnBatch && m?.job) process.exit(4);
  if (!m || typeof m.fault !== 'string') return;
  if (m.fault === 'exit') process.exit(3);
  if (m.fault === 'throw')
    setImmediate(() => {
      throw new Error('injected fault');
    });
  if (m.fault === 'oom') {
    const hog = [];
    for (;;) hog.push(new Array(1 << 20).fill(hog.length));
  }
});
await import(new URL('../../dist/src/encoder/worker.js', import.meta.url).href);
