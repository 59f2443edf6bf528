// SentencePiece's compiled normalization rules (`precompiled_charsmap`, e.g. `nmt_nfkc`) and HF tokenizers'
// `Precompiled` normalizer over them, offsets included.
//
// The blob (sentencepiece normalizer.cc; HF's spm_precompiled crate reads it the same way): a little-endian u32
// byte size of a darts-clone double-array trie, the trie's u32 units, then NUL-terminated replacement strings.
// The trie maps UTF-8 byte strings to the offset of their replacement.
//
// The normalizer (tokenizers/src/normalizers/precompiled.rs) walks extended grapheme clusters: a cluster shorter
// than 6 UTF-8 bytes is replaced whole when the *shortest* key that prefixes it has a rule, otherwise each code
// point is looked up alone. Each replacement is recorded as HF's `(char, change)` list and applied the way
// `NormalizedString::transform` applies it, quirks included: a deleted character moves the previous output
// character's alignment on, and one deleted at the very start of a piece is lost, which shifts the rest of
// the piece one character to the left (`\x7fdelete` → `de` [0, 2]).
import { CheckpointError } from '../errors.js';
import { isGraphemeJoiner, segmentGraphemes } from './graphemes.js';
import { codePoints } from './offsets.js';

/** Normalized text with, for each of its UTF-16 units, the original code points [start, end) it came from. */
export interface Normalized {
  text: string;
  start: Int32Array;
  end: Int32Array;
}

const NONE = -1; // no rule for this code point
const UNKNOWN = 0; // not looked up yet

export class Precompiled {
  private readonly array: Uint32Array;
  private readonly strings: Uint8Array;
  /** Replacement by blob offset, decoded once. */
  private readonly decoded = new Map<number, string>();
  /** Per BMP code point: UNKNOWN, NONE, or 1 + the blob offset of its replacement. */
  private readonly bmp = new Int32Array(65536);
  private readonly astral = new Map<number, number>();
  // Scratch space for one piece: output code points and their HF `change` values.
  private outCp = new Int32Array(256);
  private outChange = new Int32Array(256);
  private utf8 = new Uint8Array(16);

  constructor(bytes: Uint8Array, file?: string) {
    const bad = (msg: string): never => {
      throw new CheckpointError(`precompiled_charsmap: ${msg}`, file);
    };
    if (bytes.length < 4) bad(`${bytes.length} bytes, too short for its header`);
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const trieSize = view.getUint32(0, true);
    const units = Math.floor(trieSize / 4);
    if (units === 0) bad('empty trie');
    if (4 + units * 4 > bytes.length) bad(`trie of ${trieSize} bytes runs past the end (${bytes.length} bytes)`);
    this.array = new Uint32Array(units);
    for (let i = 0; i < units; i++) this.array[i] = view.getUint32(4 + 4 * i, true);
    this.strings = bytes.slice(4 + units * 4);
    try {
      new TextDecoder('utf-8', { fatal: true }).decode(this.strings);
    } catch {
      bad('replacement strings are not valid UTF-8');
    }
  }

