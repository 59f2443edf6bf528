// torch.save checkpoints: the zip format (torch ≥ 1.6: `<stem>/data.pkl` + `<stem>/data/<key>` + `byteorder`)
// and the legacy format (five pickles — magic, protocol, sys_info, object, storage keys — then the storages).
// Pickles go through the safe unpickler with a four-item allowlist; tensors are (storage, offset, size,
// stride) views that are bounds-checked before any element is read, and materialized to row-major float32.
import { CheckpointError } from '../errors.js';
import { DTYPE_SIZE, type DType, decodeFloat32 } from './dtype.js';
import { PickleTruncated, PyDict, PyGlobal, PyTuple, type PyOpaque, type PyValue, unpickle } from './pickle.js';
import type { ByteSource } from './source.js';
import { type Checkpoint, numel, type TensorEntry } from './tensor.js';
import { ZipReader } from './zip.js';

const STORAGE_DTYPES: Record<string, DType> = {
  FloatStorage: 'F32',
  HalfStorage: 'F16',
  BFloat16Storage: 'BF16',
  DoubleStorage: 'F64',
  LongStorage: 'I64',
  IntStorage: 'I32',
  ShortStorage: 'I16',
  CharStorage: 'I8',
  ByteStorage: 'U8',
  BoolStorage: 'BOOL',
};

class StorageType implements PyOpaque {
  readonly pyType = 'storage-type';
  constructor(readonly dtype: DType) {}
}

class StorageRef implements PyOpaque {
  readonly pyType = 'storage';
  constructor(
    readonly key: string,
    readonly dtype: DType,
    readonly numel: number,
    /** Legacy storage views: element offset into the root storage `key`. */
    readonly viewOffset = 0,
  ) {}
}

class TensorRef implements PyOpaque {
  readonly pyType = 'tensor';
  constructor(
    readonly storage: StorageRef,
    readonly offset: number,
    readonly shape: number[],
    readonly stride: number[],
  ) {}
}

function ints(v: PyValue, what: string, fail: (m: string) => never): number[] {
  if (!(v instanceof PyTuple) || !v.items.every((x) => typeof x === 'number' && Number.isSafeInteger(x) && x >= 0)) {
    return fail(`${what} is not a tuple of non-negative integers`);
  }
  return v.items as number[];
}

/** The allowlist. Anything else — os.system, builtins.eval, torch internals we don't know — is refused by name. */
function resolver(file: string, where: string) {
  const fail = (m: string): never => {
    throw new CheckpointError(`${where}: ${m}`, file);
  };
  return (module: string, name: string): PyGlobal => {
    if (module === 'collections' && name === 'OrderedDict') {
      return new PyGlobal(module, name, (args) => {
        if (args.length) fail('OrderedDict called with arguments');
        return new PyDict();
      });
    }
    if (module === 'torch._utils' && name === '_rebuild_tensor_v2') {
      return new PyGlobal(module, name, (args) => {
        // (storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])
        const [storage, offset, size, stride] = args;
        if (args.length < 4 || !(storage instanceof StorageRef)) fail('_rebuild_tensor_v2 without a storage');
        if (typeof offset !== 'number' || !Number.isSafeInteger(offset) || offset < 0)
          fail('_rebuild_tensor_v2: bad storage offset');
        const shape = ints(size!, 'tensor size', fail);
        const strides = ints(stride!, 'tensor stride', fail);
        if (shape.length !== strides.length) fail(`tensor size [${shape}] and stride [${strides}] differ in rank`);
        return new TensorRef(storage as StorageRef, offset as number, shape, strides);
      });
    }
    if (module === 'torch._utils' && name === '_rebuild_parameter') {
      return new PyGlobal(module, name, (args) => {
        if (!(args[0] instanceof TensorRef)) fail('_rebuild_parameter without a tensor');
        return args[0]!;
      });
    }
    if (module === 'torch' && Object.hasOwn(STORAGE_DTYPES, name)) {
      return new StorageGlobal(module, name, new StorageType(STORAGE_DTYPES[name]!));
    }
    return fail(`refusing pickle global ${module}.${name} (only OrderedDict, torch tensors and storages are allowed)`);
  };
}

