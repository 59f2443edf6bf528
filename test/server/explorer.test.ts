// The explorer's JSON routes and page (src/server/explorer) on a real server with the tiny fixture model: every
// number against the library that computes it (SentenceEncoder.encode, runWithHooks + ablateHeads, runWithCache)
// or the PyTorch reference (attentions, hidden states); errors as 4xx with a message; no tensor left behind.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cosine } from '../../src/encoder/similarity.js';
import type { SentenceEncoder } from '../../src/encoder/sentence-encoder.js';
import { ablateHeads, type HeadRef, runWithCache, runWithHooks } from '../../src/model/hooks.js';
import { pool } from '../../src/model/pooling.js';
import { type AttributionMethod, explain } from '../../src/explain/index.js';
import { maxPool } from '../../src/server/explorer/attention.js';
import { MAX_EXPLAIN_STEPS } from '../../src/server/explorer/explain.js';
import { explorerPage, explorerPlugins } from '../../src/server/explorer/index.js';
import type {
  AttentionLayer,
  AttentionOverview,
  ExplainResponse,
  ExplorerInfo,
  HookResponse,
  SimilarityResponse,
  TokensResponse,
  WireTensor,
} from '../../src/server/explorer/types.js';
import type { SbertServer } from '../../src/server/server.js';
import { fixture, ROOT } from '../fixtures.js';
import { explore } from '../ui/browser.js';
import { type Ref, readRefs, ref } from '../model/helpers.js';
import { expectTeiError, get, post, tinyServer, until } from './helpers.js';
import { serve } from './spawn.js';

const A = '那个人很开心'; // the fixture's sentence 0
const B = '那个人非常开心';

const decode = (t: WireTensor): Float32Array => {
  expect(t.dtype).toBe('float32');
  const bytes = Buffer.from(t.data, 'base64');
  const v = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
  expect(v.length).toBe(t.shape.reduce((a, b) => a * b, 1));
  return v;
};
const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  expect(a.length).toBe(b.length);
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i]! - b[i]!));
  return d;
};

/** The library's answer: each sentence alone through runWithHooks, pooled, cosine — per layer too. */
async function libraryProfile(
  enc: SentenceEncoder,
  heads: HeadRef[],
): Promise<{ similarity: number; layers: number[] }> {
  const run = async (text: string) => {
    const inputs = enc.inputs([text]);
    const out = runWithHooks(enc.model, inputs, heads.length ? ablateHeads(enc.model, heads) : {}, {
      outputHiddenStates: true,
    });
    const pooled = [out.lastHiddenState, ...out.hiddenStates!].map((h) => pool(h, inputs.attentionMask, 'mean'));
    const values = await Promise.all(pooled.map(async (p) => (await p.data()) as Float32Array));
    tf.dispose([...pooled, ...Object.values(inputs), out.lastHiddenState, ...out.hiddenStates!]);
    return { embedding: values[0]!, layers: values.slice(1) };
  };
  const [a, b] = [await run(A), await run(B)];
  return { similarity: cosine(a.embedding, b.embedding), layers: a.layers.map((v, i) => cosine(v, b.layers[i]!)) };
}

