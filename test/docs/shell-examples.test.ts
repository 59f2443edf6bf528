// The shell examples of README.md and docs/*.md, as written. Every ```sh block carries a marker on the line above
// its fence: `<!-- example: NAME -->` (run here, in a scratch folder laid out like a checkout: ../shared beside it,
// the repository's scripts/, `npx sbert` = the built CLI), `<!-- example: NAME, run by test/FILE -->` (another
// test runs it), or `<!-- not run: REASON -->` (what a test cannot do: build TensorFlow from a wheel, a lent GPU,
// a ten-minute benchmark). docs/serve.md and the README's server section are run whole by
// test/server/docs.test.ts. Each check asserts what the text around its example says the commands do.
import { type ChildProcess, execFile, spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SentenceEncoder } from '../../src/encoder/sentence-encoder.js';
import { cosine } from '../../src/encoder/similarity.js';
import { readSafetensors } from '../../src/loader/safetensors.js';
import { loadTokenizer } from '../../src/tokenizer/index.js';
import { colorOf } from '../../src/viz/colormap.js';
import { heatmapLayout } from '../../src/viz/heatmap.js';
import { selectPanels } from '../../src/viz/maps.js';
import { CORPUS, FIXTURES, fixture, ROOT } from '../fixtures.js';
import { readRefs, ref } from '../model/helpers.js';
import { maxDiff } from '../values.js';
import { decodePng, embeddedData, pngSize, referenceMaps } from '../viz/helpers.js';
import { docFiles, type ShellBlock, shellBlocks } from './snippets.js';

/** Where test/server/docs.test.ts runs every shell block (it fails on one it cannot run). */
const RUN_BY_SERVER_DOCS = (b: ShellBlock) =>
  b.file === 'docs/serve.md' || (b.file === 'README.md' && b.section === 'Server');

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

/** A scratch folder that looks like a checkout: `../shared` (the fixtures and corpus), `scripts/`. */
function checkout(): string {
  const top = mkdtempSync(join(tmpdir(), 'sbert-doc-sh-'));
  mkdirSync(join(top, 'shared'));
  symlinkSync(FIXTURES, join(top, 'shared', 'fixtures'));
  if (existsSync(CORPUS)) symlinkSync(CORPUS, join(top, 'shared', 'corpus'));
  const repo = join(top, 'repo');
  mkdirSync(repo);
  symlinkSync(join(ROOT, 'scripts'), join(repo, 'scripts'));
  return repo;
}

// `npx sbert` is the built CLI, as in a checkout after `npm run build`; any other npx would be a surprise.
const PRELUDE = `npx() { if [ "$1" = sbert ]; then shift; $SBERT_EXEC "$SBERT_NODE" "$SBERT_CLI" "$@"; \
else echo "npx $1: not a command the examples use" >&2; return 127; fi; }
`;

function env(exec: boolean): NodeJS.ProcessEnv {
  return {
    ...process.env,
    SBERT_PROGRESS: '0',
    SBERT_QUIET: '1',
    SBERT_NODE: process.execPath,
    SBERT_CLI: join(ROOT, 'bin', 'sbert.js'),
    SBERT_EXEC: exec ? 'exec' : '',
  };
}

/** The block's commands: `\`-continuations joined, comment lines dropped. */
function commands(b: ShellBlock): string[] {
  return b.code
    .replace(/\\\n\s*/g, '')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
}

function sh(cmd: string, cwd: string): Promise<Result> {
  return new Promise((resolve) => {
    execFile(
      'bash',
      ['-c', PRELUDE + cmd],
      { cwd, env: env(false), timeout: 180_000, maxBuffer: 1 << 26 },
      (err, stdout, stderr) =>
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr }),
    );
  });
}

