// Child process of malformed-hostile.test.ts: runs the loader operations of a manifest one after another and
// prints one JSON line per case, after a {"start": i} line, so that a case that hangs is known to the guard
// that kills this process. Imports the build in dist/ (test/global-setup.ts compiles it).
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const { peakRssKiB } = createRequire(import.meta.url)('../peak-rss.cjs');

const dist = new URL('../../dist/src/', import.meta.url);
const { openCheckpoint } = await import(new URL('loader/checkpoint.js', dist).href);
const { loadModelDir } = await import(new URL('loader/model-dir.js', dist).href);
const { resolveModelDir } = await import(new URL('loader/resolve.js', dist).href);
const { BertTokenizer } = await import(new URL('tokenizer/index.js', dist).href);
const { loadModelAndTokenizer } = await import(new URL('encoder/load.js', dist).href);
const { exitCodeOf, InputError } = await import(new URL('errors.js', dist).href);

const FLOAT = new Set(['F32', 'F16', 'BF16', 'F64']);
const ops = {
  load: (c) => loadModelDir(c.path, c.opts ?? {}),
  structure: (c) => openCheckpoint(c.path).close(),
  file: (c) => {
    const ckpt = openCheckpoint(c.path);
    try {
      for (const t of ckpt.tensors.values()) if (FLOAT.has(t.dtype)) t.float32();
    } finally {
      ckpt.close();
    }
  },
  tokenizer: (c) => BertTokenizer.fromDir(c.path),
  resolve: (c) => resolveModelDir(c.path),
  model: (c) => loadModelAndTokenizer(c.path, c.opts ?? {}),
};

const manifest = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const emit = (o) => process.stdout.write(`${JSON.stringify(o)}\n`);
for (let i = 0; i < manifest.length; i++) {
  const c = manifest[i];
  emit({ start: i });
  const t0 = performance.now();
  let error;
  try {
    ops[c.op](c);
  } catch (e) {
    error = e;
  }
  const ms = performance.now() - t0;
  globalThis.gc?.(); // what a case left behind is not the next one's peak
  if (error === undefined) emit({ i, ms, ok: true });
  else
    emit({
      i,
      ms,
      ok: false,
      typed: error instanceof InputError,
      exit: exitCodeOf(error),
      message: error instanceof Error ? error.message : String(error),
    });
}
emit({ done: true, maxRssKiB: peakRssKiB() });
