// Shared by the webgpu kernel tests: whether an adapter exists here (a GPU, or lavapipe after
// `eval "$(scripts/lavapipe.sh)"`), and running a describe block on webgpu with our kernels allowed.
import { afterAll, beforeAll } from 'vitest';
import { setupBackend } from '../../src/backend/index.js';
import { setWebgpuMatmul } from '../../src/backend/webgpu/settings.js';

/** Null when webgpu starts here, else why not (printed once, naming the tests skipped). */
export async function webgpuUnavailable(what: string): Promise<string | null> {
  const why = await setupBackend('webgpu').then(
    () => null,
    (e: unknown) => (e instanceof Error ? e.message : String(e)),
  );
  await setupBackend('wasm');
  if (why) console.log(`${what} tests skipped: ${why}`);
  return why;
}

/** In a describe block: webgpu with `auto` (our kernels, checked on the device) around its tests, wasm after. */
export function onWebgpu(): void {
  beforeAll(async () => {
    setWebgpuMatmul('auto');
    await setupBackend('webgpu');
  });
  afterAll(async () => {
    setWebgpuMatmul('auto');
    await setupBackend('wasm');
  });
}
