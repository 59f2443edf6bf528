// Every TypeScript example in README.md and docs/*.md runs here, and does what its text says.
//
// How to add one: put `<!-- example: your-name -->` on the line right above the ```ts fence, and add a check
// `'your-name': async (scope) => { ... }` to CHECKS below. The example runs as written, with two substitutions:
// imports of 'sbert-tfjs' and 'sbert-tfjs/internals' bind to src/index.ts and src/internals.ts, and the hub id
// 'uer/sbert-base-chinese-nli' becomes the tiny fixture model (../shared/fixtures/tiny/st: real vocabulary,
// random weights), so examples need no network and run in seconds. Use block indices that model has (2 layers,
// 4 heads, hidden 32). The check gets every top-level name the example declares (`scope.vectors`, ...) and
// must assert the effect the text claims: an example that says it "changes X" is shown to change X, against a
// run without the change. Tensors the example leaves undisposed are freed after its check.
// A ```ts block without a marker, or a marker without a check, fails this file; a marker
// `<!-- example: NAME, run by test/FILE.test.ts -->` hands the block to that test (which must name it), for
// examples that need more than the library (a running server: test/server/docs.test.ts). (Shell examples are
// run by the CLI tests; Python ones need PyTorch.)
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { transformSync } from '@swc/core';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import * as main from '../../src/index.js';
import * as internals from '../../src/internals.js';
import * as server from '../../src/server/index.js';
import { fixture, ROOT } from '../fixtures.js';
import { readRefs, ref } from '../model/helpers.js';
import { EXPLAIN_CHECKS } from './explain-checks.js';
import { type Snippet, snippets, topLevelNames } from './snippets.js';

type Scope = Record<string, unknown>;
const MODULES: Record<string, unknown> = {
  'sbert-tfjs': main,
  'sbert-tfjs/internals': internals,
  'sbert-tfjs/server': server,
};
const HUB_ID = 'uer/sbert-base-chinese-nli';

/** Runs an example as an async function body and returns its top-level names. */
async function run(s: Snippet): Promise<Scope> {
  const ts = s.code.replaceAll(`'${HUB_ID}'`, JSON.stringify(fixture('tiny', 'st')));
  const names = topLevelNames(ts);
  let js = transformSync(ts, {
    filename: 'example.ts',
    jsc: { parser: { syntax: 'typescript' }, target: 'es2022' },
    module: { type: 'es6' },
  }).code;
  js = js.replace(/^import\s+\{([^}]*)\}\s+from\s+'([^']+)';?$/gm, (_, list: string, mod: string) => {
    if (!(mod in MODULES)) throw new Error(`${s.where}: example imports ${mod}`);
    return `const {${list.replace(/\bas\b/g, ':')}} = __modules[${JSON.stringify(mod)}];`;
  });
  js = js.replace(
    /^import\s+\*\s+as\s+(\w+)\s+from\s+'([^']+)';?$/gm,
    (_, name: string, mod: string) => `const ${name} = __modules[${JSON.stringify(mod)}];`,
  );
  if (/^\s*import\s/m.test(js)) throw new Error(`${s.where}: an import the harness does not understand`);
  const AsyncFunction = Object.getPrototypeOf(async () => {}).constructor as new (
    ...args: string[]
  ) => (m: unknown) => Promise<Scope>;
  return new AsyncFunction('__modules', `${js}\nreturn { ${names.join(', ')} };`)(MODULES);
}

const refs = readRefs(fixture('tiny', 'refs.safetensors'));
const H = 32;
const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  expect(a.length).toBe(b.length);
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i]! - b[i]!));
  return d;
};
const row = (name: string, i: number): Float32Array =>
  (ref(refs, name).data as Float32Array).subarray(i * H, (i + 1) * H);
const values = async (t: unknown): Promise<Float32Array> => (await (t as tf.Tensor).data()) as Float32Array;