/** Runs every command of a named block in `cwd`; each must exit 0. */
async function runBlock(name: string, cwd: string): Promise<Result[]> {
  const block = shellBlocks().find((b) => b.name === name);
  if (!block) throw new Error(`no shell example named ${name}`);
  const out: Result[] = [];
  for (const cmd of commands(block)) {
    const r = await sh(cmd, cwd);
    expect(r.code, `${block.where}: ${cmd}\n${r.stderr}`).toBe(0);
    out.push(r);
  }
  return out;
}

interface Server {
  child: ChildProcess;
  url: string;
  stop(): Promise<number | string>;
}

/**
 * A server command of an example, on a free port (`--port 0` instead of the doc's port, so that tests in
 * parallel do not collide): waits for the URL it prints (`explore` on stdout) or logs (`serve`: "listening on").
 */
async function startServer(cmd: string, cwd: string): Promise<Server> {
  const line = `${cmd.replace(/\s--port\s+\d+/, '')} --port 0`;
  const child = spawn('bash', ['-c', PRELUDE + line], { cwd, env: { ...env(true), SBERT_QUIET: '0' } });
  let out = '';
  let err = '';
  const exited = new Promise<number | string>((resolve) => child.on('exit', (c, s) => resolve(c ?? s ?? -1)));
  const url = await new Promise<string>((resolve, reject) => {
    const look = () => {
      const m = /^(http:\/\/\S+\/)$/m.exec(out) ?? /listening on (http:\/\/\S+)/.exec(err);
      if (m && /^sbert: ready: /m.test(err + out)) resolve(m[1]!.replace(/\/$/, ''));
      else if (m && /^http/m.test(out)) resolve(m[1]!.replace(/\/$/, ''));
    };
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      look();
    });
    child.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
      look();
    });
    void exited.then((c) => reject(new Error(`${line} exited (${c}): ${err}`)));
  });
  return {
    child,
    url,
    stop: async () => {
      child.kill('SIGTERM');
      return exited;
    },
  };
}

const python = spawnSync('python3', ['-c', 'import torch, transformers, safetensors'], { encoding: 'utf8' });
const pythonWhy =
  python.status === 0
    ? undefined
    : `python3 with torch, transformers and safetensors is not available (${(python.stderr || python.error?.message || '').trim().split('\n').pop()}): .ci/run installs them from pip's mirror`;
if (pythonWhy && process.env.SBERT_TEST_TORCH === 'required')
  throw new Error(`SBERT_TEST_TORCH=required, but ${pythonWhy}`);
if (pythonWhy) process.stderr.write(`shell-examples: dump_reference.py examples skipped: ${pythonWhy}\n`);

/** Tensor names and shapes of a safetensors file, in file order. */
function shapes(file: string): Record<string, number[]> {
  return Object.fromEntries([...readSafetensors(file).tensors].map(([k, t]) => [k, t.shape]));
}

const TINY_KEYS = (B: number, L: number) => ({
  input_ids: [B, L],
  attention_mask: [B, L],
  token_type_ids: [B, L],
  ...Object.fromEntries([0, 1, 2].map((i) => [`hidden_states.${i}`, [B, L, 32]])),
  ...Object.fromEntries([0, 1].map((i) => [`attentions.${i}`, [B, 4, L, L]])),
  ...Object.fromEntries(
    [0, 1].flatMap((i) => [
      [`layer.${i}.query`, [B, L, 32]],
      [`layer.${i}.attention_output`, [B, L, 32]],
      [`layer.${i}.intermediate`, [B, L, 64]],
    ]),
  ),
  last_hidden_state: [B, L, 32],
  ...Object.fromEntries(['mean', 'cls', 'max', 'mean_sqrt_len', 'mean_normalized'].map((p) => [`pool.${p}`, [B, 32]])),
});

