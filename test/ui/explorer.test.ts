// The explorer end to end, in a real browser: `sbert explore` on the tiny fixture model, Debian's Chromium
// headless driven by playwright-core. What a person does (type, click, press keys) and what the page then shows,
// against the CLI (`sbert similarity`), the library (`ablateHeads`) and the PyTorch reference (attentions).
// No console error may appear; every request stays on the server's origin (nothing from a CDN).
//
// SBERT_UI_SCREENSHOTS=DIR also saves the two pictures docs/explorer.md shows (explorer-*.png) into DIR.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SentenceEncoder } from '../../src/encoder/sentence-encoder.js';
import { cosine } from '../../src/encoder/similarity.js';
import { ablateHeads, runWithHooks } from '../../src/model/hooks.js';
import { pool } from '../../src/model/pooling.js';
import { sbert } from '../cli.js';
import { corpus, fixture } from '../fixtures.js';
import { explain } from '../../src/explain/index.js';
import { mapFor, rgbOf } from '../../src/ui/colormap.js';
import { type Ref, readRefs, ref } from '../model/helpers.js';
import { maxDiff } from '../values.js';
import { type Browser, type Explorer, explore, findChromium, launch } from './browser.js';
import { readFileSync } from 'node:fs';

const TINY = fixture('tiny', 'st');
const chromium = findChromium();
if (!chromium.path) {
  // CI installs chromium and says so (.ci/run): there, a missing browser is a failure, not a skip.
  if (process.env.SBERT_TEST_CHROMIUM === 'required')
    throw new Error(`test/ui: SBERT_TEST_CHROMIUM=required, but ${chromium.why}`);
  console.log(`test/ui: skipped: ${chromium.why}`);
}

/** Generous guards against a hang, never timing assertions: the machine is shared and slow. */
const HANG = 120_000;

async function runSentences(page: Page, a: string, b: string): Promise<void> {
  const before = await page.evaluate(() => document.querySelector('#similarity')?.getAttribute('data-run') ?? null);
  await page.fill('#sentence-a', a);
  await page.fill('#sentence-b', b);
  await page.click('#run');
  if (b !== '') {
    await page.waitForFunction(
      (old) => {
        const run = document.querySelector('#similarity')?.getAttribute('data-run');
        return !!run && run !== old;
      },
      before,
      { timeout: HANG },
    );
  }
}

/** Two animation frames: whatever was scheduled has been painted. */
const painted = (page: Page) =>
  page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(() => r(null)))));

/** Clicks the middle of cell (row, col) of a heatmap and returns its readout. */
async function clickCell(page: Page, id: string, row: number, col: number) {
  const grid = page.locator(`#${id}-grid`);
  const [cell, left, top] = await Promise.all(
    ['data-cell', 'data-left', 'data-top'].map(async (a) => Number(await grid.getAttribute(a))),
  );
  await grid.click({ position: { x: left! + (col + 0.5) * cell!, y: top! + (row + 0.5) * cell! } });
  return readout(page, id);
}

async function readout(page: Page, id: string) {
  const r = page.locator(`#${id}-readout`);
  return {
    row: Number(await r.getAttribute('data-row')),
    col: Number(await r.getAttribute('data-col')),
    value: Number(await r.getAttribute('data-value')),
    text: await r.textContent(),
  };
}

