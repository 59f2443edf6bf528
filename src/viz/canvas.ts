// @napi-rs/canvas (a native binary) is loaded on first use, so the rest of the library and the CLI keep
// working on a platform or install where it is absent; only drawing a PNG needs it.
import { createRequire } from 'node:module';
import { InputError } from '../errors.js';

type CanvasModule = typeof import('@napi-rs/canvas');
let loaded: CanvasModule | undefined;

export function canvasModule(): CanvasModule {
  if (!loaded) {
    try {
      loaded = createRequire(import.meta.url)('@napi-rs/canvas') as CanvasModule;
    } catch (e) {
      const why = e instanceof Error ? e.message.split('\n')[0] : String(e);
      throw new InputError(`drawing PNGs needs @napi-rs/canvas (npm install @napi-rs/canvas): ${why}`);
    }
  }
  return loaded;
}