describe('shell examples in README.md and docs/', () => {
  it('every ```sh block is run by a test, or says why not', () => {
    const blocks = shellBlocks();
    expect(blocks.length).toBeGreaterThanOrEqual(20);
    const here = new Set(Object.keys(CHECKS));
    for (const b of blocks) {
      if (RUN_BY_SERVER_DOCS(b)) continue;
      const claim = b.name ?? (b.notRun ? 'not run' : undefined);
      expect(claim, `${b.where}: a shell block needs <!-- example: NAME --> or <!-- not run: REASON -->`).toBeDefined();
      if (b.notRun) expect(b.notRun.length, `${b.where}: say why it is not run`).toBeGreaterThan(10);
      else if (b.runBy) {
        const test = readFileSync(join(ROOT, b.runBy), 'utf8');
        expect(test, `${b.where}: ${b.runBy} must name the doc it runs`).toContain(b.file);
      } else expect(here, `${b.where}: no check named ${b.name} in test/docs/shell-examples.test.ts`).toContain(b.name);
    }
    // and every check here has its example
    const named = new Set(blocks.map((b) => b.name));
    for (const name of here) expect(named, `check ${name} has no example`).toContain(name);
    expect(docFiles()).toContain('README.md');
  });

  const repo = checkout();
  for (const [name, check] of Object.entries(CHECKS)) {
    const skip = name === 'dump-reference' ? pythonWhy : undefined;
    it.skipIf(!!skip)(`${name} runs and does what its text says`, () => check(repo), 600_000);
  }

  it.skipIf(!!pythonWhy)(
    "dump_reference.py on the tiny model with its refs.json inputs reproduces the fixture's files",
    async () => {
      const dir = mkdtempSync(join(tmpdir(), 'sbert-dumpref-'));
      const meta = JSON.parse(readFileSync(fixture('tiny', 'refs.json'), 'utf8')) as {
        sentences: string[];
        pairs: [string, string][];
        long_text: string;
      };
      writeFileSync(join(dir, 'long.txt'), meta.long_text);
      const args = [
        join(ROOT, 'scripts', 'dump_reference.py'),
        fixture('tiny', 'st'),
        '--out',
        join(dir, 'ref.safetensors'),
        ...meta.sentences,
        ...meta.pairs.flatMap(([a, b]) => ['--pair', a, b]),
        '--long',
        join(dir, 'long.txt'),
        '--rounded',
        'fp16',
        'bf16',
      ];
      const r = spawnSync('python3', args, { encoding: 'utf8', timeout: 300_000 });
      expect(r.status, r.stderr).toBe(0);
      const ours = readSafetensors(join(dir, 'ref.safetensors')).tensors;
      const want = new Map([
        ...readSafetensors(fixture('tiny', 'refs.safetensors')).tensors,
        ...readSafetensors(fixture('tiny', 'refs_long.safetensors')).tensors,
      ]);
      expect([...ours.keys()].sort()).toEqual([...want.keys()].sort());
      const refs = readRefs(join(dir, 'ref.safetensors'));
      const fix = new Map([
        ...readRefs(fixture('tiny', 'refs.safetensors')),
        ...readRefs(fixture('tiny', 'refs_long.safetensors')),
      ]);
      for (const [k, t] of want) {
        expect(ours.get(k)!.shape, k).toEqual(t.shape);
        if (k.startsWith('st.')) {
          // sentence-transformers' own forward: torch 2.13 here, 2.11 made the fixture (5.4e-7 measured)
          expect(maxDiff(ref(refs, k).data, ref(fix, k).data), k).toBeLessThanOrEqual(1e-6);
        } else if (!Buffer.from(ours.get(k)!.bytes).equals(Buffer.from(t.bytes))) {
          // Bit for bit on the CPU that made the fixture; torch's kernels round differently on another CPU
          // (an AMD EPYC with AVX2: ≤ 2.5e-6, 2026-12-01). Ids and masks are integers: exact either way.
          expect(maxDiff(ref(refs, k).data, ref(fix, k).data), `${k}: float32 rounding only`).toBeLessThanOrEqual(1e-5);
        }
      }
    },
    600_000,
  );
});