/** One check per example name: the claims of the text around it. */
const CHECKS: Record<string, (scope: Scope) => Promise<void>> = {
  'readme-library': async ({ vectors, tokens, similarity, corpus, hits, sts }) => {
    // the vectors are sentence-transformers' (st.mean of the fixture: the same two sentences)
    const v = vectors as Float32Array[];
    expect(v).toHaveLength(2);
    for (const i of [0, 1]) expect(maxDiff(v[i]!, row('st.mean', i))).toBeLessThanOrEqual(1e-5);
    // one [hidden] row per token of 那个人很开心: [CLS] + 6 characters + [SEP]
    expect((tokens as Float32Array[][])[0]).toHaveLength(8);
    const sim = similarity as number[][];
    expect(sim[0]![0]).toBeCloseTo(1, 6);
    expect(sim[0]![1]).toBeCloseTo(main.cosine(v[0]!, v[1]!), 6);
    const h = hits as { corpusId: number; score: number }[][];
    expect(h).toHaveLength(2);
    expect(h[0]!.map((x) => x.score)).toEqual([...h[0]!.map((x) => x.score)].sort((a, b) => b - a)); // best first
    expect(h[0]).toHaveLength(2);
    // two pairs: Pearson of cosine vs gold is ±1, the sign of the two cosines' order against the gold scores'
    const c = corpus as Float32Array[];
    const r = sts as main.StsResult;
    expect(r.pairs).toBe(2);
    expect(r.cosine.pearson).toBeCloseTo(Math.sign(main.cosine(v[0]!, c[0]!) - main.cosine(v[1]!, c[1]!)), 6);
  },
  'readme-internals': async (s) => {
    const enc = s.enc as main.SentenceEncoder;
    const inputs = s.inputs as internals.BertInputs;
    const [B, L] = inputs.inputIds.shape;
    expect((s.pattern as tf.Tensor).shape).toEqual([B, 4, L, L]);
    // softmax rows sum to 1 over the keys
    const p = await values(s.pattern);
    for (let r = 0; r < B * 4 * L; r++)
      expect(p.subarray(r * L, (r + 1) * L).reduce((a, x) => a + x, 0)).toBeCloseTo(1, 5);
    expect((s.q as tf.Tensor).shape).toEqual([B, L, 4, 8]);
    expect((s.scale as tf.Tensor).shape).toEqual([B, L, 1]);
    // the hidden state of the cached run is HF's (hidden_states.2 of the fixture, sentence 0)
    const out = s.output as internals.BertModelOutput;
    const last = await values(out.lastHiddenState);
    expect(maxDiff(last, (ref(refs, 'last_hidden_state').data as Float32Array).subarray(0, L * H))).toBeLessThanOrEqual(
      1e-5,
    );
    // knocking out block 1's MLP changes the last hidden state; ablating a head does too
    expect(maxDiff(await values((s.knockedOut as internals.BertModelOutput).lastHiddenState), last)).toBeGreaterThan(
      1e-2,
    );
    expect(maxDiff(await values((s.ablated as internals.BertModelOutput).lastHiddenState), last)).toBeGreaterThan(1e-3);
    // and the old example's claim does not hold: scaling hook_resid_mid by 0.5 is undone by ln1 (scale-invariant)
    const halved = internals.runWithHooks(enc.model, inputs, {
      'blocks.1.hook_resid_mid': (t) => internals.tf.mul(t, 0.5),
    });
    expect(maxDiff(await values(halved.lastHiddenState), last)).toBeLessThan(1e-4);
    halved.lastHiddenState.dispose();
    (s.cache as internals.ActivationCache).dispose();
    await enc.dispose();
  },
  ...EXPLAIN_CHECKS,
  'explorer-server': async ({ page, similarity, layers, ablated, explanation }) => {
    const [a, b] = ['那个人很开心', '那个人非常开心'];
    expect(page as string).toMatch(/<title>sbert-tfjs explorer<\/title>[\s\S]*src="ui\/app.js"/);
    // the backend the example's server took (`auto`, in this process: tensorflow where tfjs-node is built)
    const enc = await main.SentenceEncoder.load(fixture('tiny', 'st'));
    try {
      // `sbert similarity`'s value; hidden_states 0..2 of the 2-layer model; the ablated heads' own numbers
      const [va, vb] = await enc.encode([a, b]);
      expect(Math.abs((similarity as number) - main.cosine(va!, vb!))).toBeLessThanOrEqual(1e-6);
      expect(layers as number[]).toHaveLength(3);
      const abl = ablated as { similarity: number; layers: number[]; heads: unknown[] };
      expect(abl.heads).toEqual([{ layer: 1, head: 2 }]);
      expect(abl.layers.slice(0, 2)).toEqual((layers as number[]).slice(0, 2)); // before layer 1: unchanged
      expect(Math.abs(abl.similarity - (similarity as number))).toBeGreaterThan(1e-4);
      // explain()'s result, as JSON
      const want = JSON.parse(JSON.stringify(await main.explain(enc, a, b, { method: 'gradient_x_input' })));
      expect(explanation).toEqual(want);
    } finally {
      await enc.dispose();
    }
  },
};

const all = snippets();

describe('documentation examples', () => {
  it('every ```ts block has an example marker, and every marker a check', () => {
    expect(all.length).toBeGreaterThan(0);
    for (const s of all) {
      expect(s.name, `${s.where}: add <!-- example: NAME --> above the fence`).toBeDefined();
      if (s.runBy) {
        // Run by a test of its own, which must exist and name it.
        const file = join(ROOT, s.runBy);
        expect(
          existsSync(file) && readFileSync(file, 'utf8').includes(`'${s.name}'`),
          `${s.where}: ${s.runBy} does not run "${s.name}"`,
        ).toBe(true);
        continue;
      }
      expect(CHECKS[s.name!], `${s.where}: no check "${s.name}" in test/docs/examples.test.ts`).toBeDefined();
    }
    expect(new Set(all.map((s) => s.name)).size).toBe(all.length);
  });

  for (const s of all.filter((x) => x.name && !x.runBy && CHECKS[x.name])) {
    it(`${s.name} (${s.where}) runs and does what it says`, async () => {
      tf.engine().startScope();
      try {
        await CHECKS[s.name!]!(await run(s));
      } finally {
        tf.engine().endScope();
      }
    });
  }
});
