// The safe unpickler on pickles CPython wrote (hex below, from pickle.dumps), and its refusals.
import { describe, expect, it } from 'vitest';
import { CheckpointError } from '../../src/errors.js';
import { PyDict, PyGlobal, PyTuple, type PyValue, unpickle } from '../../src/loader/pickle.js';

const hex = (s: string) => Uint8Array.from(s.match(/../g)!.map((b) => parseInt(b, 16)));
const refuse = (m: string, n: string): PyGlobal => {
  throw new CheckpointError(`refusing pickle global ${m}.${n}`, 'f');
};
const load = (bytes: Uint8Array, resolveGlobal = refuse) =>
  unpickle(bytes, { where: 'test', file: 'f', resolveGlobal }).value;

/** PyValue → plain JS for comparison. */
function plain(v: PyValue): unknown {
  if (v instanceof PyDict) return Object.fromEntries([...v.map].map(([k, x]) => [String(k), plain(x)]));
  if (v instanceof PyTuple) return { tuple: v.items.map(plain) };
  if (Array.isArray(v)) return v.map(plain);
  return v;
}

// {'a': [1, -2, 2**40, -2**70, 1.5, None, True, False, 'ü', b'xy'], 'b': (1, 2, 3, 4), 'c': {'n': (), 'm': [[], {}]}}
const P4 =
  '80049565000000000000007d94288c0161945d94284b014afeffffff8a060000000000018a090000000000000000c0473ff80000000000004e88898c02c3bc944302787994658c016294284b014b024b034b0474948c0163947d94288c016e94298c016d945d94285d947d946575752e';
const P2_BYTES =
  '80027d71002858010000006171015d7102284b014afeffffff8a060000000000018a090000000000000000c0473ff80000000000004e88895802000000c3bc7103635f636f646563730a656e636f64650a710458020000007879710558060000006c6174696e317106867107527108655801000000627109284b014b024b034b0474710a580100000063710b7d710c2858010000006e710d2958010000006d710e5d710f285d71107d71116575752e';

describe('unpickle', () => {
  it('reads a protocol 4 pickle (FRAME, MEMOIZE, SHORT_BINUNICODE, LONG1, BINFLOAT, SHORT_BINBYTES)', () => {
    expect(plain(load(hex(P4)))).toEqual({
      a: [1, -2, 2 ** 40, -(2n ** 70n), 1.5, null, true, false, 'ü', Uint8Array.from([0x78, 0x79])],
      b: { tuple: [1, 2, 3, 4] },
      c: { n: { tuple: [] }, m: [[], {}] },
    });
  });

  it('keeps shared references shared (BINPUT / BINGET)', () => {
    const v = load(hex('80027d71002858010000007871015d7102284b014b026558010000007971036802752e')) as PyDict;
    expect(v.map.get('x')).toBe(v.map.get('y'));
    expect(v.map.get('x')).toEqual([1, 2]);
  });

  it('asks the allowlist for every global, and names the refused one', () => {
    // Protocol 2 pickles bytes through _codecs.encode.
    expect(() => load(hex(P2_BYTES))).toThrow(/refusing pickle global _codecs\.encode/);
    const seen: string[] = [];
    const v = load(hex(P2_BYTES), (m, n) => {
      seen.push(`${m}.${n}`);
      return new PyGlobal(m, n, (args) => new TextEncoder().encode(String(args[0])));
    }) as PyDict;
    expect(seen).toEqual(['_codecs.encode']);
    expect(plain(v.map.get('b')!)).toEqual({ tuple: [1, 2, 3, 4] });
  });

  it('refuses protocol 0 text opcodes by name', () => {
    expect(() => load(new TextEncoder().encode('(dp0\nVa\np1\n.'))).toThrow(/opcode PUT \(0x70\) is not allowed/);
  });

  it('reports the byte offset of the failing opcode', () => {
    expect(() => load(hex('80024b01'))).toThrow(/at byte 4: truncated/);
    expect(() => load(hex('8002ff'))).toThrow(/at byte 2: unknown opcode 0xff/);
  });
});