const CHECKS: Record<string, (repo: string) => Promise<void>> = {
  // docs/attention.md: a grid of every head of layer 1, one head large, and the interactive page; PyTorch's maps.
  'attention-cli': async (repo) => {
    await runBlock('attention-cli', repo);
    const ref = referenceMaps(0); // 那个人很开心 is sentence 0 of tiny/refs.safetensors
    const grid = heatmapLayout(ref.tokens, selectPanels(ref, { layer: 1 }));
    expect(grid.grids).toHaveLength(4);
    expect(pngSize(readFileSync(join(repo, 'attention.png')))).toEqual({ width: grid.width, height: grid.height });
    const panels = selectPanels(ref, { layer: 1, head: 2 });
    const one = heatmapLayout(ref.tokens, panels);
    expect(one.grids).toHaveLength(1);
    const png = readFileSync(join(repo, 'head.png'));
    expect(pngSize(png)).toEqual({ width: one.width, height: one.height });
    const px = await decodePng(png);
    const n = ref.tokens.length;
    for (let q = 0; q < n; q++) {
      for (let k = 0; k < n; k++) {
        const got = px.rgba(one.grids[0]!.x + k * one.cell + 20, one.grids[0]!.y + q * one.cell + 20);
        const want = colorOf(panels[0]!.values[q * n + k]!);
        for (let c = 0; c < 3; c++) expect(Math.abs(got[c]! - want[c]!)).toBeLessThanOrEqual(1);
      }
    }
    const html = readFileSync(join(repo, 'view.html'), 'utf8');
    expect(html).not.toMatch(/https?:\/\//); // works offline
    const data = embeddedData(html);
    expect(data.tokens).toEqual(ref.tokens);
    expect(data.attention.map((l) => l.length)).toEqual([4, 4]); // all layers and heads
    let worst = 0;
    for (let l = 0; l < 2; l++)
      for (let h = 0; h < 4; h++)
        for (let q = 0; q < n; q++)
          for (let k = 0; k < n; k++)
            worst = Math.max(worst, Math.abs(data.attention[l]![h]![q]![k]! - ref.layers[l]![(h * n + q) * n + k]!));
    expect(worst).toBeLessThanOrEqual(6e-5); // the page carries 4 decimals
  },

  // docs/compare.md §1: a reference file with the documented keys, the sentences in its metadata.
  'dump-reference': async (repo) => {
    await runBlock('dump-reference', repo);
    const file = join(repo, 'ref.safetensors');
    const L = 9; // 那个人非常开心: [CLS] + 7 + [SEP]
    // st.*: sentence-transformers reads the HF folder as a mean-pooling model
    expect(shapes(file)).toEqual({ ...TINY_KEYS(3, L), 'st.mean': [3, 32], 'st.mean_normalized': [3, 32] });
    expect(JSON.parse(readSafetensors(file).metadata.sentences!)).toEqual([
      '那个人很开心',
      '那个人非常开心',
      '今天天气真好',
    ]);
  },

  // docs/compare.md §2: the table ends in the "ok" summary, exit 0; --json says ok for every tensor.
  'compare-cli': async (repo) => {
    // Without Python (dump-reference skipped) the fixture's reference stands in for the file it would write.
    if (!existsSync(join(repo, 'ref.safetensors')))
      copyFileSync(fixture('tiny', 'refs.safetensors'), join(repo, 'ref.safetensors'));
    const [table, json] = await runBlock('compare-cli', repo);
    const lines = table!.stdout.trimEnd().split('\n');
    expect(lines[2]).toMatch(/^tensor\s+shape\s+max abs\s+mean abs\s+tolerance\s+status/);
    expect(lines.at(-1)).toMatch(/^ok: \d+ tensors from ref\.safetensors within tolerance$/);
    if (!pythonWhy) {
      // The output the doc shows: its lines, but for the measured columns (max abs, mean abs, worst index).
      const shown = shellBlocks()
        .find((b) => b.name === 'compare-cli')!
        .output!.split('\n');
      const cols = (l: string) => {
        const c = l.split(/\s{2,}/);
        return c.length >= 7 ? [c[0], c[1], c[4], c[5]] : [l.replace(/^model \S+/, 'model (the folder, resolved)')];
      };
      const byName = new Map(lines.map((l) => [l.split(/\s/)[0], l]));
      expect(shown.length).toBeGreaterThan(8);
      for (const l of shown) {
        if (l === '...') continue;
        const got = l === '' ? l : byName.get(l.split(/\s/)[0]);
        expect(got === undefined ? undefined : cols(got), l).toEqual(cols(l));
      }
      expect(lines.at(-1)).toBe(shown.at(-1));
    }
    const report = JSON.parse(json!.stdout) as {
      ok: boolean;
      tensors: Record<string, { ok: boolean; max_abs: number }>;
    };
    expect(report.ok).toBe(true);
    expect(Object.keys(report.tensors)).toContain('hidden_states.2');
    for (const [k, t] of Object.entries(report.tensors)) {
      expect(t.ok, k).toBe(true);
      expect(t.max_abs, k).toBeLessThanOrEqual(2e-5);
    }
  },

  // docs/compare.md §3: every tensor of one padded batch; then the named families and hook points only.
  'dump-cli': async (repo) => {
    await runBlock('dump-cli', repo);
    const L = 9;
    expect(shapes(join(repo, 'ours.safetensors'))).toEqual(TINY_KEYS(2, L));
    // what it computed: PyTorch's last hidden state of the same two sentences (fixture sentences 0 and 1)
    const ours = readRefs(join(repo, 'ours.safetensors'));
    const fix = readRefs(fixture('tiny', 'refs.safetensors'));
    const mask = ref(ours, 'attention_mask').data;
    const FL = ref(fix, 'input_ids').shape[1]!;
    let worst = 0;
    for (let b = 0; b < 2; b++)
      for (let t = 0; t < L; t++) {
        if (!mask[b * L + t]) continue;
        for (let d = 0; d < 32; d++) {
          const got = ref(ours, 'last_hidden_state').data[(b * L + t) * 32 + d]!;
          worst = Math.max(worst, Math.abs(got - ref(fix, 'last_hidden_state').data[(b * FL + t) * 32 + d]!));
        }
      }
    expect(worst).toBeLessThanOrEqual(1e-5);
    const some = shapes(join(repo, 'some.safetensors'));
    const L3 = 10; // 一个人在弹竖琴。
    expect(some).toEqual({
      input_ids: [3, L3],
      attention_mask: [3, L3],
      token_type_ids: [3, L3],
      'hidden_states.0': [3, L3, 32],
      'hidden_states.1': [3, L3, 32],
      'attentions.1': [3, 4, L3, L3],
      'hidden_states.2': [3, L3, 32],
      'pool.mean': [3, 32],
      'blocks.1.attn.hook_attn_scores': [3, 4, L3, L3],
      'blocks.1.mlp.hook_pre': [3, L3, 64],
    });
  },

  // docs/explain.md: the default (integrated gradients) as a table, gradient × input as JSON, a picture.
  'explain-cli': async (repo) => {
    const [table, json] = await runBlock('explain-cli', repo);
    const grads = readRefs(fixture('tiny', 'grads.safetensors')); // torch, float64: pair 0 is these two sentences
    const cos = ref(grads, 'cos.0').data[0]!;
    expect(table!.stdout.split('\n')[0]).toMatch(
      new RegExp(`^similarity ${cos.toFixed(4)}\\s+integrated gradients · 52 steps`.replace(/ · /g, '\\s+·\\s+')),
    );
    const rows = table!.stdout.split('\n').filter((l) => /^\s+\S+\s+\S+$/.test(l));
    expect(rows.map((l) => l.trim().split(/\s+/)[1])).toEqual([
      ...['[CLS]', '那', '个', '人', '很', '开', '心', '[SEP]'],
      ...['[CLS]', '那', '个', '人', '非', '常', '开', '心', '[SEP]'],
    ]);
    const r = JSON.parse(json!.stdout) as { method: string; a: { scores: number[] }; b: { scores: number[] } };
    expect(r.method).toBe('gradient_x_input');
    expect(maxDiff(r.a.scores, ref(grads, 'gxi.0.a').data)).toBeLessThanOrEqual(1e-5);
    expect(maxDiff(r.b.scores, ref(grads, 'gxi.0.b').data)).toBeLessThanOrEqual(1e-5);
    expect(pngSize(readFileSync(join(repo, 'pair.png'))).width).toBeGreaterThan(100);
  },

  // README and docs/explorer.md: `explore` prints the page's URL; `serve --ui` adds the page to the full server.
  'explore-cli': async (repo) => {
    const block = shellBlocks().find((b) => b.name === 'explore-cli')!;
    await servesExplorer(commands(block), repo, false);
  },
  'explorer-cli': async (repo) => {
    const block = shellBlocks().find((b) => b.name === 'explorer-cli')!;
    const [explore, serve] = commands(block);
    await servesExplorer([explore!], repo, false);
    await servesExplorer([serve!], repo, true);
  },

  // docs/multilingual.md: similarity on XLM-R's tokenizer, the tokenizer keeping <mask> whole, compare passing.
  'multilingual-cli': async (repo) => {
    const [sim, tok, cmp] = await runBlock('multilingual-cli', repo);
    const texts = ['那个人很开心', '那个人非常开心', 'The weather is lovely today.'];
    const enc = await SentenceEncoder.load(fixture('xlmr', 'xlmr-tiny', 'st'), { workers: 1 });
    try {
      const [first, ...rest] = await enc.encode(texts);
      const want = [texts[0], ...rest.map((v, i) => `  ${cosine(first!, v).toFixed(4)}  ${texts[i + 1]}`), ''];
      expect(sim!.stdout).toBe(want.join('\n'));
    } finally {
      await enc.dispose();
    }
    const got = JSON.parse(tok!.stdout) as { tokens: string[]; input_ids: number[] };
    expect(got.tokens).toContain('<mask>');
    const tokenizer = loadTokenizer(fixture('xlmr', 'xlmr-tiny', 'hf'));
    expect(got.input_ids).toEqual(tokenizer.encode('Paris is the <mask> of France.').inputIds);
    expect(cmp!.stdout.trimEnd().split('\n').at(-1)).toMatch(
      /^ok: \d+ tensors from .*refs\.safetensors within tolerance$/,
    );
  },
};

async function servesExplorer(cmds: string[], repo: string, fullServer: boolean): Promise<void> {
  expect(cmds).toHaveLength(1);
  const server = await startServer(cmds[0]!, repo);
  try {
    const page = await fetch(`${server.url}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await page.text();
    expect(html).toMatch(/<title>sbert-tfjs explorer<\/title>/);
    expect(html).not.toMatch(/https?:\/\//); // every asset from the server itself
    const app = await fetch(`${server.url}/ui/app.js`);
    expect(app.status).toBe(200);
    const [a, b] = ['那个人很开心', '那个人非常开心'];
    const sim = await fetch(`${server.url}/explorer/similarity`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ a, b }),
    });
    expect(sim.status).toBe(200);
    const enc = await SentenceEncoder.load(fixture('tiny', 'st'), { workers: 1 });
    try {
      const [va, vb] = await enc.encode([a, b]);
      expect(
        Math.abs(((await sim.json()) as { similarity: number }).similarity - cosine(va!, vb!)),
      ).toBeLessThanOrEqual(1e-6);
    } finally {
      await enc.dispose();
    }
    const embed = await fetch(`${server.url}/v1/embeddings`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ input: '那个人很开心' }),
    });
    // `serve --ui` is the whole server (OpenAI / TEI APIs) with the page added
    if (fullServer) expect(embed.status).toBe(200);
  } finally {
    expect(await server.stop()).toBe(0);
  }
}
