// The other direction of `sbert compare`: run the model on texts and write what it computed (every hidden
// state, attention map, layer internal and pool, under the reference keys of ../shared/fixtures/README.md,
// plus any TransformerLens hook point asked for) to one safetensors file that PyTorch and numpy read as is,
// and that `sbert compare --reference` reads back.
import { UsageError } from '../errors.js';
import type { BertConfig } from '../loader/config.js';
import type { TensorToWrite } from '../loader/safetensors.js';
import type { BertModel } from '../model/bert.js';
import type { Encoding } from '../tokenizer/index.js';
import { POOLS } from './catalog.js';
import type { RefBatch } from './reference.js';
import { bertSource } from './run.js';

/** What one dump may hold in memory and on disk (it is built whole before it is written). */
export const MAX_DUMP_BYTES = 2 ** 31;
/** Activations one forward may cache in the backend's memory (wasm32 has 4 GiB in all). */
const FORWARD_BYTES = 2 ** 29;

/** Every reference key the model produces, in data-flow order (as `sbert compare` reports them). */
export function dumpKeys(c: BertConfig): string[] {
  const keys = ['hidden_states.0'];
  for (let l = 0; l < c.numHiddenLayers; l++) {
    keys.push(
      `layer.${l}.query`,
      `attentions.${l}`,
      `layer.${l}.attention_output`,
      `layer.${l}.intermediate`,
      `hidden_states.${l + 1}`,
    );
  }
  return [...keys, 'last_hidden_state', ...POOLS.map((p) => `pool.${p}`)];
}

/**
 * The keys `select` names: each item an exact key (`attentions.3`, `pool.mean`) or a family, i.e. a key
 * prefix ending at a dot (`attentions`, `layer.2`, `pool`). All keys when `select` is absent.
 */
export function selectKeys(all: readonly string[], select?: readonly string[]): string[] {
  if (!select) return [...all];
  const wanted = new Set<string>();
  for (const item of select) {
    const hits = all.filter((k) => k === item || k.startsWith(`${item}.`));
    if (!hits.length) {
      throw new UsageError(
        `--tensors: "${item}" names no tensor (families: hidden_states, attentions, layer, last_hidden_state, pool; or a key such as attentions.0, layer.1.intermediate, pool.mean)`,
      );
    }
    for (const k of hits) wanted.add(k);
  }
  return all.filter((k) => wanted.has(k));
}

/** Hook names: `all`, or each a full name from `model.hookNames()`. */
export function selectHooks(names: readonly string[], select?: readonly string[]): string[] {
  if (!select) return [];
  if (select.length === 1 && select[0] === 'all') return [...names];
  for (const n of select) {
    if (!names.includes(n))
      throw new UsageError(`--hooks: no hook point "${n}" (e.g. ${names.slice(0, 4).join(', ')}, …; or all)`);
  }
  return names.filter((n) => select.includes(n));
}

/** Float32 values one row (sentence) of `name` holds at padded length `L`. */
function rowValues(c: BertConfig, name: string, L: number): number {
  const { hiddenSize: H, intermediateSize: I, numAttentionHeads: h } = c;
  if (/^attentions\.|hook_(attn_scores|pattern)$/.test(name)) return h * L * L;
  if (/\.intermediate$|mlp\.hook_(pre|post)$/.test(name)) return L * I;
  if (name.startsWith('pool.')) return H;
  return L * H;
}

export interface DumpOptions {
  /** Reference keys or families (see `selectKeys`); all when absent. */
  tensors?: readonly string[];
  /** Hook point names, or ['all']; none when absent. */
  hooks?: readonly string[];
  /** What the file may hold (default MAX_DUMP_BYTES). */
  maxBytes?: number;
}

/**
 * Runs `model` on one batch of `encodings`, padded to one length (`tokenizer.encodeBatch` pads), and returns the
 * tensors to write: `input_ids`, `attention_mask`, `token_type_ids` (int32, `[B, L]`), then the selected
 * activations (float32, padded positions included, as PyTorch computes them there too).
 */
export async function dumpActivations(
  model: BertModel,
  encodings: readonly Encoding[],
  opts: DumpOptions = {},
): Promise<TensorToWrite[]> {
  if (!encodings.length) throw new UsageError('no texts to run');
  const c = model.config;
  const names = [...selectKeys(dumpKeys(c), opts.tensors), ...selectHooks(model.hookNames(), opts.hooks)];
  const B = encodings.length;
  const L = encodings[0]!.inputIds.length;
  if (encodings.some((e) => e.inputIds.length !== L))
    throw new UsageError('the encodings must be padded to one length (tokenizer.encodeBatch pads them)');
  const perRow = names.reduce((a, n) => a + 4 * rowValues(c, n, L), 0);
  const max = opts.maxBytes ?? MAX_DUMP_BYTES;
  if (perRow * B > max) {
    const gib = (x: number) => `${(x / 2 ** 30).toFixed(2)} GiB`;
    throw new UsageError(
      `the dump would hold ${gib(perRow * B)} (${B} texts × ${L} tokens; limit ${gib(max)}): select fewer tensors (--tensors, --hooks) or fewer or shorter texts`,
    );
  }

  const ids = new Int32Array(B * L);
  const mask = new Int32Array(B * L);
  const types = new Int32Array(B * L);
  encodings.forEach((e, r) => {
    ids.set(e.inputIds, r * L);
    mask.set(e.attentionMask, r * L);
    types.set(e.tokenTypeIds, r * L);
  });
  const batch: RefBatch = { inputIds: ids, attentionMask: mask, tokenTypeIds: types, batch: B, length: L };
  const rowsPerForward = Math.max(1, Math.min(16, Math.floor(FORWARD_BYTES / perRow)));
  const ours = await bertSource(model, 'dump', rowsPerForward)(batch, names);

  const int = (name: string, a: Int32Array): TensorToWrite => ({
    name,
    dtype: 'I32',
    shape: [B, L],
    bytes: new Uint8Array(a.buffer),
  });
  return [
    int('input_ids', ids),
    int('attention_mask', mask),
    int('token_type_ids', types),
    ...names.map((name): TensorToWrite => {
      const t = ours.get(name)!;
      return {
        name,
        dtype: 'F32',
        shape: t.shape,
        bytes: new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength),
      };
    }),
  ];
}