  static fromBase64(b64: string, file?: string): Precompiled {
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(b64) || b64.length % 4 === 1) {
      throw new CheckpointError('precompiled_charsmap is not base64', file);
    }
    return new Precompiled(new Uint8Array(Buffer.from(b64, 'base64')), file);
  }

  /**
   * The rule for the shortest key that prefixes the UTF-8 bytes of s[from, to), as spm_precompiled's
   * `transform`; undefined when none. The walk stops at a NUL byte, so U+0000 never matches.
   */
  transform(s: string, from: number, to: number): string | undefined {
    let n = 0;
    for (let i = from; i < to; i++) {
      let c = s.charCodeAt(i);
      if (c >= 0xd800 && c < 0xdc00 && i + 1 < to) {
        const d = s.charCodeAt(i + 1);
        if (d >= 0xdc00 && d < 0xe000) {
          c = ((c - 0xd800) << 10) + (d - 0xdc00) + 0x10000;
          i++;
        }
      }
      n = this.putUtf8(c, n);
    }
    const at = this.search(this.utf8, n);
    return at < 0 ? undefined : this.stringAt(at);
  }

  /** The rule for one code point (cached); undefined when none. */
  private ruleOf(c: number): string | undefined {
    let v = c < 65536 ? this.bmp[c]! : (this.astral.get(c) ?? UNKNOWN);
    if (v === UNKNOWN) {
      const at = this.search(this.utf8, this.putUtf8(c, 0));
      v = at < 0 ? NONE : at + 1;
      if (c < 65536) this.bmp[c] = v;
      else this.astral.set(c, v);
    }
    return v === NONE ? undefined : this.stringAt(v - 1);
  }

  /** Writes the UTF-8 bytes of `c` (a lone surrogate as its 3-byte form, which no key has) at `n`. */
  private putUtf8(c: number, n: number): number {
    if (this.utf8.length < n + 4) {
      const grown = new Uint8Array(2 * this.utf8.length + 4);
      grown.set(this.utf8);
      this.utf8 = grown;
    }
    const b = this.utf8;
    if (c < 0x80) b[n++] = c;
    else if (c < 0x800) {
      b[n++] = 0xc0 | (c >> 6);
      b[n++] = 0x80 | (c & 63);
    } else if (c < 0x10000) {
      b[n++] = 0xe0 | (c >> 12);
      b[n++] = 0x80 | ((c >> 6) & 63);
      b[n++] = 0x80 | (c & 63);
    } else {
      b[n++] = 0xf0 | (c >> 18);
      b[n++] = 0x80 | ((c >> 12) & 63);
      b[n++] = 0x80 | ((c >> 6) & 63);
      b[n++] = 0x80 | (c & 63);
    }
    return n;
  }

  /** darts-clone common-prefix search, first (shortest) hit only; -1 when none. Out-of-range units end it. */
  private search(key: Uint8Array, n: number): number {
    const a = this.array;
    let unit = a[0]!;
    let pos = offsetOf(unit);
    for (let i = 0; i < n; i++) {
      const c = key[i]!;
      if (c === 0) return -1;
      pos ^= c;
      if (pos >= a.length) return -1;
      unit = a[pos]!;
      if ((unit & 0x800000ff) >>> 0 !== c) return -1;
      pos ^= offsetOf(unit);
      if ((unit >>> 8) & 1) return pos < a.length ? a[pos]! & 0x7fffffff : -1;
    }
    return -1;
  }

  private stringAt(at: number): string {
    let s = this.decoded.get(at);
    if (s === undefined) {
      const bytes = this.strings;
      let end = Math.min(at, bytes.length);
      while (end < bytes.length && bytes[end] !== 0) end++;
      s = Buffer.from(
        bytes.buffer,
        bytes.byteOffset + Math.min(at, bytes.length),
        end - Math.min(at, bytes.length),
      ).toString('utf8');
      this.decoded.set(at, s);
    }
    return s;
  }

  /**
   * Normalizes text[from, to) as HF's `Precompiled` normalizer; `cp0` is the code-point index of text[from]
   * in the whole text, which the alignments count from. The alignment arrays are this object's buffers: valid
   * until its next `normalize`.
   */
  normalize(text: string, from: number, to: number, cp0: number): Normalized {
    this.n = 0;
    this.modified = false;
    if (!hasJoiner(text, from, to)) {
      for (let i = from; i < to; ) {
        const c = codePointIn(text, i, to);
        this.single(c);
        i += c > 0xffff ? 2 : 1;
      }
    } else {
      for (const [gs, ge] of segmentGraphemes(text, from, to)) {
        const c = codePointIn(text, gs, ge);
        if (gs + (c > 0xffff ? 2 : 1) === ge) {
          this.single(c);
          continue;
        }
        if (utf8Length(text, gs, ge) < 6) {
          const rule = this.transform(text, gs, ge);
          if (rule !== undefined) {
            this.replace(codePoints(text, gs, ge), rule);
            continue;
          }
        }
        for (let i = gs; i < ge; ) {
          const d = codePointIn(text, i, ge);
          this.single(d);
          i += d > 0xffff ? 2 : 1;
        }
      }
    }
    return this.modified ? this.apply(this.n, cp0, codePoints(text, from, to)) : this.identity(text, from, to, cp0);
  }

  // The output so far of `normalize`: code points and their HF `change` values.
  private n = 0;
  private modified = false;

  private push(c: number, change: number): void {
    const n = this.n;
    if (n === this.outCp.length) {
      const cps = new Int32Array(2 * n);
      cps.set(this.outCp);
      this.outCp = cps;
      const ch = new Int32Array(2 * n);
      ch.set(this.outChange);
      this.outChange = ch;
    }
    this.outCp[n] = c;
    this.outChange[n] = change;
    this.n = n + 1;
  }

  /**
   * HF's `replace`: the new characters, the last (new - old) of them marked as inserted; on a shrink, the last
   * character so far (possibly from an earlier cluster) also removes the difference.
   */
  private replace(oldCount: number, norm: string): void {
    this.modified = true;
    const first = this.n;
    for (let i = 0; i < norm.length; ) {
      const c = norm.codePointAt(i)!;
      this.push(c, 0);
      i += c > 0xffff ? 2 : 1;
    }
    const diff = this.n - first - oldCount;
    if (diff > 0) for (let k = this.n - diff; k < this.n; k++) this.outChange[k] = 1;
    else if (diff < 0 && this.n > 0) this.outChange[this.n - 1]! += diff;
  }

  /** One code point, looked up alone. */
  private single(c: number): void {
    const rule = this.ruleOf(c);
    if (rule === undefined) this.push(c, 0);
    else this.replace(1, rule);
  }

  /**
   * `NormalizedString::transform` over a fresh piece of `count` code points: a character with change ≤ 0
   * takes the alignment of the next unconsumed original character and consumes 1 - change of them; one with
   * change > 0 is inserted and shares the alignment of the character before it.
   */
  private apply(n: number, cp0: number, count: number): Normalized {
    let units = 0;
    for (let k = 0; k < n; k++) units += this.outCp[k]! > 0xffff ? 2 : 1;
    const { start, end, chars } = this.scratch(units);
    let idx = 0; // next original code point (relative) to consume
    let u = 0;
    for (let k = 0; k < n; k++) {
      const c = this.outCp[k]!;
      const change = this.outChange[k]!;
      let s: number;
      if (change > 0) s = idx < 1 ? -1 : cp0 + Math.min(idx, count) - 1;
      else {
        s = cp0 + Math.min(idx, count - 1);
        idx += 1 - change;
      }
      // an inserted character before any original one has HF's empty (0, 0) alignment
      const a = s < 0 ? cp0 : s;
      const b = s < 0 ? cp0 : s + 1;
      if (c > 0xffff) {
        chars[u] = 0xd800 + ((c - 0x10000) >> 10);
        start[u] = a;
        end[u++] = b;
        chars[u] = 0xdc00 + ((c - 0x10000) & 0x3ff);
      } else chars[u] = c;
      start[u] = a;
      end[u++] = b;
    }
    return { text: unitsToString(chars, u), start: start.subarray(0, u), end: end.subarray(0, u) };
  }

  /** text[from, to) unchanged, each unit aligned to its own code point (counted from `cp0`). */
  private identity(text: string, from: number, to: number, cp0: number): Normalized {
    const { start, end } = this.scratch(to - from);
    fillIdentity(text, from, to, cp0, start, end);
    return {
      text: from === 0 && to === text.length ? text : text.slice(from, to),
      start: start.subarray(0, to - from),
      end: end.subarray(0, to - from),
    };
  }

  // Output buffers, reused: a Normalized from this object is valid until its next `normalize`.
  private startBuf = new Int32Array(256);
  private endBuf = new Int32Array(256);
  private charBuf = new Uint16Array(256);

  private scratch(units: number): { start: Int32Array; end: Int32Array; chars: Uint16Array } {
    if (this.startBuf.length < units) {
      const size = Math.max(units, 2 * this.startBuf.length);
      this.startBuf = new Int32Array(size);
      this.endBuf = new Int32Array(size);
      this.charBuf = new Uint16Array(size);
    }
    return { start: this.startBuf, end: this.endBuf, chars: this.charBuf };
  }
}