describe('explorer routes', () => {
  let server: SbertServer;
  let enc: SentenceEncoder;
  const url = (path: string) => `${server.url}${path}`;

  beforeAll(async () => {
    server = await tinyServer({ ...explorerPlugins(), workers: 0 });
    enc = server.context.encoder!;
  });
  afterAll(async () => server?.shutdown());

  it('GET /explorer/info: the model and its hook points', async () => {
    const r = await get(url('/explorer/info'));
    expect(r.status).toBe(200);
    const info = r.body as ExplorerInfo;
    expect(info).toMatchObject({ layers: 2, heads: 4, hidden: 32, maxLength: 512, pooling: 'mean', modelType: 'bert' });
    expect(info.hookNames).toEqual(enc.model.hookNames());
  });

  it('POST /explorer/tokens: ids, offsets, what each token covers, [UNK] with the characters it replaced', async () => {
    const text = 'ᚠ那个人 Hello';
    const r = await post(url('/explorer/tokens'), { texts: [text, B] });
    expect(r.status, r.text).toBe(200);
    const [s, t] = (r.body as TokensResponse).sentences;
    const e = enc.tokenizer.encode(text);
    expect(s!.tokens).toEqual(e.tokens);
    expect(s!.ids).toEqual(e.inputIds);
    expect(s!.offsets).toEqual(e.offsets);
    expect(s!.tokens).toEqual(['[CLS]', '[UNK]', '那', '个', '人', 'hello', '[SEP]']);
    expect(s!.unknown).toEqual([false, true, false, false, false, false, false]);
    expect(s!.covers).toEqual(['', 'ᚠ', '那', '个', '人', 'Hello', '']);
    expect(s!.special).toEqual([true, false, false, false, false, false, true]);
    expect(s!.truncated).toBe(false);
    expect(t!.tokens).toEqual(enc.tokenizer.encode(B).tokens);
    // A text past the model's 512 tokens: cut as the model sees it.
    const long = await post(url('/explorer/tokens'), { texts: ['开心'.repeat(400)] });
    const l = (long.body as TokensResponse).sentences[0]!;
    expect(l.truncated).toBe(true);
    expect(l.ids).toHaveLength(512);
    expect(l.tokens.at(-1)).toBe('[SEP]');
  });

  it('POST /explorer/similarity: sbert similarity, and ablateHeads, per layer, to 1e-6', async () => {
    const r = await post(url('/explorer/similarity'), { a: A, b: B, ablate: [{ layer: 1, head: 2 }] });
    expect(r.status, r.text).toBe(200);
    const d = r.body as SimilarityResponse;
    const [va, vb] = await enc.encode([A, B]); // what `sbert similarity` computes
    expect(Math.abs(d.similarity - cosine(va!, vb!))).toBeLessThanOrEqual(1e-6);
    const lib = await libraryProfile(enc, []);
    expect(maxDiff(d.layers, lib.layers)).toBeLessThanOrEqual(1e-6);
    expect(d.layers).toHaveLength(3); // hidden_states 0 (embeddings), 1, 2
    expect(d.tokens).toEqual({ a: 8, b: 9 });
    const ablated = await libraryProfile(enc, [{ layer: 1, head: 2 }]);
    expect(d.ablated!.heads).toEqual([{ layer: 1, head: 2 }]);
    expect(Math.abs(d.ablated!.similarity - ablated.similarity)).toBeLessThanOrEqual(1e-6);
    expect(maxDiff(d.ablated!.layers, ablated.layers)).toBeLessThanOrEqual(1e-6);
    // Ablating a head of layer 1 changes nothing before it, and the output after it.
    expect(d.ablated!.layers.slice(0, 2)).toEqual(d.layers.slice(0, 2));
    expect(Math.abs(d.ablated!.similarity - d.similarity)).toBeGreaterThan(1e-4);
    // Without `ablate`, no ablated profile.
    const plain = (await post(url('/explorer/similarity'), { a: A, b: B })).body as SimilarityResponse;
    expect(plain.ablated).toBeUndefined();
    expect(plain.similarity).toBe(d.similarity);
  });

  it("POST /explorer/attention: every head's map equals the fixture's attentions (PyTorch) on the tokens", async () => {
    const refs = readRefs(fixture('tiny', 'refs.safetensors'));
    const overview = (await post(url('/explorer/attention'), { text: A })).body as AttentionOverview;
    expect(overview).toMatchObject({ layers: 2, heads: 4, size: 8 });
    expect(overview.tokens).toEqual(enc.tokenizer.encode(A).tokens);
    const thumbs = decode(overview.thumbnails);
    let worst = 0;
    for (const layer of [0, 1]) {
      const r = (await post(url('/explorer/attention'), { text: A, layer })).body as AttentionLayer;
      expect(r.attention.shape).toEqual([4, 8, 8]);
      const ours = decode(r.attention);
      // Short inputs: the thumbnails are the maps themselves.
      expect(thumbs.subarray(layer * 256, (layer + 1) * 256)).toEqual(ours);
      const want = ref(refs, `attentions.${layer}`); // [B, heads, Lpad, Lpad]; sentence 0 has 8 tokens
      const Lp = want.shape[2]!;
      for (let h = 0; h < 4; h++) {
        for (let q = 0; q < 8; q++) {
          for (let k = 0; k < 8; k++) {
            worst = Math.max(worst, Math.abs(ours[(h * 8 + q) * 8 + k]! - want.data[(h * Lp + q) * Lp + k]!));
          }
        }
      }
    }
    expect(worst).toBeLessThanOrEqual(1e-6);
  });

  it('long inputs: 512 tokens, thumbnails 48 × 48, each cell the largest value of its block', async () => {
    const text = '一个女孩在给她的头发做发型。'.repeat(40);
    const o = (await post(url('/explorer/attention'), { text })).body as AttentionOverview;
    expect(o.tokens).toHaveLength(512);
    expect(o.size).toBe(48);
    const full = decode(
      ((await post(url('/explorer/attention'), { text, layer: 1 })).body as AttentionLayer).attention,
    );
    const thumbs = decode(o.thumbnails);
    const h = 3;
    const want = new Float32Array(48 * 48);
    // by hand: block r covers rows floor(r·512/48) .. floor((r+1)·512/48) − 1
    for (let r = 0; r < 48; r++) {
      for (let c = 0; c < 48; c++) {
        let m = 0;
        for (let q = Math.floor((r * 512) / 48); q < Math.floor(((r + 1) * 512) / 48); q++) {
          for (let k = Math.floor((c * 512) / 48); k < Math.floor(((c + 1) * 512) / 48); k++) {
            m = Math.max(m, full[(h * 512 + q) * 512 + k]!);
          }
        }
        want[r * 48 + c] = m;
      }
    }
    expect(thumbs.subarray((4 + h) * 48 * 48, (4 + h + 1) * 48 * 48)).toEqual(want);
  });

  it('maxPool keeps every cell when the map is not smaller', () => {
    const map = Float32Array.from({ length: 9 }, (_, i) => i / 10);
    const out = new Float32Array(9);
    maxPool(map, 3, 3, out, 0);
    expect(out).toEqual(map);
    maxPool(map, 3, 1, out, 0);
    expect(out[0]).toBeCloseTo(0.8, 6);
  });

  it('POST /explorer/hook: the cached activation, its shape and statistics', async () => {
    const refs = readRefs(fixture('tiny', 'refs.safetensors'));
    const r = (await post(url('/explorer/hook'), { text: A, name: 'hook_full_embed' })).body as HookResponse;
    expect(r.name).toBe('hook_full_embed');
    expect(r.tensor.shape).toEqual([1, 8, 32]);
    expect(r.tokens).toHaveLength(8);
    const v = decode(r.tensor);
    const want = ref(refs, 'hidden_states.0'); // [B, Lpad, 32]
    expect(maxDiff(v, want.data.subarray(0, 8 * 32))).toBeLessThanOrEqual(1e-5);
    const finite = [...v];
    const mean = finite.reduce((a, b) => a + b, 0) / finite.length;
    expect(r.stats.count).toBe(256);
    expect(r.stats.nonFinite).toBe(0);
    expect(r.stats.min).toBe(Math.min(...finite));
    expect(r.stats.max).toBe(Math.max(...finite));
    expect(r.stats.mean).toBeCloseTo(mean, 10);
    expect(r.stats.std).toBeCloseTo(Math.sqrt(finite.reduce((a, b) => a + (b - mean) ** 2, 0) / finite.length), 10);
    // A per-head point: the library's cache, value for value.
    const q = (await post(url('/explorer/hook'), { text: A, name: 'blocks.1.attn.hook_q' })).body as HookResponse;
    expect(q.tensor.shape).toEqual([1, 8, 4, 8]);
    const inputs = enc.inputs([A]);
    const { output, cache } = runWithCache(enc.model, inputs, { names: ['blocks.1.attn.hook_q'] });
    expect(decode(q.tensor)).toEqual(await cache.get('blocks.1.attn.hook_q').data());
    cache.dispose();
    tf.dispose([output.lastHiddenState, ...Object.values(inputs)]);
  });

  it("POST /explorer/explain: each method's scores are torch's (grads.json pair 0), as explain() gives them", async () => {
    const grads = readRefs(fixture('tiny', 'grads.safetensors'));
    const info = (await get(url('/explorer/info'))).body as ExplorerInfo;
    expect(info.attributionMethods).toEqual([
      'integrated_gradients',
      'gradient',
      'gradient_x_input',
      'attention_rollout',
    ]);
    expect(info.attributionSteps).toEqual({ default: 52, max: MAX_EXPLAIN_STEPS });
    const H = 32;
    const norms = (r: Ref) =>
      Array.from({ length: r.shape[0]! }, (_, t) => Math.hypot(...r.data.subarray(t * H, (t + 1) * H)));
    for (const method of info.attributionMethods) {
      const r = await post(url('/explorer/explain'), { a: A, b: B, method });
      expect(r.status, r.text).toBe(200);
      const d = r.body as ExplainResponse;
      expect(d).toEqual(JSON.parse(JSON.stringify(await explain(enc, A, B, { method: method as AttributionMethod }))));
      expect(Math.abs(d.similarity - ref(grads, 'cos.0').data[0]!)).toBeLessThanOrEqual(1e-6);
      for (const side of ['a', 'b'] as const) {
        const want = {
          gradient: norms(ref(grads, `grad.0.${side}.word_embeddings`)),
          gradient_x_input: ref(grads, `gxi.0.${side}`).data,
          integrated_gradients: ref(grads, `ig.0.${side}`).data,
          attention_rollout: ref(grads, `rollout.0.${side}`).data.subarray(0, d[side].tokens.length),
        }[method]!;
        expect(maxDiff(d[side].scores, want), `${method} ${side}`).toBeLessThanOrEqual(
          method === 'integrated_gradients' ? 1e-5 : 1e-6,
        );
      }
      expect(d.a.tokens).toEqual(enc.tokenizer.encode(A).tokens);
    }
    // Fewer steps: the request's, and a completeness error that says so.
    const few = (await post(url('/explorer/explain'), { a: A, b: B, steps: 4 })).body as ExplainResponse;
    expect(few.method).toBe('integrated_gradients');
    expect(few.steps).toBe(4);
    expect(few).toEqual(JSON.parse(JSON.stringify(await explain(enc, A, B, { steps: 4 }))));
  });

  it('POST /explorer/explain: a long integrated-gradients run leaves the server answering meanwhile', async () => {
    // Before (third attack): 256 steps at 512 tokens held the event loop for 30 s on the tiny model, /health and
    // every other request unanswered until it ended. The steps now yield between passes.
    let done = false;
    const started = server.context.inFlight;
    const long = post(url('/explorer/explain'), { a: '你'.repeat(600), b: B, steps: MAX_EXPLAIN_STEPS }).then((r) => {
      done = true;
      return r;
    });
    await until(() => server.context.inFlight > started, 'the explain request to arrive');
    const health = await get(url('/health'));
    expect(health.status).toBe(200);
    expect(done, 'the explain run should still be going when /health answers').toBe(false);
    expect((await long).status).toBe(200);
  });

  it('bad requests: 400 with a message naming the field', async () => {
    const cases: [string, unknown, RegExp][] = [
      ['/explorer/tokens', { texts: [] }, /`texts` must be an array of one or two sentences/],
      ['/explorer/tokens', { texts: ['a', 'b', 'c'] }, /one or two/],
      ['/explorer/tokens', { texts: ['  '] }, /`texts\[0\]` is empty/],
      ['/explorer/tokens', { texts: [A, 'a\ud800b'] }, /`texts\[1\]` holds a lone surrogate \\ud800 at character 2/],
      ['/explorer/similarity', { a: A, b: '\udfff' }, /`b` holds a lone surrogate/],
      ['/explorer/attention', { text: 'x\ud83d' }, /`text` holds a lone surrogate/],
      ['/explorer/explain', { a: '\ud800', b: B }, /`a` holds a lone surrogate/],
      ['/explorer/similarity', { a: A }, /`b` must be a string, got nothing/],
      ['/explorer/similarity', { a: A, b: B, ablate: {} }, /`ablate` must be an array/],
      [
        '/explorer/similarity',
        { a: A, b: B, ablate: [{ layer: 2, head: 0 }] },
        /`ablate\[0\]` must be \{"layer": 0..1, "head": 0..3\}/,
      ],
      ['/explorer/similarity', { a: A, b: B, ablate: [{ layer: 0, head: 1.5 }] }, /`ablate\[0\]`/],
      [
        '/explorer/similarity',
        {
          a: A,
          b: B,
          ablate: [
            { layer: 0, head: 1 },
            { layer: 0, head: 1 },
          ],
        },
        /twice/,
      ],
      ['/explorer/attention', { text: A, layer: 2 }, /`layer` must be an integer layer in 0..1, got 2/],
      ['/explorer/attention', { text: A, layer: '1' }, /`layer`/],
      ['/explorer/attention', { text: 5 }, /`text` must be a string, got number/],
      ['/explorer/hook', { text: A, name: 'blocks.9.hook_resid_pre' }, /`name` must be one of the model's hook points/],
      ['/explorer/hook', { text: A }, /`name`/],
      ['/explorer/explain', { a: A }, /`b` must be a string, got nothing/],
      ['/explorer/explain', { a: ' ', b: B }, /`a` is empty/],
      [
        '/explorer/explain',
        { a: '\u200b\u200b', b: B },
        /sentence a .* has no tokens but \[CLS\] \[SEP\] once tokenized/,
      ],
      [
        '/explorer/explain',
        { a: A, b: B, method: 'lime' },
        /`method` must be one of gradient, gradient_x_input, integrated_gradients, attention_rollout, got "lime"/,
      ],
      ['/explorer/explain', { a: A, b: B, steps: 0 }, /`steps` must be an integer in 1..256, got 0/],
      ['/explorer/explain', { a: A, b: B, steps: 257 }, /`steps` must be an integer in 1..256, got 257/],
      ['/explorer/explain', { a: A, b: B, steps: '8' }, /`steps` must be an integer in 1..256, got "8"/],
    ];
    for (const [path, body, message] of cases) expectTeiError(await post(url(path), body), 400, message, 'Validation');
    expectTeiError(await post(url('/explorer/tokens'), 'not json'), 400, /not valid JSON/, 'Validation');
    expectTeiError(await post(url('/explorer/tokens'), [1]), 400, /must be a JSON object/, 'Validation');
  });

  it('no tensor is left behind by any route', async () => {
    const round = async () => {
      await post(url('/explorer/similarity'), { a: A, b: B, ablate: [{ layer: 0, head: 1 }] });
      await post(url('/explorer/attention'), { text: `${A}。` });
      await post(url('/explorer/attention'), { text: `${A}。`, layer: 0 });
      await post(url('/explorer/hook'), { text: B, name: 'blocks.0.ln1.hook_scale' });
      await post(url('/explorer/hook'), { text: B, name: 'nope' });
      await post(url('/explorer/explain'), { a: A, b: B, steps: 3 });
      await post(url('/explorer/explain'), { a: A, b: B, method: 'attention_rollout' });
      await post(url('/explorer/explain'), { a: A, b: B, steps: 999 });
    };
    await round(); // the model is uploaded to this thread on first use
    const before = tf.memory().numTensors;
    await round();
    await round();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('GET / serves the page, its bundle and the CJK font, locally and under a strict CSP', async () => {
    const page = await get(url('/'));
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(page.headers.get('content-security-policy')).toMatch(/default-src 'self'/);
    // Every asset the page names is served (relative URLs: the page works under a path prefix too).
    const assets = [...page.text.matchAll(/(?:src|href)="(ui\/[^"]+)"/g)].map((m) => m[1]!);
    expect(assets.sort()).toEqual(['ui/app.js', 'ui/fonts.css', 'ui/style.css']);
    for (const a of assets) expect((await get(url(`/${a}`))).status, a).toBe(200);
    expect((await get(url('/ui/app.js'))).headers.get('content-type')).toMatch(/javascript/);
    const css = (await get(url('/ui/fonts.css'))).text;
    const font = /url\('(fonts\/cjk\.(?:otf|ttf))'\)/.exec(css)?.[1];
    if (font) {
      const f = await fetch(url(`/ui/${font}`));
      expect(f.status).toBe(200);
      expect(Number(f.headers.get('content-length'))).toBeGreaterThan(1_000_000);
      await f.arrayBuffer();
    } else {
      expect(css).toMatch(/no CJK font/);
    }
    expect((await get(url('/ui/../package.json'))).status).toBe(404);
    expect((await get(url('/ui/nope.js'))).status).toBe(404);
  });
});

describe('explorer behind an API key', () => {
  let server: SbertServer;
  beforeAll(async () => {
    server = await tinyServer({ ...explorerPlugins(), workers: 0, apiKey: 'sk-ui' });
  });
  afterAll(async () => server?.shutdown());

  it('the page is open, its data needs the key', async () => {
    expect((await get(`${server.url}/`)).status).toBe(200);
    expectTeiError(await get(`${server.url}/explorer/info`), 401, /no API key/, 'Unauthorized');
    const ok = await get(`${server.url}/explorer/info`, { authorization: 'Bearer sk-ui' });
    expect(ok.status).toBe(200);
  });
});

describe('explorer page not built', () => {
  it('GET / says how to build it (503)', async () => {
    const app = Fastify();
    await app.register((a) => explorerPage(a, '/nonexistent/ui'));
    const r = await app.inject({ method: 'GET', url: '/' });
    expect(r.statusCode).toBe(503);
    expect(r.body).toMatch(/not built .*npm run build/);
    await app.close();
  });
});

describe('the commands README.md and docs/explorer.md show', () => {
  /** The `npx sbert ...` lines of a markdown file's ```sh blocks (from `section` to the next `## `). */
  const commands = (file: string, section?: RegExp): string[][] => {
    let text = readFileSync(join(ROOT, file), 'utf8');
    if (section) {
      text = text.slice(text.search(section));
      text = text.slice(0, text.slice(1).search(/^## /m) + 1 || undefined);
    }
    return [...text.matchAll(/^```sh\n([\s\S]*?)^```$/gm)]
      .flatMap((m) => m[1]!.split('\n'))
      .filter((l) => l.startsWith('npx sbert '))
      .map((l) => l.trim().split(/\s+/).slice(2));
  };
  const lines = [...commands('docs/explorer.md'), ...commands('README.md', /^## Internals explorer/m)];

  it('they are the two ways in: sbert explore, sbert serve --ui', () => {
    expect(lines.map((a) => a.slice(0, 1).join(' '))).toEqual(['explore', 'serve', 'explore']);
    expect(lines[1]).toContain('--ui');
  });

  for (const args of lines) {
    it(`npx sbert ${args.join(' ')}: serves the page and its data`, async () => {
      // Our fixtures' folder where the docs say ../shared/fixtures; a free port where they name one.
      const given = args
        .slice(1)
        .map((a) => (a === '../shared/fixtures/tiny/st' ? fixture('tiny', 'st') : a))
        .filter((a, i, all) => a !== '--port' && all[i - 1] !== '--port');
      const running = args[0] === 'explore' ? await explore(given) : await serve(given);
      try {
        const url = running.url.replace(/\/$/, '');
        expect(url, running.stderr()).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
        const page = await get(`${url}/`);
        expect(page.status).toBe(200);
        expect(page.text).toMatch(/<title>sbert-tfjs explorer<\/title>/);
        const info = await get(`${url}/explorer/info`);
        expect(info.status).toBe(200);
        expect((info.body as ExplorerInfo).layers).toBe(2);
      } finally {
        running.child.kill('SIGTERM');
        if ('exited' in running) await running.exited;
        else await running.stop();
      }
    }, 180_000);
  }
});
