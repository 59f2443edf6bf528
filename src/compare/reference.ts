// A reference file (the fixtures' format, also written by scripts/dump_reference.py): a safetensors file
// of int32 id batches and float32 activations, keys optionally prefixed by a group (`pairs.`, `long.`,
// `fp16.`, `bf16.`). Each group is one batch: its own `GROUP.input_ids`, or the main batch's ids when it
// has none (fp16.* / bf16.* are the main batch run through weights rounded to half precision).
import { InputError } from '../errors.js';
import { decodeFloat32, decodeInt32 } from '../loader/dtype.js';
import { readSafetensors, type RawTensor } from '../loader/safetensors.js';
import { parseKey, type ParsedKey } from './catalog.js';

export interface RefBatch {
  inputIds: Int32Array; // [batch, length] row-major
  attentionMask: Int32Array; // all ones when the file has none
  tokenTypeIds: Int32Array; // all zeros when the file has none
  batch: number;
  length: number;
}

export interface RefTensor extends ParsedKey {
  /** The key in the file, with its group prefix: `pairs.last_hidden_state`. */
  key: string;
  shape: number[];
  data: Float32Array;
}

export interface RefGroup {
  /** '' for the main batch, else the prefix without its dot: 'pairs', 'long', 'fp16'. */
  name: string;
  inputs: RefBatch;
  /** True when the group borrows the main batch's ids (fp16.*, bf16.*). */
  sharesMainInputs: boolean;
  tensors: RefTensor[];
}

export interface Reference {
  file: string;
  groups: RefGroup[];
  /** Keys that are neither inputs nor a tensor we know how to compute. */
  unknown: string[];
}

const INPUT_KEYS = ['input_ids', 'attention_mask', 'token_type_ids'] as const;
/** Groups named in the fixtures' README, in the order they are reported; others follow alphabetically. */
const GROUP_ORDER = ['', 'pairs', 'long', 'fp16', 'bf16'];

/** Split `pairs.pool.mean` into group `pairs` and rest `pool.mean`; `pool.mean` is in the main group. */
function splitGroup(key: string): { group: string; rest: string } {
  if ((INPUT_KEYS as readonly string[]).includes(key) || parseKey(key)) return { group: '', rest: key };
  const dot = key.indexOf('.');
  if (dot <= 0) return { group: '', rest: key };
  return { group: key.slice(0, dot), rest: key.slice(dot + 1) };
}

export function loadReference(file: string): Reference {
  const st = readSafetensors(file);
  const fail = (msg: string): never => {
    throw new InputError(`not a reference file: ${msg}`, file);
  };
  const byGroup = new Map<
    string,
    { inputs: Partial<Record<(typeof INPUT_KEYS)[number], RawTensor>>; tensors: [RawTensor, ParsedKey][] }
  >();
  const unknown: string[] = [];
  for (const raw of st.tensors.values()) {
    const { group, rest } = splitGroup(raw.name);
    const g = byGroup.get(group) ?? { inputs: {}, tensors: [] };
    byGroup.set(group, g);
    if ((INPUT_KEYS as readonly string[]).includes(rest)) {
      g.inputs[rest as (typeof INPUT_KEYS)[number]] = raw;
      continue;
    }
    const parsed = parseKey(rest);
    if (parsed) g.tensors.push([raw, parsed]);
    else unknown.push(raw.name);
  }

  const main = byGroup.get('');
  const mainInputs = main?.inputs.input_ids ? readBatch(file, '', main.inputs) : undefined;
  if (![...byGroup.values()].some((g) => g.inputs.input_ids)) fail('it has no input_ids tensor');

  const names = [...byGroup.keys()].sort((a, b) => {
    const ia = GROUP_ORDER.indexOf(a);
    const ib = GROUP_ORDER.indexOf(b);
    return (ia < 0 ? 99 : ia) - (ib < 0 ? 99 : ib) || a.localeCompare(b);
  });
  const groups: RefGroup[] = [];
  for (const name of names) {
    const g = byGroup.get(name)!;
    const own = g.inputs.input_ids !== undefined;
    const prefix = name === '' ? '' : `${name}.`;
    if (!own && (g.inputs.attention_mask || g.inputs.token_type_ids))
      fail(`it has ${prefix}attention_mask or ${prefix}token_type_ids but no ${prefix}input_ids`);
    if (!own && g.tensors.length === 0) continue;
    if (!own && !mainInputs)
      fail(`${prefix}* tensors have neither ${prefix}input_ids nor the main batch's input_ids to run on`);
    const inputs = name === '' ? mainInputs! : own ? readBatch(file, prefix, g.inputs) : mainInputs!;
    const tensors: RefTensor[] = [];
    for (const [raw, parsed] of g.tensors) {
      const ints = raw.dtype === 'I32' || raw.dtype === 'I64';
      if (parsed.tensor.kind === 'position_ids') {
        // ids, compared as a one-feature token tensor [B, L, 1]
        if (raw.shape.length !== 2) fail(`${raw.name} has shape [${raw.shape}], expected [batch, length]`);
        const data = ints
          ? Float32Array.from(decodeInt32(raw.bytes, raw.dtype, file, raw.name))
          : decodeFloat32(raw.bytes, raw.dtype, file, raw.name);
        tensors.push({ ...parsed, key: raw.name, shape: [...raw.shape, 1], data });
        continue;
      }
      if (ints) fail(`tensor ${raw.name} has integer dtype ${raw.dtype}`);
      tensors.push({
        ...parsed,
        key: raw.name,
        shape: raw.shape,
        data: decodeFloat32(raw.bytes, raw.dtype, file, raw.name),
      });
    }
    if (tensors.length > 0 || own) groups.push({ name, inputs, sharesMainInputs: name !== '' && !own, tensors });
  }
  return { file, groups, unknown };
}

function readBatch(file: string, prefix: string, t: Partial<Record<(typeof INPUT_KEYS)[number], RawTensor>>): RefBatch {
  const fail = (msg: string): never => {
    throw new InputError(`not a reference file: ${msg}`, file);
  };
  const ids = t.input_ids!;
  if (ids.shape.length !== 2 || ids.shape[0] === 0 || ids.shape[1] === 0) {
    fail(`${prefix}input_ids has shape [${ids.shape}], expected [batch, length]`);
  }
  const [batch, length] = ids.shape as [number, number];
  const read = (raw: RawTensor | undefined, fill: number): Int32Array => {
    if (!raw) return new Int32Array(batch * length).fill(fill);
    if (raw.shape.length !== 2 || raw.shape[0] !== batch || raw.shape[1] !== length) {
      fail(`${raw.name} has shape [${raw.shape}], but ${prefix}input_ids is [${batch}, ${length}]`);
    }
    return decodeInt32(raw.bytes, raw.dtype, file, raw.name);
  };
  const inputIds = read(ids, 0);
  const attentionMask = read(t.attention_mask, 1);
  const tokenTypeIds = read(t.token_type_ids, 0);
  if (attentionMask.some((v) => v !== 0 && v !== 1)) fail(`${prefix}attention_mask holds values other than 0 and 1`);
  return { inputIds, attentionMask, tokenTypeIds, batch, length };
}
