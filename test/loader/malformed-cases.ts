// Generates the malformed-input suite: small valid checkpoints in every container, then every structural
// truncation and corruption of them, hostile pickles and bad views. Each case is a file (or folder) under
// os.tmpdir() and a loader call that must end in a typed error naming that path.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openCheckpoint } from '../../src/loader/checkpoint.js';
import { type BertConfig, toHfConfig } from '../../src/loader/config.js';
import { bertShapes } from '../../src/loader/keys.js';
import { loadModelDir } from '../../src/loader/model-dir.js';
import { PyDict, PyGlobal, unpickle } from '../../src/loader/pickle.js';
import { serializeSafetensors } from '../../src/loader/safetensors.js';
import { synthTensor } from '../../src/loader/synth.js';
import {
  contiguousState,
  legacyBytes,
  PickleWriter,
  statePickle,
  type TorchStorage,
  type TorchTensor,
  writeTorchZip,
} from '../../src/loader/torch-writer.js';
import { MemorySource } from '../../src/loader/source.js';
import { ZipReader } from '../../src/loader/zip.js';

export const SMALL: BertConfig = {
  vocabSize: 40,
  hiddenSize: 8,
  numHiddenLayers: 1,
  numAttentionHeads: 2,
  intermediateSize: 16,
  hiddenAct: 'gelu',
  maxPositionEmbeddings: 12,
  typeVocabSize: 2,
  layerNormEps: 1e-12,
  padTokenId: 0,
};

export interface Case {
  /** What is wrong, for the test title. */
  what: string;
  /** The path the error must name. */
  path: string;
  run(): void;
}

export function smallTensors(prefix = ''): { name: string; shape: number[]; data: Float32Array }[] {
  return [...bertShapes(SMALL)].map(([name, shape]) => ({
    name: prefix + name,
    shape,
    data: synthTensor(name, shape),
  }));
}

const bytesOf = (f: Float32Array) => new Uint8Array(f.buffer, f.byteOffset, f.byteLength);

/** Reads a weights file completely, as a load would: every float tensor decoded. */
export function readAll(file: string): number {
  const c = openCheckpoint(file);
  try {
    let n = 0;
    for (const t of c.tensors.values()) n += t.float32().length;
    return n;
  } finally {
    c.close();
  }
}

export interface Control {
  what: string;
  path: string;
  /** name → expected row-major float32 values. */
  expected: Map<string, Float32Array>;
}