/** `torch.FloatStorage` & co.: a value naming an element type inside persistent ids, never callable. */
class StorageGlobal extends PyGlobal {
  constructor(
    module: string,
    name: string,
    readonly storageType: StorageType,
  ) {
    super(module, name);
  }
}

function storageTypeOf(v: PyValue | undefined): StorageType | undefined {
  return v instanceof StorageGlobal ? v.storageType : undefined;
}

/** ('storage', StorageType, key, location, numel[, view_metadata]) → StorageRef. */
function persistentLoader(file: string, where: string, legacy: boolean) {
  const fail = (m: string): never => {
    throw new CheckpointError(`${where}: ${m}`, file);
  };
  return (pid: PyValue): PyValue => {
    if (!(pid instanceof PyTuple) || pid.items[0] !== 'storage') {
      return fail(
        `unsupported persistent id ${pid instanceof PyTuple ? JSON.stringify(String(pid.items[0])) : ''} (only storages)`,
      );
    }
    const [, type, key, , count, view] = pid.items;
    const st = storageTypeOf(type);
    if (!st) fail('persistent id names no torch storage type');
    if (typeof key !== 'string') fail('storage key is not a string');
    if (typeof count !== 'number' || !Number.isSafeInteger(count) || count < 0) fail(`storage ${key} has a bad size`);
    if (legacy && view != null) {
      // Legacy storage view: (view_key, offset, view_size) into the root storage.
      const [, off, size] = view instanceof PyTuple ? view.items : [];
      if (
        typeof off !== 'number' ||
        typeof size !== 'number' ||
        off < 0 ||
        size < 0 ||
        off + size > (count as number)
      ) {
        fail(`storage view of ${key} lies outside its storage`);
      }
      return new StorageRef(key as string, st!.dtype, count as number, off as number);
    }
    return new StorageRef(key as string, st!.dtype, count as number);
  };
}

/** Finds the flat name → tensor dict (a state_dict, or one nested under 'state_dict' / 'model' / 'module'). */
function stateDict(root: PyValue, file: string): Map<string, TensorRef> {
  const find = (v: PyValue, depth: number): PyDict | undefined => {
    if (!(v instanceof PyDict)) return undefined;
    for (const x of v.map.values()) if (x instanceof TensorRef) return v;
    if (depth >= 2) return undefined;
    for (const k of ['state_dict', 'model_state_dict', 'model', 'module']) {
      const inner = v.map.get(k);
      const found = inner === undefined ? undefined : find(inner, depth + 1);
      if (found) return found;
    }
    return undefined;
  };
  const d = find(root, 0);
  if (!d) throw new CheckpointError('no state dict of tensors found in the checkpoint', file);
  const out = new Map<string, TensorRef>();
  for (const [k, v] of d.map) if (typeof k === 'string' && v instanceof TensorRef) out.set(k, v);
  return out;
}

/**
 * The elements of its storage a view reaches (`offset + 1 + Σ (size - 1) × stride`), after checking it lies
 * inside the storage. Run for every tensor when the checkpoint is opened, before anything is read.
 */
function checkView(t: TensorRef, name: string, file: string): number {
  const n = numel(t.shape);
  const offset = t.offset + t.storage.viewOffset;
  let extent = n === 0 ? 0 : offset + 1;
  for (let d = 0; d < t.shape.length; d++) if (n) extent += (t.shape[d]! - 1) * t.stride[d]!;
  const storageLen = t.storage.numel;
  // Checkpoints hold plain parameters: a view with more elements than its storage (expanded, overlapping)
  // would only be a way to make us allocate without bound.
  if (n > storageLen) {
    throw new CheckpointError(
      `tensor ${name} has ${n} elements but its storage holds ${storageLen} (expanded views are not supported)`,
      file,
    );
  }
  if (extent > storageLen) {
    throw new CheckpointError(
      `tensor ${name} (offset ${t.offset}, size [${t.shape}], stride [${t.stride}]) reaches element ${extent} of a ${storageLen}-element storage`,
      file,
    );
  }
  return extent;
}

