// A safe unpickler for the subset of the pickle protocol (0–2, plus FRAME/MEMOIZE/short strings of 4)
// that torch.save writes. It never imports or calls anything by itself: GLOBAL asks `resolveGlobal`, which
// returns a callable from an allowlist or refuses; opcodes that build arbitrary objects (INST, OBJ, NEWOBJ,
// STACK_GLOBAL, EXT*) are refused by name. Every read is bounds-checked, so truncation is an error, not a crash.
import { CheckpointError } from '../errors.js';

/** Thrown when the pickle ends early, so a reader holding only a prefix of the file can read more and retry. */
export class PickleTruncated extends CheckpointError {
  override name = 'CheckpointError';
}

export type PyKey = string | number | bigint | boolean | null;
/** Values produced by allowlisted callables (tensors, storages) implement this. */
export interface PyOpaque {
  readonly pyType: string;
}
export type PyValue = PyKey | Uint8Array | PyValue[] | PyTuple | PyDict | PyGlobal | PyOpaque;

export class PyTuple {
  constructor(readonly items: PyValue[]) {}
}
export class PyDict {
  readonly map = new Map<PyKey, PyValue>();
  /** State given by BUILD (e.g. a state_dict's `_metadata`); kept, never interpreted. */
  state: PyValue | undefined;
}
export class PyGlobal {
  constructor(
    readonly module: string,
    readonly name: string,
    /** Called by REDUCE with the argument tuple's items; absent for globals that are only values. */
    readonly call?: (args: PyValue[]) => PyValue,
  ) {}
  get qualname(): string {
    return `${this.module}.${this.name}`;
  }
}

export interface UnpickleOptions {
  /** The file (and inner name) shown in errors, e.g. "model.bin (data.pkl)". */
  where: string;
  file: string;
  /** Allowlist: return the global or throw. */
  resolveGlobal(module: string, name: string): PyGlobal;
  /** BINPERSID: the persistent id (a tuple for torch) → a storage. */
  persistentLoad?(pid: PyValue): PyValue;
}

// Opcodes that build arbitrary objects or use text forms torch never writes: named in the refusal.
const REFUSED: Record<number, string> = {
  0x69: 'INST',
  0x6f: 'OBJ',
  0x93: 'STACK_GLOBAL',
  0x81: 'NEWOBJ',
  0x92: 'NEWOBJ_EX',
  0x82: 'EXT1',
  0x83: 'EXT2',
  0x84: 'EXT4',
  0x50: 'PERSID',
  0x49: 'INT',
  0x4c: 'LONG',
  0x53: 'STRING',
  0x56: 'UNICODE',
  0x46: 'FLOAT',
  0x70: 'PUT',
  0x67: 'GET',
  0x96: 'BYTEARRAY8',
  0x97: 'NEXT_BUFFER',
  0x98: 'READONLY_BUFFER',
  0x8f: 'EMPTY_SET',
  0x90: 'ADDITEMS',
  0x91: 'FROZENSET',
};

const MARK = Symbol('mark');
/** The most containers one pickle may make (BERT-base's state dict makes about a thousand). */
export const MAX_PICKLE_CONTAINERS = 2 ** 18;
/**
 * What one pickle may hold at once besides containers, each far above a state dict's needs: values on the stack
 * (Python's pickler batches 1 000 items per MARK), open MARKs (a state dict nests ≈ 5 deep), memo entries (≈ 8 per
 * tensor) and items inside lists, tuples and dicts (≈ 16 per tensor: 2^19 leaves twice what 16 384 tensors need). Without them a 16 MiB data.pkl of 1-byte
 * DUP, MARK or MEMOIZE opcodes held 16 million slots (0.6–0.9 GB, 18 s) before failing.
 */