function offsetOf(unit: number): number {
  return (unit >>> 10) << ((unit & 0x200) >>> 6);
}

/** text[from, to) unchanged, each unit aligned to its own code point (counted from `cp0`). */
export function identityNormalized(text: string, from: number, to: number, cp0: number): Normalized {
  const start = new Int32Array(to - from);
  const end = new Int32Array(to - from);
  fillIdentity(text, from, to, cp0, start, end);
  return { text: from === 0 && to === text.length ? text : text.slice(from, to), start, end };
}

function fillIdentity(text: string, from: number, to: number, cp0: number, start: Int32Array, end: Int32Array): void {
  let cp = cp0;
  for (let i = from; i < to; i++) {
    start[i - from] = cp;
    end[i - from] = cp + 1;
    const c = text.charCodeAt(i);
    if (c >= 0xd800 && c < 0xdc00 && i + 1 < to) {
      const d = text.charCodeAt(i + 1);
      if (d >= 0xdc00 && d < 0xe000) {
        i++;
        start[i - from] = cp;
        end[i - from] = cp + 1;
      }
    }
    cp++;
  }
}

/** chars[0, n) as a string, in slices small enough for fromCharCode's argument list. */
function unitsToString(chars: Uint16Array, n: number): string {
  if (n <= 4096) return String.fromCharCode.apply(null, chars.subarray(0, n) as unknown as number[]);
  const parts: string[] = [];
  for (let i = 0; i < n; i += 4096)
    parts.push(String.fromCharCode.apply(null, chars.subarray(i, Math.min(n, i + 4096)) as unknown as number[]));
  return parts.join('');
}

/** True when some character of text[from, to) may join a grapheme cluster with its neighbour. */
function hasJoiner(text: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) {
    const c = codePointIn(text, i, to);
    if (c > 0xffff) i++;
    if (isGraphemeJoiner(c)) return true;
  }
  return false;
}

/** The code point at text[i], a surrogate pair only when both halves lie before `to`. */
function codePointIn(text: string, i: number, to: number): number {
  const c = text.charCodeAt(i);
  if (c >= 0xd800 && c < 0xdc00 && i + 1 < to) {
    const d = text.charCodeAt(i + 1);
    if (d >= 0xdc00 && d < 0xe000) return ((c - 0xd800) << 10) + (d - 0xdc00) + 0x10000;
  }
  return c;
}

function utf8Length(text: string, from: number, to: number): number {
  let n = 0;
  for (let i = from; i < to; i++) {
    const c = codePointIn(text, i, to);
    if (c > 0xffff) {
      n += 4;
      i++;
    } else n += c < 0x80 ? 1 : c < 0x800 ? 2 : 3;
  }
  return n;
}
