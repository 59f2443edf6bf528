// How fast the explorer shows a 512-token input (issue 21 asks for 5 s): `sbert explore` on a model, Debian's
// Chromium headless (playwright-core), and per round a fresh page on which a person types a 512-token sentence A
// (STS-B test sentences, a different stretch each round) and a short B, presses Run with the attention tab open,
// then opens layer 1 head 2 as soon as the grid is there. Timed from the press of Run:
//   grid: the layer × head thumbnails of the 512 tokens are in the page;
//   shown: the head is drawn large and the layer's head view has all 512 tokens, painted (two frames later).
// Also each /explorer/ request's round trip as the browser saw it, and the longest main-thread task (the page
// froze for that long at most). The model loads before the first round; nothing is cached between rounds.
//   npm run bench:explorer                          # synthetic BERT-base (12 layers × 12 heads), wasm, 5 rounds
//   node dist/bench/explorer.js --quick             # the tiny fixture model, 2 rounds (a smoke run)
//   node dist/bench/explorer.js [--model DIR] [--backend B] [--rounds N] [--out FILE]
// Writes bench/results/<date>-explorer.json and latest-explorer.json (or only --out FILE).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { Page } from 'playwright-core';
import { fixture, ROOT } from '../test/fixtures.js';
import { syntheticModelDir } from '../test/synthetic.js';
import { explore, findChromium, launch } from '../test/ui/browser.js';
import { stsSentences } from './inputs.js';
import { machineInfo } from './machine.js';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    model: { type: 'string' },
    backend: { type: 'string', default: 'wasm' },
    rounds: { type: 'string' },
    out: { type: 'string' },
  },
});
const quick = values.quick!;
const rounds = Number(values.rounds ?? (quick ? 2 : 5));
const model = values.model ?? (quick ? fixture('tiny', 'st') : syntheticModelDir('base'));
const log = (m: string) => process.stderr.write(`bench/explorer: ${m}\n`);

interface Round {
  tokens: number;
  gridSeconds: number;
  shownSeconds: number;
  longestTaskMs: number;
  requests: { route: string; seconds: number; kilobytes: number }[];
}

/** A text of more than 512 tokens: STS-B test sentences from `start` on, joined. */
function longText(start: number): string {
  const s = stsSentences('test', true);
  let text = '';
  for (let i = start; text.length < 700; i++) text += s[i % s.length]!;
  return text;
}

const painted = (page: Page) =>
  page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(() => r(null)))));

async function round(page: Page, url: string, k: number): Promise<Round> {
  await page.goto(url);
  await page.waitForSelector('#model-info', { timeout: 600_000 });
  await page.click('#tab-attention');
  await page.locator('.thumb-grid').waitFor({ timeout: 600_000 }); // the example sentence's, before timing
  await page.fill('#sentence-a', longText(k * 40));
  await page.fill('#sentence-b', '那个人很开心');
  await page.evaluate(() => {
    const w = window as unknown as { longest: number };
    w.longest = 0;
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) w.longest = Math.max(w.longest, e.duration);
    }).observe({ type: 'longtask' });
    performance.clearResourceTimings();
  });
  const t0 = Date.now();
  await page.click('#run');
  await page.locator('.thumb-grid[data-tokens="512"]').waitFor({ timeout: 600_000 });
  const grid = (Date.now() - t0) / 1000;
  await page.click('button[data-layer="1"][data-head="2"]');
  await page.locator('#attention-grid[data-rows="512"]').waitFor({ timeout: 600_000 });
  await page.locator('.hv-left .hv-token').nth(511).waitFor({ timeout: 600_000 });
  await painted(page);
  const shown = (Date.now() - t0) / 1000;
  const measured = await page.evaluate(() => ({
    longest: (window as unknown as { longest: number }).longest,
    requests: (performance.getEntriesByType('resource') as PerformanceResourceTiming[])
      .filter((e) => e.name.includes('/explorer/'))
      .map((e) => ({
        route: e.name.replace(/^.*\/explorer\//, ''),
        seconds: e.duration / 1000,
        kilobytes: e.encodedBodySize / 1024,
      })),
  }));
  return { tokens: 512, gridSeconds: grid, shownSeconds: shown, longestTaskMs: measured.longest, ...measured };
}

const chromium = findChromium();
if (!chromium.path) {
  log(`no browser: ${chromium.why}`);
  process.exit(1);
}
log(`model ${model}, backend ${values.backend}, ${rounds} rounds`);
const [server, browser] = await Promise.all([
  explore(['--model', model, '--backend', values.backend!], 600_000),
  launch(chromium.path),
]);
const results: Round[] = [];
try {
  const page = await browser.newPage();
  for (let k = 0; k < rounds; k++) {
    const r = await round(page, server.url, k);
    results.push(r);
    log(
      `round ${k + 1}: grid ${r.gridSeconds.toFixed(2)} s, shown ${r.shownSeconds.toFixed(2)} s, longest task ` +
        `${r.longestTaskMs} ms; ${r.requests.map((q) => `${q.route} ${q.seconds.toFixed(2)} s ${q.kilobytes.toFixed(0)} KiB`).join(', ')}`,
    );
  }
  if (browser.errors.length) throw new Error(`console errors: ${browser.errors.join('; ')}`);
} finally {
  await browser.close();
  await server.stop();
}

const sorted = (f: (r: Round) => number) => results.map(f).sort((a, b) => a - b);
const median = (xs: number[]) => xs[Math.floor(xs.length / 2)]!;
const summary = {
  gridSeconds: { median: median(sorted((r) => r.gridSeconds)), max: Math.max(...sorted((r) => r.gridSeconds)) },
  shownSeconds: { median: median(sorted((r) => r.shownSeconds)), max: Math.max(...sorted((r) => r.shownSeconds)) },
  longestTaskMs: { median: median(sorted((r) => r.longestTaskMs)), max: Math.max(...sorted((r) => r.longestTaskMs)) },
};
process.stdout.write(
  `| model | backend | rounds | Run → grid (median / max) | Run → head large + head view (median / max) | longest task (median / max) |\n` +
    `|---|---|---:|---:|---:|---:|\n` +
    `| ${quick ? 'tiny fixture' : values.model ? values.model : 'synthetic BERT-base'} | ${values.backend} | ${rounds} | ` +
    `${summary.gridSeconds.median.toFixed(2)} / ${summary.gridSeconds.max.toFixed(2)} s | ` +
    `${summary.shownSeconds.median.toFixed(2)} / ${summary.shownSeconds.max.toFixed(2)} s | ` +
    `${summary.longestTaskMs.median.toFixed(0)} / ${summary.longestTaskMs.max.toFixed(0)} ms |\n`,
);
const report = { model, backend: values.backend, rounds: results, summary, machine: machineInfo() };
if (values.out) writeFileSync(values.out, JSON.stringify(report, null, 2));
else {
  const dir = join(ROOT, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `${report.machine.date.slice(0, 10)}-explorer.json`), JSON.stringify(report, null, 2));
  writeFileSync(join(dir, 'latest-explorer.json'), JSON.stringify(report, null, 2));
}
