// `sbert explain` on the tiny sentence-transformers folder: CONTRACT.md's JSON with torch's attributions, the PNG
// (each token box in its score's colour) and the offline HTML, and the errors.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Explanation } from '../../src/explain/index.js';
import { attributionLayout } from '../../src/viz/attribution.js';
import { divergingColor } from '../../src/viz/diverging.js';
import { labelFont } from '../../src/viz/font.js';
import { errorLine, sbert } from '../cli.js';
import { fixture, ROOT } from '../fixtures.js';
import { readRefs, ref } from '../model/helpers.js';
import { nanModel } from '../nonfinite-model.js';
import { maxDiff } from '../values.js';
import { decodePng, pngSize } from '../viz/helpers.js';

const TMP = mkdtempSync(join(tmpdir(), 'sbert-explain-'));
const FOLDER_PNG = join(TMP, 'folder.png');
mkdirSync(FOLDER_PNG);
const MODEL = fixture('tiny', 'st');
const refs = readRefs(fixture('tiny', 'grads.safetensors'));
const [A, B] = ['一个女孩在给她的头发做发型。', '一个女孩在梳头。']; // pair 1 of grads.json

describe('sbert explain', () => {
  it("--json: one object with the contract's keys and torch's integrated gradients (the default method)", async () => {
    const run = await sbert(['explain', '--model', MODEL, A, B, '--json']);
    expect(run.code, run.stderr).toBe(0);
    const lines = run.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    const r = JSON.parse(lines[0]!) as Explanation;
    expect(r.method).toBe('integrated_gradients');
    expect(Math.abs(r.similarity - ref(refs, 'cos.1').data[0]!)).toBeLessThanOrEqual(1e-6);
    for (const side of ['a', 'b'] as const) {
      expect(Object.keys(r[side])).toEqual(expect.arrayContaining(['tokens', 'offsets', 'scores']));
      expect(r[side].tokens[0]).toBe('[CLS]');
      expect(r[side].offsets[0]).toEqual([0, 0]);
      expect(maxDiff(r[side].scores, ref(refs, `ig.1.${side}`).data)).toBeLessThanOrEqual(1e-5);
      expect(Math.abs(r.completeness_error![side])).toBeLessThanOrEqual(1e-4);
    }
  });

  it('--method gradient_x_input and attention_rollout (no completeness error for them)', async () => {
    let run = await sbert(['explain', '--model', MODEL, A, B, '--json', '--method', 'gradient_x_input']);
    expect(run.code, run.stderr).toBe(0);
    let r = JSON.parse(run.stdout) as Explanation;
    expect(maxDiff(r.a.scores, ref(refs, 'gxi.1.a').data)).toBeLessThanOrEqual(1e-6);
    expect(r.completeness_error).toBeUndefined();
    run = await sbert(['explain', '--model', MODEL, A, B, '--json', '--method', 'attention_rollout']);
    expect(run.code, run.stderr).toBe(0);
    r = JSON.parse(run.stdout) as Explanation;
    const rollout = ref(refs, 'rollout.1.b');
    expect(maxDiff(r.b.scores, rollout.data.subarray(0, rollout.shape[1]!))).toBeLessThanOrEqual(1e-6);
  });

  it("without --json: the similarity, then each sentence's tokens with their scores", async () => {
    const run = await sbert(['explain', '--model', MODEL, A, B, '--steps', '8']);
    expect(run.code, run.stderr).toBe(0);
    const lines = run.stdout.trim().split('\n');
    expect(lines[0]).toMatch(
      /^similarity 0\.\d{4} {4}integrated gradients {2}· {2}8 steps {2}· {2}completeness error: a [+−]/,
    );
    expect(lines[1]).toBe(`A ${A}`);
    expect(lines[2]).toMatch(/^ +0 {2}\[CLS\]$/); // the baseline keeps [CLS]: its attribution is exactly 0
    expect(lines).toContain(`B ${B}`);
    expect(lines).toHaveLength(3 + 16 + 10); // header, A + 16 tokens, B + 10 tokens
  });

  it("--out FILE.png: every token box drawn in its score's colour on the shared scale", async () => {
    const out = join(TMP, 'pair.png');
    const run = await sbert([
      'explain',
      '--model',
      MODEL,
      A,
      B,
      '--json',
      '--method',
      'gradient_x_input',
      '--out',
      out,
    ]);
    expect(run.code, run.stderr).toBe(0);
    const r = JSON.parse(run.stdout) as Explanation;
    const layout = attributionLayout(r);
    const png = readFileSync(out);
    expect(pngSize(png)).toEqual({ width: layout.width, height: layout.height });
    const px = await decodePng(png);
    for (const side of ['a', 'b'] as const) {
      expect(layout.boxes[side]).toHaveLength(r[side].tokens.length);
      layout.boxes[side].forEach((box, i) => {
        const want = divergingColor(r[side].scores[i]!, layout.scale);
        const got = px.rgba(box.x + 3, box.y + 3); // inside the box, clear of its border and its label
        for (const c of [0, 1, 2]) expect(Math.abs(got[c]! - want[c]!), `${side} token ${i}`).toBeLessThanOrEqual(1);
      });
    }
  });

  it('--out FILE.html: self-contained (nothing fetched), the explanation embedded, each token coloured', async () => {
    const out = join(TMP, 'pair.html');
    const run = await sbert(['explain', '--model', MODEL, A, B, '--json', '--out', out, '--steps', '8']);
    expect(run.code, run.stderr).toBe(0);
    const html = readFileSync(out, 'utf8');
    expect(html).not.toMatch(/https?:\/\/|<link|\bsrc=|@import|url\((?!data:)/);
    // The Chinese needs no installed font: a subset of the PNGs' CJK font is inlined (when the optional packages are).
    const face = /@font-face \{ font-family: 'SbertPageCJK'; src: url\(data:font\/otf;base64,([A-Za-z0-9+/=]+)\)/.exec(
      html,
    );
    if (labelFont().file?.endsWith('.otf')) {
      const font = Buffer.from(face![1]!, 'base64');
      expect(font.subarray(0, 4).toString('latin1')).toBe('OTTO');
      expect(font.length).toBeLessThan(100_000); // the glyphs of one page, not the 8 MB font
    }
    const m = /<script type="application\/json" id="explanation-data">([^<]*)<\/script>/.exec(html);
    const embedded = JSON.parse(m![1]!) as Explanation;
    expect(embedded).toEqual(JSON.parse(run.stdout));
    const spans = [
      ...html.matchAll(/<span class="t" style="background:rgb\((\d+),(\d+),(\d+)\);[^"]*">([^<]*)<\/span>/g),
    ];
    expect(spans.map((s) => s[4])).toEqual([...embedded.a.tokens, ...embedded.b.tokens]);
    const scale = Math.max(...[...embedded.a.scores, ...embedded.b.scores].map(Math.abs));
    const scores = [...embedded.a.scores, ...embedded.b.scores];
    spans.forEach((s, i) => expect([1, 2, 3].map((k) => Number(s[k]))).toEqual(divergingColor(scores[i]!, scale)));
    expect(html).toContain('completeness error');
  });

  it('usage errors exit 1 before any work; bad input exits 2', async () => {
    const cases: [string[], number, RegExp][] = [
      [['--out', join(TMP, 'x.jpg')], 1, /--out must end in \.png or \.html, got/],
      [['--method', 'saliency'], 1, /argument 'saliency' is invalid/],
      [['--method', 'gradient', '--steps', '8'], 1, /--steps applies to integrated_gradients only, not gradient/],
      [['--steps', '0'], 1, /expected a positive integer/],
      [['--steps', '10001'], 1, /steps must be an integer in 1\.\.10000, got 10001/],
      [['--out', join(TMP, 'no', 'such', 'dir', 'x.png')], 2, /cannot write: no such folder .*no[/\\]such[/\\]dir$/],
      [['--out', FOLDER_PNG], 2, /sbert-explain-.*folder\.png: is a folder, expected a file name$/],
    ];
    let run: Awaited<ReturnType<typeof sbert>>;
    for (const [extra, code, message] of cases) {
      // a model that does not exist: each mistake is found before the model is even looked for
      run = await sbert(['explain', '--model', join(TMP, 'missing-model'), A, B, ...extra]);
      expect(run.code, extra.join(' ')).toBe(code);
      expect(errorLine(run)).toMatch(message);
      expect(run.stdout, extra.join(' ')).toBe(''); // refused before any explanation was computed
    }
    // text the tokenizer drops whole, shown with its invisible characters escaped
    run = await sbert(['explain', '--model', MODEL, '\u200b\u00ad', B]);
    expect(run.code).toBe(2);
    expect(errorLine(run)).toBe(
      'error: sentence a ("\\u{200B}\\u{AD}") has no tokens but [CLS] [SEP] once tokenized: nothing to attribute',
    );
    run = await sbert(['explain', '--model', MODEL, A, B, '--max-length', '2']);
    expect(run.code).toBe(2);
    expect(errorLine(run)).toBe(
      'error: a max sequence length of 2 leaves no room for a token besides [CLS] [SEP]: nothing to attribute',
    );
    run = await sbert(['explain', '--model', MODEL, ' ', B]);
    expect(run.code).toBe(2);
    expect(errorLine(run)).toMatch(/S1 is empty: nothing to attribute/);
    run = await sbert(['explain', '--model', join(TMP, 'missing-model'), A, B]);
    expect(run.code).toBe(2);
    expect(errorLine(run)).toMatch(/missing-model/);
  });

  it('--allow-nonfinite is honoured; a NaN then ends the run with one line naming the weights file, nothing printed', async () => {
    const nan = nanModel(TMP);
    let run = await sbert(['explain', '--model', nan, A, B, '--json']);
    expect(run.code).toBe(2);
    expect(errorLine(run)).toMatch(/model\.safetensors: tensor embeddings\.LayerNorm\.weight holds NaN at \[3\]/);
    const out = join(TMP, 'nan.png');
    run = await sbert(['explain', '--model', nan, A, B, '--json', '--allow-nonfinite', '--out', out]);
    expect(run.code).toBe(2);
    expect(errorLine(run)).toBe(
      `error: ${join(nan, 'model.safetensors')}: the embedding of sentence a is not finite (NaN at 0): the model's weights overflow or hold NaN/Inf`,
    );
    expect(run.stdout).toBe('');
    expect(existsSync(out)).toBe(false);
  });

  it("docs/explain.md's commands do what the page says", async () => {
    const doc = readFileSync(join(ROOT, 'docs', 'explain.md'), 'utf8');
    const lines = /```sh\n([\s\S]*?)```/.exec(doc)![1]!.trim().split('\n');
    expect(lines).toHaveLength(3);
    const cwd = mkdtempSync(join(TMP, 'docs-'));
    const args = (line: string): string[] => {
      const words = line.replace(/#.*$/, '').trim().split(/\s+/);
      expect(words.slice(0, 2)).toEqual(['npx', 'sbert']);
      return words.slice(2).map((w) => (w === '../shared/fixtures/tiny/st' ? MODEL : w));
    };
    // 1. a table: the similarity of pair 0 of grads.json, then each sentence's tokens with their IG scores
    let run = await sbert(args(lines[0]!), { cwd });
    expect(run.code, run.stderr).toBe(0);
    const table = run.stdout.trim().split('\n');
    expect(table[0]).toContain(`similarity ${ref(refs, 'cos.0').data[0]!.toFixed(4)}`);
    expect(table[0]).toContain('integrated gradients');
    expect(table[1]).toBe('A 那个人很开心');
    expect(table).toHaveLength(3 + 8 + 9);
    // 2. gradient × input as JSON: torch's
    run = await sbert(args(lines[1]!), { cwd });
    expect(run.code, run.stderr).toBe(0);
    const r = JSON.parse(run.stdout) as Explanation;
    expect(r.method).toBe('gradient_x_input');
    for (const side of ['a', 'b'] as const)
      expect(maxDiff(r[side].scores, ref(refs, `gxi.0.${side}`).data)).toBeLessThanOrEqual(1e-6);
    // 3. the picture, pair.png in the current folder "or pair.html"
    const draw = args(lines[2]!);
    expect(lines[2]).toMatch(/# or pair\.html$/);
    for (const file of ['pair.png', 'pair.html']) {
      run = await sbert(
        draw.map((w) => (w === 'pair.png' ? file : w)),
        { cwd },
      );
      expect(run.code, run.stderr).toBe(0);
    }
    expect(readdirSync(cwd).sort()).toEqual(['pair.html', 'pair.png']); // and no temporary file left
    expect(pngSize(readFileSync(join(cwd, 'pair.png'))).width).toBeGreaterThan(0);
    expect(readFileSync(join(cwd, 'pair.html'), 'utf8')).toContain('id="explanation-data"');
  });
});