describe.skipIf(!chromium.path)('explorer in Chromium (sbert explore, tiny model)', () => {
  let server: Explorer;
  let browser: Browser;
  let page: Page;
  let enc: SentenceEncoder;
  const shots = process.env.SBERT_UI_SCREENSHOTS;

  beforeAll(async () => {
    [server, browser, enc] = await Promise.all([
      explore(['--model', TINY]),
      launch(chromium.path!),
      SentenceEncoder.load(TINY, { backend: 'wasm' }),
    ]);
    page = await browser.newPage();
    await page.goto(server.url);
    await page.waitForSelector('#model-info', { timeout: HANG });
    if (shots) mkdirSync(shots, { recursive: true });
  }, 300_000);

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    await enc?.dispose();
  });

  it("two sentences typed: the similarity shown equals `sbert similarity`'s (1e-6)", async () => {
    const a = '一个女孩在给她的头发做发型。';
    const b = '一个女孩在梳头。';
    const cli = await sbert(['similarity', '--model', TINY, a, b, '--json']);
    expect(cli.code, cli.stderr).toBe(0);
    const want = (JSON.parse(cli.stdout) as { similarities: { score: number }[] }).similarities[0]!.score;
    await runSentences(page, a, b);
    const shown = Number(await page.locator('#similarity').getAttribute('data-value'));
    console.log(`ui: similarity shown ${shown}, sbert similarity ${want}, |Δ| ${Math.abs(shown - want)}`);
    expect(Math.abs(shown - want)).toBeLessThanOrEqual(1e-6);
    // The tokens view shows the tokenizer's tokens and ids.
    const rows = page.locator('table.tokens[data-sentence="B"] tbody tr');
    await expect.poll(() => rows.count(), { timeout: HANG }).toBe(enc.tokenizer.encode(b).tokens.length);
    expect(await rows.nth(1).locator('td').nth(1).textContent()).toBe('一');
    expect(await rows.nth(1).locator('td').nth(2).textContent()).toBe(String(enc.tokenizer.encode(b).inputIds[1]));
  });

  it('an unknown character: its [UNK] token shows what it replaced', async () => {
    await runSentences(page, 'ᚠ那个人很开心', '');
    const unk = page.locator('table.tokens[data-sentence="A"] tr.unknown');
    await unk.waitFor({ timeout: HANG });
    expect(await unk.locator('td').nth(1).textContent()).toBe('[UNK]');
    expect(await unk.locator('td').nth(4).textContent()).toBe('replaced “ᚠ”');
  });

  it("layer 1 head 2 opened large: a cell reads the fixture's attentions.1 value", async () => {
    const refs = readRefs(fixture('tiny', 'refs.safetensors'));
    const want = ref(refs, 'attentions.1'); // [B, heads, Lpad, Lpad]; sentence 0 is 那个人很开心 (8 tokens)
    const Lp = want.shape[2]!;
    const at = (q: number, k: number) => want.data[(2 * Lp + q) * Lp + k]!;
    await runSentences(page, '那个人很开心', '那个人非常开心');
    await page.click('#tab-attention');
    await page.locator('.thumb-grid[data-tokens="8"]').waitFor({ timeout: HANG });
    await page.click('button[data-layer="1"][data-head="2"]');
    await page.locator('#attention-grid[data-rows="8"]').waitFor({ timeout: HANG });
    await painted(page);
    // By pointer: row 3 (人), column 5 (开).
    const cell = await clickCell(page, 'attention', 3, 5);
    expect([cell.row, cell.col]).toEqual([3, 5]);
    console.log(
      `ui: layer 1 head 2 [3, 5] shown ${cell.value}, PyTorch ${at(3, 5)}, |Δ| ${Math.abs(cell.value - at(3, 5))}`,
    );
    expect(Math.abs(cell.value - at(3, 5))).toBeLessThanOrEqual(1e-6);
    expect(cell.text).toContain('query 3 “人” · key 5 “开”');
    // By keyboard: down and left from there.
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('ArrowLeft');
    const moved = await readout(page, 'attention');
    expect([moved.row, moved.col]).toEqual([4, 4]);
    expect(Math.abs(moved.value - at(4, 4))).toBeLessThanOrEqual(1e-6);
    // The head view is there for the layer, its heads as toggles.
    expect(await page.locator('.hv-head').count()).toBe(4);
    expect(await page.locator('.hv-left .hv-token').count()).toBe(8);
    if (shots) await page.screenshot({ path: join(shots, 'explorer-attention.png'), fullPage: true });
  });

  it("a head ablated: the similarity changes to the library's ablateHeads value, and the per-layer chart with it", async () => {
    const [a, b] = ['那个人很开心', '那个人非常开心'];
    await page.click('#tab-ablation');
    await page.click('.ablate-head[data-layer="0"][data-head="1"]');
    await page.locator('#ablated-similarity').waitFor({ timeout: HANG });
    const shown = Number(await page.locator('#ablated-similarity').getAttribute('data-value'));
    // The library: each sentence alone, head 1 of layer 0 zero-ablated, mean pooling, cosine.
    const vec = async (text: string) => {
      const inputs = enc.inputs([text]);
      const out = runWithHooks(enc.model, inputs, ablateHeads(enc.model, [{ layer: 0, head: 1 }]));
      const p = pool(out.lastHiddenState, inputs.attentionMask, 'mean');
      const v = (await p.data()) as Float32Array;
      tf.dispose([p, out.lastHiddenState, ...Object.values(inputs)]);
      return v;
    };
    const want = cosine(await vec(a), await vec(b));
    const [intact] = await Promise.all([enc.encode([a, b]).then(([x, y]) => cosine(x!, y!))]);
    console.log(
      `ui: ablated similarity shown ${shown}, ablateHeads ${want}, |Δ| ${Math.abs(shown - want)}; intact ${intact}`,
    );
    expect(Math.abs(shown - want)).toBeLessThanOrEqual(1e-6);
    expect(Math.abs(shown - intact)).toBeGreaterThan(1e-4); // it did change
    // The chart's table: the embeddings' row is untouched, the last row is the ablated similarity.
    const ablatedCol = (layer: number) =>
      page.locator(`.view-ablation .layers-table tr[data-layer="${layer}"] td`).nth(1).getAttribute('data-value');
    const intactCol = (layer: number) =>
      page.locator(`.view-ablation .layers-table tr[data-layer="${layer}"] td`).nth(0).getAttribute('data-value');
    expect(await ablatedCol(0)).toBe(await intactCol(0));
    expect(Number(await ablatedCol(2))).not.toBe(Number(await intactCol(2)));
    expect(await page.locator('.view-ablation .chart-box canvas').count()).toBeGreaterThan(0);
    // A second head: the value moves again; then clear.
    await page.click('.ablate-head[data-layer="1"][data-head="3"]');
    await page.waitForFunction(
      (old) => document.querySelector('#ablated-similarity')?.getAttribute('data-value') !== old,
      String(shown),
      { timeout: HANG },
    );
    await page.click('.view-ablation button.link');
    await page.locator('#ablated-similarity').waitFor({ state: 'detached', timeout: HANG });
  });

  it("attributions: each method's scores are torch's (grads.json pair 0), tokens coloured by them; switching methods", async () => {
    const grads = readRefs(fixture('tiny', 'grads.safetensors'));
    const [a, b] = ['那个人很开心', '那个人非常开心']; // grads.json pair 0
    const norms = (r: Ref) =>
      Array.from({ length: r.shape[0]! }, (_, t) => Math.hypot(...r.data.subarray(t * 32, (t + 1) * 32)));
    const torch = (method: string, side: 'a' | 'b', n: number): ArrayLike<number> =>
      ({
        gradient: norms(ref(grads, `grad.0.${side}.word_embeddings`)),
        gradient_x_input: ref(grads, `gxi.0.${side}`).data,
        integrated_gradients: ref(grads, `ig.0.${side}`).data,
        attention_rollout: ref(grads, `rollout.0.${side}`).data.subarray(0, n),
      })[method]!;
    await runSentences(page, a, b);
    await page.click('#tab-attributions');
    const shown = async (name: 'A' | 'B') => {
      const tokens = page.locator(`.attr-tokens[data-sentence="${name}"] .attr-token`);
      return tokens.evaluateAll((els) =>
        els.map((e) => ({
          token: e.textContent ?? '',
          score: Number(e.getAttribute('data-score')),
          background: getComputedStyle(e).backgroundColor,
        })),
      );
    };
    // The default first, then each other method chosen by a click; the last by the keyboard (arrow keys move
    // within the radio group).
    const order = ['integrated_gradients', 'gradient', 'gradient_x_input', 'attention_rollout'];
    for (const [i, method] of order.entries()) {
      if (i === order.length - 1) {
        await page.focus(`input[data-method="${order[i - 1]}"]`);
        await page.keyboard.press('ArrowRight');
      } else if (i > 0) {
        await page.click(`input[data-method="${method}"]`);
      }
      await page.locator(`#attributions[data-method="${method}"]`).waitFor({ timeout: HANG });
      const [sa, sb] = [await shown('A'), await shown('B')];
      expect(sa.map((t) => t.token)).toEqual(enc.tokenizer.encode(a).tokens);
      expect(sb.map((t) => t.token)).toEqual(enc.tokenizer.encode(b).tokens);
      const worst = Math.max(
        maxDiff(
          sa.map((t) => t.score),
          torch(method, 'a', sa.length),
        ),
        maxDiff(
          sb.map((t) => t.score),
          torch(method, 'b', sb.length),
        ),
      );
      console.log(`ui: attributions ${method}: max |shown − torch| ${worst.toExponential(2)}`);
      expect(worst).toBeLessThanOrEqual(method === 'integrated_gradients' ? 1e-5 : 1e-6);
      // Each token's colour is its score on one scale for both sentences (RdBu when any is negative).
      const scores = [...sa, ...sb].map((t) => t.score);
      const map = mapFor(Math.min(...scores), Math.max(...scores));
      expect(map.kind).toBe(method === 'gradient' || method === 'attention_rollout' ? 'sequential' : 'diverging');
      for (const t of [...sa, ...sb]) expect(t.background).toBe(`rgb(${rgbOf(map, t.score).join(', ')})`);
      if (method === 'integrated_gradients') {
        expect(await page.locator('#attributions').textContent()).toMatch(/52 steps; completeness error A/);
        if (shots) await page.screenshot({ path: join(shots, 'explorer-attributions.png'), fullPage: true });
      }
    }
    // Integrated gradients with 8 steps: what explain() gives with 8.
    await page.click('input[data-method="integrated_gradients"]');
    await page.locator('#attributions[data-method="integrated_gradients"]').waitFor({ timeout: HANG });
    await page.fill('#ig-steps', '8');
    await page.press('#ig-steps', 'Enter');
    await page.locator('#attributions', { hasText: '8 steps' }).waitFor({ timeout: HANG });
    const want = await explain(enc, a, b, { steps: 8 });
    expect(
      maxDiff(
        (await shown('A')).map((t) => t.score),
        want.a.scores,
      ),
    ).toBeLessThanOrEqual(1e-6);
  });

  it('any hook point: its shape, statistics and heatmap', async () => {
    await page.click('#tab-hooks');
    await page.selectOption('#hook-name', 'blocks.1.hook_mlp_out');
    await page.locator('#hook-title', { hasText: 'blocks.1.hook_mlp_out' }).waitFor({ timeout: HANG });
    expect(await page.locator('#hook-title').textContent()).toContain('shape [1, 8, 32]');
    expect(await page.locator('#hook-count').textContent()).toBe('256');
    expect(await page.locator('#hook-grid').getAttribute('data-rows')).toBe('8');
    expect(await page.locator('#hook-grid').getAttribute('data-cols')).toBe('32');
  });

  it('a 512-token input renders (grid, head opened large, head view) without freezing; zoom and scroll', async () => {
    const sentences = readFileSync(corpus('sts-b.test.tsv'), 'utf8')
      .split('\n')
      .slice(0, 80)
      .map((l) => l.split('\t')[0])
      .join('');
    await page.click('#tab-attention');
    await page.evaluate(() => {
      (window as unknown as { longest: number }).longest = 0;
      new PerformanceObserver((list) => {
        for (const e of list.getEntries()) {
          const w = window as unknown as { longest: number };
          w.longest = Math.max(w.longest, e.duration);
        }
      }).observe({ type: 'longtask', buffered: false });
    });
    await page.evaluate(() => performance.clearResourceTimings());
    const t0 = Date.now();
    await runSentences(page, sentences, '那个人很开心');
    await page.locator('.thumb-grid[data-tokens="512"]').waitFor({ timeout: HANG });
    await page.click('button[data-layer="1"][data-head="2"]');
    await page.locator('#attention-grid[data-rows="512"]').waitFor({ timeout: HANG });
    await page.locator('.hv-left .hv-token').nth(511).waitFor({ timeout: HANG });
    await painted(page);
    const seconds = (Date.now() - t0) / 1000;
    // Where the time went: each request's round trip as the browser saw it (the server's work and the transfer).
    const requests = await page.evaluate(() =>
      performance
        .getEntriesByType('resource')
        .filter((e) => e.name.includes('/explorer/'))
        .map((e) => `${e.name.replace(/^.*\/explorer\//, '')} ${(e.duration / 1000).toFixed(2)} s`),
    );
    // Zoom in and scroll to the far corner: the page answers, the readout follows the cursor.
    const grid = page.locator('#attention-grid');
    await grid.focus();
    for (let i = 0; i < 8; i++) await page.keyboard.press('+');
    await page.keyboard.press('Control+End');
    await painted(page);
    const t1 = Date.now();
    await painted(page);
    const frame = Date.now() - t1;
    const corner = await readout(page, 'attention');
    expect([corner.row, corner.col]).toEqual([511, 511]);
    const cell = Number(await grid.getAttribute('data-cell'));
    expect(cell).toBeGreaterThan(10); // zoomed in far enough for token labels
    const longest = await page.evaluate(() => (window as unknown as { longest: number }).longest);
    console.log(
      `ui: 512 tokens: Run → grid + head 1/2 large + head view painted in ${seconds.toFixed(2)} s; ` +
        `zoomed to ${cell.toFixed(1)} px cells, a frame after scrolling to the corner ${frame} ms; longest task ${longest} ms; ` +
        `requests: ${requests.join(', ')}`,
    );
    expect(seconds).toBeLessThan(HANG / 1000);
  });

  it('no console errors; every request stayed on the server (no CDN)', async () => {
    expect(browser.errors).toEqual([]);
    const origin = new URL(server.url).origin;
    const elsewhere = browser.requests.filter((u) => !u.startsWith(origin) && !u.startsWith('data:'));
    expect(elsewhere).toEqual([]);
    expect(browser.requests.some((u) => u.endsWith('/ui/app.js'))).toBe(true);
  });
});