export const MAX_PICKLE_STACK = 2 ** 17;
export const MAX_PICKLE_MARKS = 1024;
export const MAX_PICKLE_MEMO = 2 ** 18;
export const MAX_PICKLE_ITEMS = 2 ** 19;
type Slot = PyValue | typeof MARK;

/** Unpickles one object starting at `start`; returns it and the offset just after its STOP. */
export function unpickle(bytes: Uint8Array, opts: UnpickleOptions, start = 0): { value: PyValue; end: number } {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const utf8 = new TextDecoder('utf-8', { fatal: true });
  const stack: Slot[] = [];
  const marks: number[] = [];
  // Every container made counts against a budget: 3 MB of EMPTY_LIST + APPEND built a million nested lists
  // (300 MB); a state dict makes a few per tensor.
  let containers = 0;
  const made = <T>(v: T): T => {
    if (++containers > MAX_PICKLE_CONTAINERS)
      fail(`more than ${MAX_PICKLE_CONTAINERS} lists, tuples, dicts and objects; a state dict needs a few per tensor`);
    return v;
  };
  let items = 0;
  const held = (n: number): void => {
    items += n;
    if (items > MAX_PICKLE_ITEMS)
      fail(`more than ${MAX_PICKLE_ITEMS} items in lists, tuples and dicts; a state dict needs about 16 per tensor`);
  };
  const heldAll = (xs: PyValue[]): PyValue[] => {
    held(xs.length);
    return xs;
  };
  const memo = new Map<number, PyValue>();
  const memoize = (i: number, v: PyValue): void => {
    if (memo.size >= MAX_PICKLE_MEMO && !memo.has(i))
      fail(`more than ${MAX_PICKLE_MEMO} memo entries; a state dict needs about 8 per tensor`);
    memo.set(i, v);
  };
  const push = (v: Slot): void => {
    if (stack.length >= MAX_PICKLE_STACK)
      fail(`more than ${MAX_PICKLE_STACK} values on the stack; a state dict needs a few thousand`);
    stack.push(v);
  };
  let p = start;
  let op = 0;
  let opAt = start;

  const fail = (msg: string): never => {
    throw new CheckpointError(`invalid pickle in ${opts.where} at byte ${opAt}: ${msg}`, opts.file);
  };
  const need = (n: number): number => {
    if (p + n > bytes.byteLength) {
      throw new PickleTruncated(
        `invalid pickle in ${opts.where} at byte ${opAt}: truncated (needs ${n} more bytes, ${bytes.byteLength - p} left)`,
        opts.file,
      );
    }
    const at = p;
    p += n;
    return at;
  };
  const pop = (): PyValue => {
    if (stack.length === 0 || (marks.length && stack.length <= marks[marks.length - 1]!)) fail('stack underflow');
    return stack.pop() as PyValue;
  };
  const top = (): PyValue => {
    if (stack.length === 0 || (marks.length && stack.length <= marks[marks.length - 1]!)) fail('stack underflow');
    return stack[stack.length - 1] as PyValue;
  };
  const popMark = (): PyValue[] => {
    const m = marks.pop();
    if (m === undefined) fail('no MARK on the stack');
    const items = stack.splice(m!) as PyValue[];
    return items;
  };
  const str = (n: number): string => {
    const at = need(n);
    try {
      return utf8.decode(bytes.subarray(at, at + n));
    } catch {
      return fail('string is not valid UTF-8');
    }
  };
  const latin1 = (n: number): string => {
    const at = need(n);
    let s = '';
    for (let i = 0; i < n; i++) s += String.fromCharCode(bytes[at + i]!);
    return s;
  };
  const line = (): string => {
    const nl = bytes.indexOf(0x0a, p);
    if (nl < 0 || nl - p > 4096) fail('unterminated GLOBAL name');
    const s = latin1(nl - p);
    p++;
    return s;
  };
  const key = (k: PyValue): PyKey => {
    if (k === null || ['string', 'number', 'bigint', 'boolean'].includes(typeof k)) return k as PyKey;
    return fail('unsupported dict key type (only str/int/bool/None)');
  };
  const setItems = (target: PyValue, kv: PyValue[]) => {
    if (!(target instanceof PyDict)) fail('SETITEM(S) on a non-dict');
    if (kv.length % 2) fail('SETITEMS with an odd number of items');
    const map = (target as PyDict).map;
    held(kv.length / 2);
    for (let i = 0; i < kv.length; i += 2) {
      const k = key(kv[i]!);
      // Python keeps the last value of a repeated key; torch.save never repeats one, so a repeat is tampering.
      if (map.has(k)) fail(`duplicate dict key ${typeof k === 'string' ? JSON.stringify(k) : String(k)}`);
      map.set(k, kv[i + 1]!);
    }
  };
  const append = (target: PyValue, items: PyValue[]) => {
    if (!Array.isArray(target)) fail('APPEND(S) on a non-list');
    held(items.length);
    for (const it of items) (target as PyValue[]).push(it);
  };
  const long = (n: number): bigint => {
    const at = need(n);
    let v = 0n;
    for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt(bytes[at + i]!);
    if (n > 0 && bytes[at + n - 1]! & 0x80) v -= 1n << BigInt(8 * n);
    return v;
  };

  for (;;) {
    opAt = p;
    op = bytes[need(1)]!;
    switch (op) {
      case 0x80: // PROTO
        if (bytes[need(1)]! > 5) fail(`unsupported protocol ${bytes[p - 1]}`);
        break;
      case 0x95: // FRAME: a length hint only
        need(8);
        break;
      case 0x2e: // STOP
        if (stack.length !== 1 || marks.length) fail(`STOP with ${stack.length} values on the stack`);
        return { value: stack[0] as PyValue, end: p };
      case 0x28: // MARK
        if (marks.length >= MAX_PICKLE_MARKS) fail(`more than ${MAX_PICKLE_MARKS} MARKs open at once`);
        marks.push(stack.length);
        break;
      case 0x30: // POP
        if (stack.length && marks.length && stack.length === marks[marks.length - 1]) marks.pop();
        else pop();
        break;
      case 0x31: // POP_MARK
        popMark();
        break;
      case 0x32: // DUP
        push(top());
        break;
      case 0x7d: // EMPTY_DICT
        push(made(new PyDict()));
        break;
      case 0x5d: // EMPTY_LIST
        push(made([]));
        break;
      case 0x29: // EMPTY_TUPLE
        push(made(new PyTuple([])));
        break;
      case 0x74: // TUPLE
        push(made(new PyTuple(heldAll(popMark()))));
        break;
      case 0x85: // TUPLE1
        push(made(new PyTuple([pop()])));
        break;
      case 0x86: {
        const b = pop();
        push(made(new PyTuple([pop(), b])));
        break;
      }
      case 0x87: {
        const c = pop();
        const b = pop();
        push(made(new PyTuple([pop(), b, c])));
        break;
      }
      case 0x6c: // LIST
        push(made(heldAll(popMark())));
        break;
      case 0x64: {
        // DICT
        const d = made(new PyDict());
        setItems(d, popMark());
        push(d);
        break;
      }
      case 0x61: {
        // APPEND
        const v = pop();
        append(top(), [v]);
        break;
      }
      case 0x65: {
        // APPENDS
        const items = popMark();
        append(top(), items);
        break;
      }
      case 0x73: {
        // SETITEM
        const v = pop();
        const k = pop();
        setItems(top(), [k, v]);
        break;
      }
      case 0x75: {
        // SETITEMS
        const items = popMark();
        setItems(top(), items);
        break;
      }
      case 0x58: // BINUNICODE
        push(str(dv.getUint32(need(4), true)));
        break;
      case 0x8c: // SHORT_BINUNICODE
        push(str(bytes[need(1)]!));
        break;
      case 0x8d: {
        // BINUNICODE8
        const n = dv.getBigUint64(need(8), true);
        if (n > BigInt(bytes.byteLength)) fail(`string length ${n} exceeds the pickle`);
        push(str(Number(n)));
        break;
      }
      case 0x54: // BINSTRING (py2 str: bytes, read as latin-1 like torch's encoding='latin1')
        {
          const n = dv.getInt32(need(4), true);
          if (n < 0) fail('negative string length');
          push(latin1(n));
        }
        break;
      case 0x55: // SHORT_BINSTRING
        push(latin1(bytes[need(1)]!));
        break;
      case 0x42: {
        // BINBYTES
        const n = dv.getUint32(need(4), true);
        const at = need(n);
        push(bytes.slice(at, at + n));
        break;
      }
      case 0x43: {
        // SHORT_BINBYTES
        const n = bytes[need(1)]!;
        const at = need(n);
        push(bytes.slice(at, at + n));
        break;
      }
      case 0x4a: // BININT
        push(dv.getInt32(need(4), true));
        break;
      case 0x4b: // BININT1
        push(bytes[need(1)]!);
        break;
      case 0x4d: // BININT2
        push(dv.getUint16(need(2), true));
        break;
      case 0x8a: {
        // LONG1: little-endian two's complement; small ones become numbers
        const v = long(bytes[need(1)]!);
        push(v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v);
        break;
      }
      case 0x8b: {
        // LONG4
        const n = dv.getInt32(need(4), true);
        if (n < 0 || n > 64) fail(`LONG4 of ${n} bytes refused`);
        const v = long(n);
        push(v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v);
        break;
      }
      case 0x47: // BINFLOAT (big-endian)
        push(dv.getFloat64(need(8), false));
        break;
      case 0x4e: // NONE
        push(null);
        break;
      case 0x88:
        push(true);
        break;
      case 0x89:
        push(false);
        break;
      case 0x71: // BINPUT
        memoize(bytes[need(1)]!, top());
        break;
      case 0x72: // LONG_BINPUT
        memoize(dv.getUint32(need(4), true), top());
        break;
      case 0x94: // MEMOIZE
        memoize(memo.size, top());
        break;
      case 0x68: // BINGET
      case 0x6a: {
        // LONG_BINGET
        const i = op === 0x68 ? bytes[need(1)]! : dv.getUint32(need(4), true);
        if (!memo.has(i)) fail(`memo key ${i} is not defined`);
        push(memo.get(i)!);
        break;
      }
      case 0x63: {
        // GLOBAL "module\nname\n" — the allowlist decides.
        const module = line();
        const name = line();
        push(opts.resolveGlobal(module, name));
        break;
      }
      case 0x52: {
        // REDUCE
        const args = pop();
        const fn = pop();
        if (!(fn instanceof PyGlobal) || !fn.call)
          fail(`REDUCE on ${fn instanceof PyGlobal ? fn.qualname : 'a non-callable'}`);
        if (!(args instanceof PyTuple)) fail('REDUCE arguments are not a tuple');
        push(made((fn as PyGlobal).call!((args as PyTuple).items)));
        break;
      }
      case 0x62: {
        // BUILD: only dicts (state_dict._metadata) and torch objects take state; the state is kept, not run.
        const state = pop();
        const obj = top();
        if (obj instanceof PyDict) obj.state = state;
        else if (!(typeof obj === 'object' && obj !== null && 'pyType' in obj)) fail('BUILD on an unsupported object');
        break;
      }
      case 0x51: {
        // BINPERSID
        const pid = pop();
        if (!opts.persistentLoad) fail('persistent id without a storage loader');
        push(opts.persistentLoad!(pid));
        break;
      }
      default: {
        const name = REFUSED[op];
        fail(name ? `opcode ${name} (0x${op.toString(16)}) is not allowed` : `unknown opcode 0x${op.toString(16)}`);
      }
    }
  }
}
