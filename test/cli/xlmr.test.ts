// Every `sbert` command on XLM-R folders (built CLI in a child process): tokenize, encode, similarity, compare,
// dump, attention, inspect, synth; and the errors for model types we do not run.
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readSafetensors } from '../../src/loader/safetensors.js';
import { decodeFloat32 } from '../../src/loader/dtype.js';
import { errorLine, sbert } from '../cli.js';
import { fixture, ROOT } from '../fixtures.js';
import type { Case } from '../tokenizer/cases.js';
import { maxDiff } from '../values.js';

const XLMR = (...p: string[]): string => fixture('xlmr', ...p);
const tmp = mkdtempSync(join(tmpdir(), 'sbert-xlmr-cli-'));
const refsMeta = JSON.parse(readFileSync(XLMR('xlmr-tiny', 'refs.json'), 'utf8')) as { sentences: string[] };

function refRows(file: string, key: string): Float32Array[] {
  const t = readSafetensors(file).tensors.get(key)!;
  const data = decodeFloat32(t.bytes, t.dtype, file, key);
  const [n, d] = t.shape as [number, number];
  return Array.from({ length: n }, (_, i) => data.slice(i * d, (i + 1) * d));
}

describe('sbert on XLM-R models', () => {
  it('tokenize: HF 5.17 ids, tokens and code-point offsets; pairs as <s> A </s></s> B </s>', async () => {
    const cases = readFileSync(XLMR('tokenizer', 'cases.jsonl'), 'utf8')
      .split('\n')
      .filter((l) => l)
      .slice(0, 120)
      .map((l) => JSON.parse(l) as Case);
    const r = await sbert(['tokenize', '--model', XLMR('xlmr-tiny', 'hf')], {
      input: cases.map((c) => JSON.stringify(c.text)).join('\n') + '\n',
    });
    expect(r.code).toBe(0);
    const out = r.stdout
      .split('\n')
      .filter((l) => l)
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    cases.forEach((c, i) => {
      expect(out[i], c.text).toEqual({
        input_ids: c.input_ids,
        token_type_ids: c.input_ids.map(() => 0),
        attention_mask: c.input_ids.map(() => 1),
        tokens: c.tokens,
        offsets: c.offsets,
      });
    });
    const p = await sbert(['tokenize', '--model', XLMR('xlmr-tiny', 'hf'), '--pairs', '--max-length', '5'], {
      input: '{"a": "a", "b": "b"}\n',
    });
    expect(JSON.parse(p.stdout).input_ids).toEqual([0, 2, 2, 4, 2]); // pairs.json: ("a", "b") at max_length 5
  });

  it('encode and similarity: sentence-transformers vectors (mean + Normalize) from the st/ folder', async () => {
    const r = await sbert(['encode', '--model', XLMR('xlmr-tiny', 'st'), '--input-format', 'jsonl'], {
      input: refsMeta.sentences.map((s) => JSON.stringify(s)).join('\n') + '\n',
    });
    expect(r.code).toBe(0);
    const got = r.stdout
      .split('\n')
      .filter((l) => l)
      .map((l) => (JSON.parse(l) as { embedding: number[] }).embedding);
    const want = refRows(XLMR('xlmr-tiny', 'refs.safetensors'), 'st.mean_normalized');
    expect(got.length).toBe(want.length);
    expect(Math.max(...got.map((g, i) => maxDiff(g, want[i]!)))).toBeLessThanOrEqual(1e-5);
    const s = await sbert([
      'similarity',
      '--model',
      XLMR('xlmr-tiny', 'st'),
      '--json',
      refsMeta.sentences[0]!,
      refsMeta.sentences[2]!,
    ]);
    expect(s.code).toBe(0);
    const dot = want[0]!.reduce((a, v, j) => a + v * want[2]![j]!, 0); // cosine of unit vectors
    const score = (JSON.parse(s.stdout) as { similarities: { score: number }[] }).similarities[0]!.score;
    expect(Math.abs(score - dot)).toBeLessThanOrEqual(1e-5);
  });

  it('compare: every tensor of the bin/ checkpoint (roberta. prefix) within tolerance, position ids exact', async () => {
    const r = await sbert([
      'compare',
      '--model',
      XLMR('xlmr-tiny', 'bin'),
      '--reference',
      XLMR('xlmr-tiny', 'refs.safetensors'),
      '--json',
    ]);
    expect(r.code).toBe(0);
    const rep = JSON.parse(r.stdout) as { ok: boolean; tensors: Record<string, { max_abs: number }> };
    expect(rep.ok).toBe(true);
    expect(rep.tensors.position_ids!.max_abs).toBe(0);
    expect(rep.tensors['st.cls_normalized']!.max_abs).toBeLessThanOrEqual(1e-5);
    expect(Object.keys(rep.tensors).length).toBe(24);
  });

  it('compare names a wrong position offset: BERT positions on an XLM-R checkpoint fail at position_ids', async () => {
    const dir = join(tmp, 'as-bert');
    const cfg = JSON.parse(readFileSync(XLMR('xlmr-tiny', 'hf', 'config.json'), 'utf8')) as Record<string, unknown>;
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      join(dir, 'config.json'),
      JSON.stringify({ ...cfg, model_type: 'bert', architectures: ['BertModel'] }),
    );
    copyFileSync(XLMR('xlmr-tiny', 'hf', 'model.safetensors'), join(dir, 'model.safetensors'));
    const r = await sbert(['compare', '--model', dir, '--reference', XLMR('xlmr-tiny', 'refs.safetensors'), '--json']);
    expect(r.code).toBe(3);
    const rep = JSON.parse(r.stdout) as { ok: boolean; tensors: Record<string, { max_abs: number }> };
    expect(rep.tensors.position_ids!.max_abs).toBe(2); // HF's ids start at padding_idx + 1 = 2
    expect(rep.tensors['hidden_states.0']!.max_abs).toBeGreaterThan(1e-2);
  });

  it('dump then compare: our activations round-trip; attention draws; inspect names the type', async () => {
    const out = join(tmp, 'dump.safetensors');
    const d = await sbert(['dump', '--model', XLMR('xlmr-tiny', 'hf'), '--out', out, 'Hello world', '你好，世界']);
    expect(d.code).toBe(0);
    const c = await sbert(['compare', '--model', XLMR('xlmr-tiny', 'hf'), '--reference', out, '--json']);
    expect(c.code).toBe(0);
    expect((JSON.parse(c.stdout) as { ok: boolean }).ok).toBe(true);
    const a = await sbert([
      'attention',
      '--model',
      XLMR('xlmr-tiny', 'hf'),
      'Paris is the <mask> of France.',
      '--out',
      join(tmp, 'a.html'),
    ]);
    expect(a.code).toBe(0);
    const html = readFileSync(join(tmp, 'a.html'), 'utf8');
    expect(html).toContain('"tokens":["\\u003cs>","▁","P","ar","is","▁","is","▁the","\\u003cmask>","▁","of"');
    const i = await sbert(['inspect', XLMR('xlmr-tiny', 'bin')]);
    expect(i.stdout).toContain('xlm-roberta (XLMRobertaModel, padding_idx 1)');
    expect(i.stdout).toContain('roberta.pooler.dense.weight → pooler.dense.weight');
  });

  it('synth --config of an XLM-R or a BERT config writes a model that loads and runs', async () => {
    for (const [name, config] of [
      ['xlmr', XLMR('xlmr-tiny', 'hf', 'config.json')],
      ['bert', XLMR('bert-xlmr-tok', 'st', 'config.json')],
    ] as const) {
      const dir = join(tmp, `synth-${name}`);
      const s = await sbert(['synth', '--config', config, '--out', dir]);
      expect(s.code).toBe(0);
      for (const f of ['sentencepiece.bpe.model', 'tokenizer_config.json'])
        copyFileSync(XLMR('xlmr-tiny', 'hf', f), join(dir, f));
      const i = await sbert(['inspect', dir]);
      expect(i.stdout).toContain(name === 'xlmr' ? 'xlm-roberta (XLMRobertaModel' : 'bert (BertModel)');
      const e = await sbert(['encode', '--model', dir], { input: 'Hello world\n' });
      expect(e.code).toBe(0);
      expect((JSON.parse(e.stdout) as { embedding: number[] }).embedding.length).toBe(32);
    }
  });

  it("docs/multilingual.md's commands do what the page says", async () => {
    const doc = readFileSync(join(ROOT, 'docs', 'multilingual.md'), 'utf8');
    const block = /```sh\n([\s\S]*?)```/.exec(doc)![1]!.trim().split('\n');
    expect(block).toHaveLength(3);
    const words = (line: string): string[] => [...line.matchAll(/"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2]!);
    // 1. similarity: the first sentence against the two others
    const sim = words(block[0]!).slice(2);
    const s = await sbert([...sim, '--json']);
    expect(s.code).toBe(0);
    expect((JSON.parse(s.stdout) as { similarities: unknown[] }).similarities).toHaveLength(2);
    // 2. tokenize: what HF gives (the fixture case)
    const [echo, tok] = block[1]!.split(' | ');
    const t = await sbert(words(tok!).slice(2), { input: `${/^echo '(.*)'$/.exec(echo!)![1]!}\n` });
    const want = readFileSync(XLMR('tokenizer', 'cases.jsonl'), 'utf8')
      .split('\n')
      .filter((l) => l)
      .map((l) => JSON.parse(l) as Case)
      .find((c) => c.text === 'Paris is the <mask> of France.')!;
    expect((JSON.parse(t.stdout) as { input_ids: number[]; offsets: number[][] }).offsets).toEqual(want.offsets);
    // 3. compare: every tensor within tolerance
    const c = await sbert(words(block[2]!).slice(2));
    expect(c.code).toBe(0);
    expect(c.stdout).toContain('ok: 24 tensors');
  });

  it('a model type we do not run is an error naming it (exit 2)', async () => {
    const dir = join(tmp, 'distil');
    mkdirSync(dir, { recursive: true });
    const cfg = JSON.parse(readFileSync(XLMR('xlmr-tiny', 'hf', 'config.json'), 'utf8')) as Record<string, unknown>;
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...cfg, model_type: 'distilbert' }));
    for (const f of ['model.safetensors', 'tokenizer.json', 'tokenizer_config.json'])
      copyFileSync(XLMR('xlmr-tiny', 'hf', f), join(dir, f));
    const r = await sbert(['encode', '--model', dir], { input: 'x\n' });
    expect(r.code).toBe(2);
    expect(errorLine(r)).toMatch(
      /config\.json: model_type "distilbert" is not supported \(supported: bert, roberta, xlm-roberta\)/,
    );
    writeFileSync(
      join(dir, 'config.json'),
      JSON.stringify({ ...cfg, model_type: undefined, architectures: ['GPT2Model'] }),
    );
    const g = await sbert(['inspect', dir]);
    expect(g.code).toBe(2);
    expect(errorLine(g)).toMatch(/architecture "GPT2Model" is not supported/);
  });
});