describe.skipIf(!chromium.path)('explorer errors in the page (API key, body limit)', () => {
  let server: Explorer;
  let browser: Browser;

  beforeAll(async () => {
    [server, browser] = await Promise.all([
      explore(['--model', TINY, '--api-key', 'sk-page', '--payload-limit', '20000']),
      launch(chromium.path!),
    ]);
  }, 300_000);
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  it("a 401 asks for the key; a 413 shows the server's message; each request has a loading state", async () => {
    const page = await browser.newPage();
    await page.goto(server.url);
    const alert = page.locator('[role="alert"]').first();
    await alert.waitFor({ timeout: HANG });
    expect(await alert.textContent()).toMatch(/401 Unauthorized: no API key/);
    await page.fill('#api-key', 'sk-page');
    await page.keyboard.press('Enter');
    await page.locator('#model-info').waitFor({ timeout: HANG });
    await page.locator('#similarity').waitFor({ timeout: HANG });
    // A text over the server's --payload-limit: the page says what the server said.
    await page.fill('#sentence-a', '那个人很开心'.repeat(4000));
    await page.click('#run');
    await page.locator('.headline [role="status"]').or(page.locator('.headline [role="alert"]')).first().waitFor();
    const tooBig = page.locator('.headline [role="alert"]');
    await tooBig.waitFor({ timeout: HANG });
    expect(await tooBig.textContent()).toMatch(
      /413 Payload Too Large: the body is larger than this server's limit of 20000 bytes/,
    );
    // The only console errors are the browser's own lines for those two responses.
    expect(
      browser.errors.filter((e) => !/Failed to load resource: the server responded with a status of (401|413)/.test(e)),
    ).toEqual([]);
  });
});