export function buildCases(root: string): { cases: Case[]; controls: Control[] } {
  const cases: Case[] = [];
  const controls: Control[] = [];
  let seq = 0;
  const file = (ext: string, bytes: Uint8Array): string => {
    const p = join(root, `case-${seq++}.${ext}`);
    writeFileSync(p, bytes);
    return p;
  };
  const fileCase = (what: string, ext: string, bytes: Uint8Array) => {
    const p = file(ext, bytes);
    cases.push({ what, path: p, run: () => readAll(p) });
  };
  const truncations = (what: string, ext: string, full: Uint8Array, cuts: Iterable<number>) => {
    for (const cut of new Set(cuts))
      if (cut >= 0 && cut < full.length) fileCase(`${what} truncated at byte ${cut}`, ext, full.subarray(0, cut));
  };

  // ---- safetensors --------------------------------------------------------------------------------------
  const tensors = smallTensors();
  const st = serializeSafetensors(
    tensors.map((t) => ({ name: t.name, dtype: 'F32' as const, shape: t.shape, bytes: bytesOf(t.data) })),
  );
  const hlen = Number(new DataView(st.buffer).getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(st.subarray(8, 8 + hlen))) as Record<
    string,
    { dtype: string; shape: number[]; data_offsets: [number, number] }
  >;
  const cuts = [0, 1, 4, 7, 8, 9, 8 + (hlen >> 1), 8 + hlen - 1, 8 + hlen, st.length - 1];
  for (const {
    data_offsets: [a, b],
  } of Object.values(header))
    cuts.push(8 + hlen + a, 8 + hlen + ((a + b) >> 1));
  truncations('safetensors', 'safetensors', st, cuts);

  const withHeader = (what: string, h: unknown, data = st.subarray(8 + hlen), rawLen?: bigint) => {
    const json = new TextEncoder().encode(typeof h === 'string' ? h : JSON.stringify(h));
    const out = new Uint8Array(8 + json.length + data.length);
    new DataView(out.buffer).setBigUint64(0, rawLen ?? BigInt(json.length), true);
    out.set(json, 8);
    out.set(data, 8 + json.length);
    fileCase(`safetensors: ${what}`, 'safetensors', out);
  };
  const edit = (fn: (h: typeof header) => void) => {
    const h = structuredClone(header);
    fn(h);
    return h;
  };
  const first = Object.keys(header)[0]!;
  const last = Object.keys(header).at(-1)!;
  withHeader('header length 2^60', header, undefined, 1n << 60n);
  withHeader('header length past the end of file', header, undefined, BigInt(st.length));
  withHeader('header length 0', header, undefined, 0n);
  withHeader('header length one short (JSON cut)', header, undefined, BigInt(hlen - 1));
  withHeader('header is not JSON', '{"a": [1, 2');
  withHeader('header is a JSON array', '[1, 2, 3]');
  fileCase(
    'safetensors: header is not UTF-8',
    'safetensors',
    (() => {
      const b = st.slice();
      b[9] = 0xff;
      b[10] = 0xfe;
      return b;
    })(),
  );
  withHeader(
    'unknown dtype',
    edit((h) => (h[first]!.dtype = 'F8_E9M0')),
  );
  withHeader(
    'negative dimension',
    edit((h) => (h[first]!.shape = [-40, 8])),
  );
  withHeader(
    'fractional dimension',
    edit((h) => (h[first]!.shape = [2.5, 8])),
  );
  withHeader(
    'shape overflowing 2^53',
    edit((h) => (h[first]!.shape = [2 ** 30, 2 ** 30, 2 ** 30])),
  );
  withHeader(
    'offsets reversed',
    edit((h) => (h[first]!.data_offsets = [h[first]!.data_offsets[1], h[first]!.data_offsets[0]])),
  );
  withHeader(
    'offsets shifted by one byte',
    edit((h) => (h[last]!.data_offsets = [h[last]!.data_offsets[0] + 1, h[last]!.data_offsets[1] + 1])),
  );
  withHeader(
    'offsets overlapping',
    edit((h) => (h[last]!.data_offsets = [h[last]!.data_offsets[0] - 4, h[last]!.data_offsets[1] - 4])),
  );
  withHeader(
    'span does not match the shape',
    edit((h) => (h[first]!.shape = [39, 8])),
  );
  withHeader(
    'offsets claim 2^60 bytes',
    edit((h) => (h[last]!.data_offsets = [h[last]!.data_offsets[0], 2 ** 60])),
  );
  withHeader(
    'offsets not numbers',
    edit((h) => ((h[first] as unknown as Record<string, unknown>).data_offsets = ['0', '1280'])),
  );
  withHeader(
    'entry is not an object',
    edit((h) => ((h as Record<string, unknown>)[first] = 7)),
  );
  withHeader('__metadata__ value not a string', { __metadata__: { format: 1 }, ...header });
  withHeader('trailing bytes after the data', header, Uint8Array.from([...st.subarray(8 + hlen), 0, 0, 0, 0]));
  fileCase('safetensors: empty file', 'safetensors', new Uint8Array(0));
  fileCase(
    'safetensors: garbage',
    'safetensors',
    Uint8Array.from({ length: 64 }, (_, i) => (i * 37) & 0xff),
  );

  // ---- torch zip ----------------------------------------------------------------------------------------
  const state = contiguousState(
    tensors.map((t) => ({ name: `bert.${t.name}`, shape: t.shape, bytes: bytesOf(t.data) })),
  );
  const zipFile = (storages: TorchStorage[], ts: TorchTensor[], opts: Parameters<typeof writeTorchZip>[3] = {}) => {
    const p = join(root, `case-${seq++}.bin`);
    writeTorchZip(p, storages, ts, opts);
    return p;
  };
  const zipCase = (
    what: string,
    storages: TorchStorage[],
    ts: TorchTensor[],
    opts: Parameters<typeof writeTorchZip>[3] = {},
  ) => {
    const p = zipFile(storages, ts, opts);
    cases.push({ what: `torch zip: ${what}`, path: p, run: () => readAll(p) });
  };
  for (const zip64 of [false, true]) {
    // A plain Uint8Array copy: Buffer.slice would alias, and the patches below must not accumulate.
    const good = new Uint8Array(readFileSync(zipFile(state.storages, state.tensors, { zip64, prefix: 'weird_stem' })));
    const z = new ZipReader(new MemorySource(good, 'x'));
    const zc: number[] = [good.length - 1, good.length - 22, good.length - 2];
    for (const e of z.entries.values())
      zc.push(
        e.localOffset,
        e.localOffset + 10,
        z.dataOffset(e),
        z.dataOffset(e) + (e.size >> 1),
        z.dataOffset(e) + e.size,
      );
    for (let i = 0; i + 4 <= good.length; i++) {
      const sig = new DataView(good.buffer, good.byteOffset).getUint32(i, true);
      if (sig === 0x02014b50 || sig === 0x06054b50 || sig === 0x06064b50 || sig === 0x07064b50) zc.push(i, i + 1);
    }
    truncations(`torch zip${zip64 ? ' (Zip64)' : ''}`, 'bin', good, zc);

    const eocd = good.length - 22;
    const patch = (what: string, at: number, value: number, width: 2 | 4 | 8) => {
      const b = good.slice();
      const dv = new DataView(b.buffer);
      if (width === 2) dv.setUint16(at, value, true);
      else if (width === 4) dv.setUint32(at, value >>> 0, true);
      else dv.setBigUint64(at, BigInt(value), true);
      fileCase(`torch zip${zip64 ? ' (Zip64)' : ''}: ${what}`, 'bin', b);
    };
    if (zip64) {
      const rec = eocd - 20 - 56;
      patch('Zip64 central directory offset past the file', rec + 48, 2 ** 40, 8);
      patch('Zip64 central directory size 2^52', rec + 40, 2 ** 52, 8);
      patch('Zip64 entry count inflated', rec + 32, 1e6, 8);
      patch('Zip64 locator points nowhere', eocd - 20 + 8, 2 ** 50, 8);
      patch('Zip64 locator signature broken', eocd - 20, 0x12345678, 4);
    } else {
      patch('central directory offset past the file', eocd + 16, good.length + 100, 4);
      patch('central directory size inflated', eocd + 12, 0x7fffffff, 4);
      patch('entry count inflated', eocd + 10, 0xfff0, 2);
      patch('central directory offset shifted', eocd + 16, new DataView(good.buffer).getUint32(eocd + 16, true) + 3, 4);
      patch('end record comment length wrong', eocd + 20, 9, 2);
    }
    // Per entry: local offset, sizes, method and signatures.
    const cdOffsets: number[] = [];
    for (let i = 0; i + 4 <= good.length; i++)
      if (new DataView(good.buffer).getUint32(i, true) === 0x02014b50) cdOffsets.push(i);
    const names = [...z.entries.keys()];
    const pick = [0, 2, cdOffsets.length - 2]; // data.pkl, a storage, the last storage
    for (const k of pick) {
      const c = cdOffsets[k]!;
      const nm = names[k]!;
      if (!zip64) {
        patch(`${nm}: local header offset past the file`, c + 42, good.length + 1000, 4);
        patch(`${nm}: size inflated`, c + 24, 0x00ffffff, 4);
        patch(`${nm}: size and compressed size inflated`, c + 20, 0x00ffffff, 4);
      } else {
        patch(`${nm}: Zip64 size 2^50`, c + 46 + nm.length + 4, 2 ** 50, 8);
        patch(`${nm}: Zip64 local offset 2^50`, c + 46 + nm.length + 4 + 16, 2 ** 50, 8);
      }
      patch(`${nm}: compression method 12`, c + 10, 12, 2);
      patch(`${nm}: central header signature broken`, c, 0x01020304, 4);
      patch(`${nm}: name length runs past the directory`, c + 28, 0xffff, 2);
      const local = z.entries.get(nm)!.localOffset;
      patch(`${nm}: local header signature broken`, local, 0x01020304, 4);
      patch(`${nm}: local extra length runs past the file`, local + 28, 0xffff, 2);
    }
    // A flipped byte inside data.pkl: the CRC catches it.
    const pklAt = z.dataOffset(z.entries.get('weird_stem/data.pkl')!);
    const flipped = good.slice();
    flipped[pklAt + 40] ^= 0x20;
    fileCase(`torch zip${zip64 ? ' (Zip64)' : ''}: data.pkl corrupted (CRC mismatch)`, 'bin', flipped);
  }
  zipCase('byteorder "big"', state.storages, state.tensors, { byteorder: 'big' });
  zipCase('byteorder garbage', state.storages, state.tensors, { byteorder: 'middle' });
  zipCase('a storage entry missing', state.storages.slice(0, -1), state.tensors, {
    dataPkl: statePickle(state.storages, state.tensors),
  });
  zipCase('a storage shorter than its pickle says', state.storages, state.tensors, {
    dataPkl: statePickle(
      state.storages.map((s, i) => (i === 3 ? { ...s, numel: s.numel + 1 } : s)),
      state.tensors,
    ),
  });
  {
    // two archives in one zip
    const p = zipFile(state.storages, state.tensors, {
      extra: { '/other/data.pkl': new Uint8Array([0x80, 2, 0x4e, 0x2e]) },
    });
    cases.push({ what: 'torch zip: two data.pkl entries', path: p, run: () => readAll(p) });
  }
  {
    const p = zipFile([], [], { dataPkl: new Uint8Array(0), byteorder: '' });
    cases.push({ what: 'torch zip: empty data.pkl', path: p, run: () => readAll(p) });
  }

  // Views: out of bounds, negative, inconsistent.
  const sizes = state.storages.map((s) => s.numel);
  const view = (what: string, i: number, v: Partial<TorchTensor>) =>
    zipCase(
      `view ${what}`,
      state.storages,
      state.tensors.map((t, k) => (k === i ? { ...t, ...v } : t)),
    );
  const w = 5; // encoder.layer.0.attention.self.query.weight [8, 8]
  view('offset past its storage', w, { offset: sizes[w]! });
  view('offset one past the last fitting element', w, { offset: 1 });
  view('stride reaching past its storage', w, { stride: [9, 1] });
  view('transposed with a too-large stride', w, { stride: [1, 9] });
  view('shape larger than its storage', w, { shape: [9, 8] });
  view('2^40 rows', w, { shape: [2 ** 40, 8] });
  view('expanded with zero strides (2^30 × 2^30)', w, { shape: [2 ** 30, 2 ** 30], stride: [0, 0] });
  view('rank of size and stride differ', w, { stride: [8] });
  view('negative offset', w, { offset: -1 });
  view('negative stride', w, { stride: [-8, 1] });

  // Hostile or unsupported pickles.
  const pklCase = (what: string, pkl: Uint8Array) =>
    zipCase(`pickle ${what}`, state.storages, state.tensors, { dataPkl: pkl });
  const callGlobal = (m: string, n: string) =>
    new PickleWriter().proto(2).global(m, n).str('echo pwned').tuple(1).reduce().stop().bytes();
  pklCase('calling os.system', callGlobal('os', 'system'));
  pklCase('calling posix.system', callGlobal('posix', 'system'));
  pklCase('calling builtins.eval', callGlobal('builtins', 'eval'));
  pklCase('calling builtins.exec', callGlobal('builtins', 'exec'));
  pklCase('calling __builtin__.getattr', callGlobal('__builtin__', 'getattr'));
  pklCase('calling subprocess.Popen', callGlobal('subprocess', 'Popen'));
  pklCase('naming torch.load', callGlobal('torch', 'load'));
  pklCase(
    'naming torch._utils._rebuild_device_tensor_from_numpy',
    callGlobal('torch._utils', '_rebuild_device_tensor_from_numpy'),
  );
  pklCase(
    'INST opcode',
    new PickleWriter()
      .proto(2)
      .mark()
      .raw(0x69, ...new TextEncoder().encode('os\nsystem\n'))
      .stop()
      .bytes(),
  );
  pklCase(
    'OBJ opcode',
    new PickleWriter().proto(2).mark().global('collections', 'OrderedDict').raw(0x6f).stop().bytes(),
  );
  pklCase(
    'STACK_GLOBAL opcode',
    new PickleWriter().proto(4).str('os').str('system').raw(0x93).str('id').tuple(1).reduce().stop().bytes(),
  );
  pklCase(
    'NEWOBJ opcode',
    new PickleWriter().proto(2).global('collections', 'OrderedDict').tuple(0).raw(0x81).stop().bytes(),
  );
  pklCase('EXT1 opcode', new PickleWriter().proto(2).raw(0x82, 1).stop().bytes());
  pklCase('unknown opcode 0xff', new PickleWriter().proto(2).raw(0xff).stop().bytes());
  pklCase('protocol 9', new PickleWriter().proto(9).none().stop().bytes());
  pklCase(
    'REDUCE on a storage type',
    new PickleWriter().proto(2).global('torch', 'FloatStorage').tuple(0).reduce().stop().bytes(),
  );
  pklCase('BINGET of an undefined memo slot', new PickleWriter().proto(2).raw(0x68, 7).stop().bytes());
  pklCase('stack underflow', new PickleWriter().proto(2).raw(0x86).stop().bytes());
  pklCase('STOP with two values', new PickleWriter().proto(2).none().none().stop().bytes());
  pklCase('no STOP', new PickleWriter().proto(2).none().bytes());
  pklCase('string length 2^32-1', new PickleWriter().proto(2).raw(0x58, 0xff, 0xff, 0xff, 0xff, 0x41).stop().bytes());
  pklCase('a plain list, not a state dict', new PickleWriter().proto(2).raw(0x5d).stop().bytes());
  pklCase(
    'persistent id that is not a storage',
    new PickleWriter().proto(2).str('module').tuple(1).persid().stop().bytes(),
  );
  pklCase(
    'persistent id with an unknown storage type',
    new PickleWriter()
      .proto(2)
      .mark()
      .str('storage')
      .str('FloatStorage')
      .str('0')
      .str('cpu')
      .int(4)
      .tupleMark()
      .persid()
      .stop()
      .bytes(),
  );
  pklCase('non-UTF-8 string', new PickleWriter().proto(2).raw(0x58, 2, 0, 0, 0, 0xc3, 0x28).stop().bytes());
  pklCase(
    'SETITEMS on a list',
    new PickleWriter().proto(2).raw(0x5d).mark().str('a').str('b').setitems().stop().bytes(),
  );
  // The state pickle cut at every byte.
  const smallState = contiguousState(
    tensors.slice(0, 3).map((t) => ({ name: t.name, shape: t.shape, bytes: bytesOf(t.data) })),
  );
  const pkl = statePickle(smallState.storages, smallState.tensors);
  for (let cut = 0; cut < pkl.length; cut++) {
    zipCase(`data.pkl truncated at byte ${cut}`, smallState.storages, smallState.tensors, {
      dataPkl: pkl.subarray(0, cut),
    });
  }

  // ---- legacy -------------------------------------------------------------------------------------------
  const legacy = legacyBytes(state.storages, state.tensors);
  const ends: number[] = [];
  {
    let p = 0;
    for (let k = 0; k < 5; k++) {
      p = unpickle(
        legacy,
        {
          where: 'x',
          file: 'x',
          resolveGlobal: (m, n) => new PyGlobal(m, n, () => new PyDict()),
          persistentLoad: () => new PyDict(),
        },
        p,
      ).end;
      ends.push(p);
    }
  }
  const lc: number[] = [0, 1, 2, legacy.length - 1];
  let prev = 0;
  for (const e of ends) {
    lc.push(e - 1, e, (prev + e) >> 1);
    prev = e;
  }
  let sp = ends[4]!;
  for (const s of state.storages) {
    lc.push(sp, sp + 4, sp + 8, sp + 8 + s.numel * 2);
    sp += 8 + s.numel * 4;
  }
  truncations('legacy', 'bin', legacy, lc);
  const legacyPatch = (what: string, at: number, bytes: number[]) => {
    const b = legacy.slice();
    b.set(bytes, at);
    fileCase(`legacy: ${what}`, 'bin', b);
  };
  legacyPatch('bad magic number', 5, [0x00]);
  legacyPatch('protocol 1000', ends[0]! + 3, [0xe8, 0x03]);
  {
    const at = legacy.indexOf(0x88, ends[1]!); // little_endian True → False
    legacyPatch('big-endian sys_info', at, [0x89]);
  }
  legacyPatch('storage element count wrong', ends[4]!, [0x41]);
  fileCase('legacy: trailing bytes', 'bin', Uint8Array.from([...legacy, 1, 2, 3]));
  {
    const hostile = new PickleWriter().proto(2).global('os', 'system').str('id').tuple(1).reduce().stop().bytes();
    fileCase(
      'legacy: object pickle calls os.system',
      'bin',
      Uint8Array.from([...legacy.subarray(0, ends[2]!), ...hostile, ...legacy.subarray(ends[3]!)]),
    );
    const keys = new PickleWriter().proto(2).raw(0x5d).mark().str('0').str('nope').raw(0x65).stop().bytes();
    fileCase(
      'legacy: storage list names an unknown storage',
      'bin',
      Uint8Array.from([...legacy.subarray(0, ends[3]!), ...keys, ...legacy.subarray(ends[4]!)]),
    );
  }

  // ---- model folders ------------------------------------------------------------------------------------
  const folder = (what: string, files: Record<string, Uint8Array | string>) => {
    const d = join(root, `dir-${seq++}`);
    mkdirSync(d, { recursive: true });
    for (const [n, b] of Object.entries(files)) {
      mkdirSync(join(d, n, '..'), { recursive: true });
      writeFileSync(join(d, n), b);
    }
    cases.push({ what: `folder: ${what}`, path: d, run: () => loadModelDir(d) });
  };
  const cfg = JSON.stringify(toHfConfig(SMALL));
  folder('no weights file', { 'config.json': cfg });
  folder('no config.json', { 'model.safetensors': st });
  folder('config.json not JSON', { 'model.safetensors': st, 'config.json': '{"hidden_size": ' });
  folder('config.json missing num_hidden_layers', {
    'model.safetensors': st,
    'config.json': JSON.stringify({ ...toHfConfig(SMALL), num_hidden_layers: undefined }),
  });
  folder('config hidden size disagrees with the weights', {
    'model.safetensors': st,
    'config.json': JSON.stringify({ ...toHfConfig(SMALL), hidden_size: 16 }),
  });
  folder('config says 2 layers, weights have 1', {
    'model.safetensors': st,
    'config.json': JSON.stringify({ ...toHfConfig(SMALL), num_hidden_layers: 2 }),
  });
  folder('model_type distilbert', {
    'model.safetensors': st,
    'config.json': JSON.stringify({ ...toHfConfig(SMALL), model_type: 'distilbert' }),
  });
  const xlmr = (over: Record<string, unknown>): string =>
    JSON.stringify({ ...toHfConfig({ ...SMALL, modelType: 'xlm-roberta' }), ...over });
  folder('architectures GPT2Model, no model_type', {
    'model.safetensors': st,
    'config.json': JSON.stringify({ ...toHfConfig(SMALL), model_type: undefined, architectures: ['GPT2Model'] }),
  });
  folder('xlm-roberta pad_token_id outside the vocabulary', {
    'model.safetensors': st,
    'config.json': xlmr({ pad_token_id: SMALL.vocabSize }),
  });
  folder('xlm-roberta with no position left after the padding offset', {
    'model.safetensors': st,
    'config.json': xlmr({ pad_token_id: SMALL.maxPositionEmbeddings - 1 }),
  });
  folder('a required tensor missing', {
    'config.json': cfg,
    'model.safetensors': serializeSafetensors(
      tensors.slice(1).map((t) => ({ name: t.name, dtype: 'F32' as const, shape: t.shape, bytes: bytesOf(t.data) })),
    ),
  });
  folder('the same tensor with and without bert.', {
    'config.json': cfg,
    'model.safetensors': serializeSafetensors(
      [...tensors, { ...tensors[3]!, name: `bert.${tensors[3]!.name}` }].map((t) => ({
        name: t.name,
        dtype: 'F32' as const,
        shape: t.shape,
        bytes: bytesOf(t.data),
      })),
    ),
  });
  folder('half a pooler', {
    'config.json': cfg,
    'model.safetensors': serializeSafetensors(
      [...tensors, { name: 'pooler.dense.bias', shape: [8], data: new Float32Array(8) }].map((t) => ({
        name: t.name,
        dtype: 'F32' as const,
        shape: t.shape,
        bytes: bytesOf(t.data),
      })),
    ),
  });
  folder('integer weights', {
    'config.json': cfg,
    'model.safetensors': serializeSafetensors(
      tensors.map((t, i) => ({
        name: t.name,
        dtype: i === 3 ? ('I32' as const) : ('F32' as const),
        shape: t.shape,
        bytes: bytesOf(t.data),
      })),
    ),
  });
  const stFiles = { 'config.json': cfg, 'model.safetensors': st };
  folder('modules.json not a list', { ...stFiles, 'modules.json': '{}' });
  folder('modules.json path escapes the folder', {
    ...stFiles,
    'modules.json': JSON.stringify([
      { idx: 0, name: '0', path: '../..', type: 'sentence_transformers.models.Transformer' },
    ]),
  });
  folder('modules.json without a Transformer', {
    ...stFiles,
    'modules.json': JSON.stringify([
      { idx: 2, name: '2', path: '2_Normalize', type: 'sentence_transformers.models.Normalize' },
    ]),
  });
  const stMods = JSON.stringify([
    { idx: 0, name: '0', path: '', type: 'sentence_transformers.models.Transformer' },
    { idx: 1, name: '1', path: '1_Pooling', type: 'sentence_transformers.models.Pooling' },
  ]);
  folder('pooling mode weightedmean', {
    ...stFiles,
    'modules.json': stMods,
    '1_Pooling/config.json': JSON.stringify({ pooling_mode: 'weightedmean' }),
  });
  folder('two pooling modes at once', {
    ...stFiles,
    'modules.json': stMods,
    '1_Pooling/config.json': JSON.stringify({ pooling_mode_mean_tokens: true, pooling_mode_cls_token: true }),
  });
  folder('pooling config missing', { ...stFiles, 'modules.json': stMods });
  const uerCfg = {
    emb_size: 8,
    hidden_size: 8,
    feedforward_size: 16,
    heads_num: 2,
    layers_num: 1,
    max_seq_length: 12,
    embedding: ['word', 'pos', 'seg'],
    encoder: 'transformer',
    mask: 'fully_visible',
  };
  const uerState = contiguousState([
    { name: 'embedding.word.embedding.weight', shape: [40, 8], bytes: bytesOf(synthTensor('w', [40, 8])) },
  ]);
  const uerBin = join(root, `uer-${seq++}.bin`);
  writeTorchZip(uerBin, uerState.storages, uerState.tensors);
  folder('UER config, pre-LayerNorm', {
    'model.bin': readFileSync(uerBin),
    'config.json': JSON.stringify({ ...uerCfg, layernorm_positioning: 'pre' }),
  });
  folder('UER config, factorized embeddings', {
    'model.bin': readFileSync(uerBin),
    'config.json': JSON.stringify({ ...uerCfg, emb_size: 4 }),
  });
  folder('UER checkpoint missing its encoder', {
    'model.bin': readFileSync(uerBin),
    'config.json': JSON.stringify(uerCfg),
  });
  /** Where the central directory header of entry `name` starts (searching back from the end record). */
  const centralHeader = (zip: Uint8Array, name: string): number => {
    const dv = new DataView(zip.buffer, zip.byteOffset);
    let cd = zip.length - 22 - 46;
    while (
      dv.getUint32(cd, true) !== 0x02014b50 ||
      new TextDecoder().decode(zip.subarray(cd + 46, cd + 46 + name.length)) !== name
    )
      cd--;
    return cd;
  };
  {
    // Deflated entries (never written by torch; a re-zipped checkpoint has them): damage the compressed
    // bytes of a storage, or the size it claims to inflate to.
    const good = new Uint8Array(readFileSync(zipFile(state.storages, state.tensors, { deflate: true })));
    const z = new ZipReader(new MemorySource(good, 'x'));
    const storage = [...z.entries.values()].find((e) => e.name.includes('/data/') && e.compressedSize > 16)!;
    const at = z.dataOffset(storage);
    const garbled = good.slice();
    garbled.fill(0xff, at, at + 8); // a reserved block type: not a deflate stream
    fileCase("torch zip, deflated: a storage's stream garbled", 'bin', garbled);
    const flipped = good.slice();
    flipped[at + (storage.compressedSize >> 1)] ^= 0x10;
    fileCase("torch zip, deflated: a byte of a storage's stream flipped", 'bin', flipped);
    for (const e of [storage, z.entries.get('archive/data.pkl')!]) {
      for (const [what, delta] of [
        ['more', 4],
        ['fewer', -4],
      ] as const) {
        const b = good.slice();
        new DataView(b.buffer).setUint32(centralHeader(good, e.name) + 24, e.size + delta, true);
        fileCase(`torch zip, deflated: ${e.name.split('/').pop()} claims ${what} bytes than it inflates to`, 'bin', b);
      }
    }
    {
      // A stream that inflates cleanly to the right length, but not to the bytes its CRC-32 was taken of:
      // storage 0 written with one value changed, then given the original's CRC.
      const values = tensors[0]!.data.slice();
      values[5]! += 1;
      const changed = state.storages.map((st, i) => (i === 0 ? { ...st, bytes: bytesOf(values) } : st));
      const other = new Uint8Array(readFileSync(zipFile(changed, state.tensors, { deflate: true })));
      const first = z.entries.get('archive/data/0')!;
      new DataView(other.buffer).setUint32(centralHeader(other, first.name) + 16, first.crc, true);
      fileCase('torch zip, deflated: a storage inflates to other values than its CRC-32 was taken of', 'bin', other);
    }
    truncations('torch zip, deflated', 'bin', good, [
      at,
      at + (storage.compressedSize >> 1),
      at + storage.compressedSize,
    ]);
  }
  {
    const p = join(root, 'not-there');
    cases.push({ what: 'folder: does not exist', path: p, run: () => loadModelDir(p) });
  }

  // ---- controls: the undamaged originals, and views that are valid ---------------------------------------
  const plain = new Map(tensors.map((t) => [t.name, t.data]));
  const prefixed = new Map(tensors.map((t) => [`bert.${t.name}`, t.data]));
  controls.push({ what: 'safetensors', path: file('safetensors', st), expected: plain });
  controls.push({
    what: 'torch zip, archive folder "weird_stem"',
    path: zipFile(state.storages, state.tensors, { prefix: 'weird_stem' }),
    expected: prefixed,
  });
  controls.push({
    what: 'torch zip, Zip64',
    path: zipFile(state.storages, state.tensors, { zip64: true }),
    expected: prefixed,
  });
  controls.push({
    what: 'torch zip, no byteorder entry (older torch)',
    path: zipFile(state.storages, state.tensors, { byteorder: '' }),
    expected: prefixed,
  });
  controls.push({
    what: 'torch zip, deflated entries',
    path: zipFile(state.storages, state.tensors, { deflate: true }),
    expected: prefixed,
  });
  controls.push({
    what: 'torch zip, deflated entries, Zip64',
    path: zipFile(state.storages, state.tensors, { deflate: true, zip64: true }),
    expected: prefixed,
  });
  controls.push({ what: 'legacy', path: file('bin', legacy), expected: prefixed });
  {
    // One 72-element storage shared by a transposed [8, 8] view, a [2, 8] slice of it and an [8] tail.
    const data = synthTensor('shared', [72]);
    const storages: TorchStorage[] = [{ key: 's', dtype: 'F32', numel: 72, bytes: bytesOf(data) }];
    const views: TorchTensor[] = [
      { name: 'transposed', storage: 's', offset: 0, shape: [8, 8], stride: [1, 8] },
      { name: 'rows', storage: 's', offset: 8, shape: [2, 8], stride: [8, 1] },
      { name: 'tail', storage: 's', offset: 64, shape: [8], stride: [1] },
      { name: 'column', storage: 's', offset: 3, shape: [9, 1], stride: [8, 1] },
    ];
    const transposed = new Float32Array(64);
    for (let i = 0; i < 8; i++) for (let j = 0; j < 8; j++) transposed[i * 8 + j] = data[j * 8 + i]!;
    const column = Float32Array.from({ length: 9 }, (_, i) => data[3 + 8 * i]!);
    const expected = new Map([
      ['transposed', transposed],
      ['rows', data.slice(8, 24)],
      ['tail', data.slice(64)],
      ['column', column],
    ]);
    controls.push({ what: 'torch zip, shared storage with strided views', path: zipFile(storages, views), expected });
    controls.push({
      what: 'legacy, shared storage with strided views',
      path: file('bin', legacyBytes(storages, views)),
      expected,
    });
  }
  return { cases, controls };
}