/** Whether a view is row-major contiguous (then it is a subarray of its storage, no copy). */
function isContiguous(t: TensorRef): boolean {
  let expect = 1;
  for (let d = t.shape.length - 1; d >= 0; d--) {
    if (t.shape[d] !== 1 && t.stride[d] !== expect) return false;
    expect *= t.shape[d]!;
  }
  return true;
}

/** Row-major float32 values of a strided view (checked by checkView) of `storage` (at least its extent long). */
function materialize(t: TensorRef, storage: Float32Array): Float32Array {
  const n = numel(t.shape);
  const offset = t.offset + t.storage.viewOffset;
  const storageLen = storage.length;
  if (isContiguous(t)) return offset === 0 && n === storageLen ? storage : storage.subarray(offset, offset + n);
  // Non-contiguous (e.g. a transposed weight): walk the index with an odometer.
  const out = new Float32Array(n);
  const rank = t.shape.length;
  const idx = new Array<number>(rank).fill(0);
  let src = offset;
  for (let i = 0; i < n; i++) {
    out[i] = storage[src]!;
    for (let d = rank - 1; d >= 0; d--) {
      idx[d]!++;
      src += t.stride[d]!;
      if (idx[d]! < t.shape[d]!) break;
      src -= idx[d]! * t.stride[d]!;
      idx[d] = 0;
    }
  }
  return out;
}

/** The bytes of the first `elements` elements of a storage. */
type StorageBytes = (ref: StorageRef, elements: number) => Uint8Array;

/**
 * Tensors sharing a storage must agree on its element type and size (torch writes one record per storage).
 * Every view is bounds-checked here; the result is, per storage key, how many leading elements its views
 * reach: all that will ever be read of it.
 */
function storageNeeds(refs: Map<string, TensorRef>, file: string, fail: (m: string) => never): Map<string, number> {
  const seen = new Map<string, StorageRef>();
  const need = new Map<string, number>();
  for (const [name, t] of refs) {
    const s = seen.get(t.storage.key);
    if (!s) seen.set(t.storage.key, t.storage);
    else if (s.dtype !== t.storage.dtype || s.numel !== t.storage.numel) {
      fail(
        `tensor ${name} sees storage ${t.storage.key} as ${t.storage.numel} × ${t.storage.dtype}, another tensor as ${s.numel} × ${s.dtype}`,
      );
    }
    need.set(t.storage.key, Math.max(need.get(t.storage.key) ?? 0, checkView(t, name, file)));
  }
  return need;
}

function checkpointOf(
  src: ByteSource,
  format: 'torch-zip' | 'torch-legacy',
  refs: Map<string, TensorRef>,
  need: Map<string, number>,
  storageBytes: StorageBytes,
): Checkpoint {
  const storages = new Map<string, Float32Array>();
  const storageFloats = (ref: StorageRef, name: string): Float32Array => {
    let f = storages.get(ref.key);
    if (!f) {
      f = decodeFloat32(storageBytes(ref, need.get(ref.key)!), ref.dtype, src.name, name);
      storages.set(ref.key, f);
    }
    return f;
  };
  // One materialization per view object: a pickle that names one (transposed) view under 20 000 keys via its
  // memo costs one copy, not 20 000. Distinct strided views are copies: together they may copy at most twice
  // the data the checkpoint holds (a transposed copy of every weight, twice over), so 20 000 transposed views of
  // one storage cannot cost 20 000 copies.
  const views = new Map<TensorRef, Float32Array>();
  let copyBudget = 2 ** 20;
  for (const n of need.values()) copyBudget += 2 * n;
  const tensors = new Map<string, TensorEntry>();
  for (const [name, t] of refs) {
    tensors.set(name, {
      name,
      dtype: t.storage.dtype,
      shape: t.shape,
      float32: () => {
        let v = views.get(t);
        if (!v) {
          if (!isContiguous(t)) {
            copyBudget -= numel(t.shape);
            if (copyBudget < 0) {
              throw new CheckpointError(
                `tensor ${name}: its strided views would copy more than twice the data the checkpoint holds (views repeated?)`,
                src.name,
              );
            }
          }
          v = materialize(t, storageFloats(t.storage, name));
          views.set(t, v);
        }
        return v;
      },
    });
  }
  return {
    file: src.name,
    format,
    tensors,
    metadata: {},
    close: () => {
      storages.clear();
      views.clear();
      src.close();
    },
  };
}

