// The Unigram model as HF tokenizers runs it (tokenizers/src/models/unigram/model.rs, `encode_optimized`, after
// sentencepiece's unigram_model.cc): Viterbi over the pieces found at each character, scores added in float64,
// ties kept by the first candidate; a character with no one-character piece gets `<unk>` at the lowest score
// minus 10; consecutive `<unk>`s are fused into one token (whose text is looked up in the vocabulary again).
import { UnitTrie } from './unit-trie.js';

/** HF's K_UNK_PENALTY. */
const UNK_PENALTY = 10;

export class Unigram {
  readonly trie: UnitTrie;
  readonly scores: Float64Array;
  readonly minScore: number;
  // Lattice scratch, grown as needed: best score, start and piece of the best path ending at each unit.
  private best = new Float64Array(64);
  private from = new Int32Array(64);
  private bestId = new Int32Array(64);
  tokens = new Int32Array(192);
  private units = new Uint16Array(64);

  /**
   * `pieces[id]` and `scores[id]` in vocabulary order; `unkId` the piece used for unknown characters.
   * A piece listed twice resolves to its last id, as HF's token → id map does.
   */
  constructor(
    readonly pieces: readonly string[],
    scores: ArrayLike<number>,
    readonly unkId: number,
  ) {
    this.scores = Float64Array.from(scores);
    let min = Infinity;
    for (let i = 0; i < this.scores.length; i++) if (this.scores[i]! < min) min = this.scores[i]!;
    this.minScore = min;
    let units = 0;
    for (const p of pieces) units += p.length;
    this.trie = new UnitTrie(units);
    pieces.forEach((p, id) => this.trie.insert(p, id));
  }

  get size(): number {
    return this.pieces.length;
  }

  /** Id of a piece, -1 when it is not in the vocabulary. */
  idOf(piece: string): number {
    return this.trie.get(piece);
  }

  /**
   * Segments one pre-token, text[begin, to) with `▁` before it when `prepend`, and returns the number of tokens.
   * Token k (0 = the last one) is `tokens[3k]` (id), from unit `tokens[3k + 1]` to `tokens[3k + 2]` of that
   * pre-token (the `▁` is unit 0). The buffer is reused by the next call.
   */
  segment(text: string, begin: number, to: number, prepend: boolean): number {
    const n = to - begin + (prepend ? 1 : 0);
    if (n === 0) return 0;
    if (this.best.length < n + 1) {
      this.best = new Float64Array(2 * n + 2);
      this.from = new Int32Array(2 * n + 2);
      this.bestId = new Int32Array(2 * n + 2);
      this.tokens = new Int32Array(3 * (2 * n + 2));
      this.units = new Uint16Array(2 * n + 2);
    }
    const s = this.units;
    let k = 0;
    if (prepend) s[k++] = 0x2581;
    for (let i = begin; i < to; i++) s[k++] = text.charCodeAt(i);
    const { best, from, bestId, trie, scores, unkId } = this;
    const unkScore = this.minScore - UNK_PENALTY;
    best[0] = 0;
    from.fill(-1, 0, n + 1);
    for (let pos = 0; pos < n; ) {
      const till = best[pos]!;
      const c = s[pos]!;
      const w = c >= 0xd800 && c < 0xdc00 && pos + 1 < n && (s[pos + 1]! & 0xfc00) === 0xdc00 ? 2 : 1;
      let single = false;
      let node = 0;
      for (let j = pos; j < n; j++) {
        node = trie.next(node, s[j]!);
        if (node < 0) break;
        const id = trie.value(node);
        if (id < 0) continue;
        const key = j + 1;
        const score = scores[id]! + till;
        if (from[key]! < 0 || score > best[key]!) {
          best[key] = score;
          from[key] = pos;
          bestId[key] = id;
        }
        if (key - pos === w) single = true;
      }
      if (!single) {
        const key = pos + w;
        const score = unkScore + till;
        if (from[key]! < 0 || score > best[key]!) {
          best[key] = score;
          from[key] = pos;
          bestId[key] = unkId;
        }
      }
      pos += w;
    }
    // Back from the end, fusing runs of <unk>: [id, start, end] triples, last token first.
    const rev = this.tokens;
    let r = 0;
    let unkEnd = -1;
    let unkStart = -1;
    for (let end = n; end > 0; ) {
      const start = from[end]!;
      const id = bestId[end]!;
      if (id === unkId) {
        if (unkEnd < 0) unkEnd = end;
        unkStart = start;
      } else {
        if (unkEnd >= 0) {
          r = this.fused(s, unkStart, unkEnd, r);
          unkEnd = -1;
        }
        rev[r++] = id;
        rev[r++] = start;
        rev[r++] = end;
      }
      end = start;
    }
    if (unkEnd >= 0) r = this.fused(s, unkStart, unkEnd, r);
    return r / 3;
  }

  /** Records a run of <unk> as one token; its text may itself be a piece (HF looks it up again). */
  private fused(s: Uint16Array, start: number, end: number, r: number): number {
    let node = 0;
    for (let i = start; i < end && node >= 0; i++) node = this.trie.next(node, s[i]!);
    const id = node < 0 ? -1 : this.trie.value(node);
    this.tokens[r++] = id >= 0 ? id : this.unkId;
    this.tokens[r++] = start;
    this.tokens[r++] = end;
    return r;
  }
}