/** The most bytes a pickle in a checkpoint may have (BERT-base's data.pkl: ≈ 20 KB). */
export const MAX_PICKLE_BYTES = 16 * 2 ** 20;

export function readTorchZip(src: ByteSource): Checkpoint {
  const zip = new ZipReader(src);
  const fail = (m: string): never => {
    throw new CheckpointError(`invalid torch checkpoint: ${m}`, src.name);
  };
  // The archive folder is the file's stem when saved (often 'archive', 'pytorch_model', 'model', ...).
  const pkls = [...zip.entries.keys()].filter((n) => /^[^/]+\/data\.pkl$/.test(n));
  if (pkls.length !== 1)
    fail(pkls.length ? `${pkls.length} data.pkl entries` : 'zip has no <name>/data.pkl (not a torch checkpoint?)');
  const prefix = pkls[0]!.slice(0, -'/data.pkl'.length);
  const bo = zip.entries.get(`${prefix}/byteorder`);
  if (bo) {
    const order = new TextDecoder().decode(zip.read(bo, true, 16, 'a byteorder record')).trim();
    if (order === 'big')
      fail('big-endian checkpoint (byteorder "big") is not supported; re-save it on a little-endian machine');
    if (order !== 'little') fail(`unknown byteorder ${JSON.stringify(order.slice(0, 20))}`);
  }
  const where = `${prefix}/data.pkl`;
  const pkl = zip.read(zip.entries.get(where)!, true, MAX_PICKLE_BYTES, 'a checkpoint pickle');
  const { value } = unpickle(pkl, {
    where,
    file: src.name,
    resolveGlobal: resolver(src.name, where),
    persistentLoad: persistentLoader(src.name, where, false),
  });
  const refs = stateDict(value, src.name);
  const need = storageNeeds(refs, src.name, fail);
  // Check every storage exists with the right size before anything is read; a deflated one must hold no
  // more than its views reach (inflating the rest would be work for nothing, and a bomb's way in).
  for (const [name, t] of refs) {
    const e = zip.entries.get(`${prefix}/data/${t.storage.key}`);
    if (!e) fail(`tensor ${name}: storage entry ${prefix}/data/${t.storage.key} is missing`);
    const bytes = t.storage.numel * DTYPE_SIZE[t.storage.dtype];
    if (e!.size !== bytes)
      fail(
        `storage ${prefix}/data/${t.storage.key} is ${e!.size} bytes, expected ${t.storage.numel} × ${t.storage.dtype} = ${bytes}`,
      );
    const used = need.get(t.storage.key)!;
    if (e!.method !== 0 && used < t.storage.numel) {
      fail(
        `deflated storage ${prefix}/data/${t.storage.key} holds ${t.storage.numel} elements, but its tensors reach only ${used}; refusing to inflate what is not used`,
      );
    }
    zip.dataOffset(e!);
  }
  return checkpointOf(src, 'torch-zip', refs, need, (ref, elements) => {
    const e = zip.entries.get(`${prefix}/data/${ref.key}`)!;
    const bytes = elements * DTYPE_SIZE[ref.dtype];
    return e.method === 0 ? zip.readRange(e, 0, bytes) : zip.read(e, false, bytes, 'the tensors viewing it');
  });
}

const LEGACY_MAGIC = 0x1950a86a20f9469cfc6cn;
const LEGACY_PROTOCOL = 1001;

export function readTorchLegacy(src: ByteSource): Checkpoint {
  const fail = (m: string): never => {
    throw new CheckpointError(`invalid legacy torch checkpoint: ${m}`, src.name);
  };
  // The five pickles sit at the start; read a growing prefix until they parse (at most MAX_PICKLE_BYTES).
  const limit = Math.min(src.size, MAX_PICKLE_BYTES);
  let headLen = Math.min(limit, 1 << 20);
  for (;;) {
    const head = src.read(0, headLen);
    try {
      return parseLegacy(src, head, fail);
    } catch (e) {
      if (!(e instanceof PickleTruncated) || headLen >= src.size) throw e;
      if (headLen >= limit)
        fail(`its pickles run past the first ${MAX_PICKLE_BYTES} bytes (more than a checkpoint's pickles need)`);
      headLen = Math.min(limit, headLen * 4);
    }
  }
}

function parseLegacy(src: ByteSource, head: Uint8Array, fail: (m: string) => never): Checkpoint {
  const plain = (where: string) => ({ where, file: src.name, resolveGlobal: resolver(src.name, where) });
  const magic = unpickle(head, plain('magic number'));
  if (magic.value !== LEGACY_MAGIC) fail('bad magic number (not a torch checkpoint)');
  const proto = unpickle(head, plain('protocol version'), magic.end);
  if (proto.value !== LEGACY_PROTOCOL) fail(`protocol version ${String(proto.value)}, expected ${LEGACY_PROTOCOL}`);
  const sys = unpickle(head, plain('sys_info'), proto.end);
  if (!(sys.value instanceof PyDict)) fail('sys_info is not a dict');
  if ((sys.value as PyDict).map.get('little_endian') !== true)
    fail('big-endian checkpoint is not supported; re-save it on a little-endian machine');
  const obj = unpickle(
    head,
    { ...plain('object pickle'), persistentLoad: persistentLoader(src.name, 'object pickle', true) },
    sys.end,
  );
  const keys = unpickle(head, plain('storage keys'), obj.end);
  if (!Array.isArray(keys.value) || !keys.value.every((k) => typeof k === 'string'))
    fail('storage keys are not a list of strings');
  const refs = stateDict(obj.value, src.name);
  const need = storageNeeds(refs, src.name, fail);

  // Storages follow in key order, each an int64 element count then the raw little-endian elements.
  const types = new Map<string, StorageRef>();
  for (const t of refs.values()) types.set(t.storage.key, t.storage);
  const where = new Map<string, { offset: number; bytes: number }>();
  let p = keys.end;
  for (const key of keys.value as string[]) {
    const ref = types.get(key);
    if (!ref) fail(`storage ${key} is listed but no tensor uses it, so its element size is unknown`);
    if (p + 8 > src.size) fail(`storage ${key}: element count at byte ${p} is past the end of the file (truncated?)`);
    const cb = src.read(p, 8);
    const count = new DataView(cb.buffer, cb.byteOffset, 8).getBigInt64(0, true);
    if (count !== BigInt(ref!.numel)) fail(`storage ${key} holds ${count} elements, the pickle says ${ref!.numel}`);
    const bytes = ref!.numel * DTYPE_SIZE[ref!.dtype];
    if (p + 8 + bytes > src.size)
      fail(`storage ${key} (${bytes} bytes at ${p + 8}) runs past the end of the file (truncated?)`);
    where.set(key, { offset: p + 8, bytes });
    p += 8 + bytes;
  }
  if (p !== src.size) fail(`${src.size - p} unexpected bytes after the last storage`);
  for (const [name, t] of refs)
    if (!where.has(t.storage.key)) fail(`tensor ${name}: storage ${t.storage.key} is not in the storage list`);
  return checkpointOf(src, 'torch-legacy', refs, need, (ref, elements) => {
    const w = where.get(ref.key)!;
    return src.read(w.offset, elements * DTYPE_SIZE[ref.dtype], true);
  });
}
