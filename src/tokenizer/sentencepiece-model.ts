// A reader for SentencePiece's `ModelProto` (sentencepiece_model.proto; the `sentencepiece.bpe.model` that
// XLM-R repos ship): the pieces with scores and types, the trainer fields that name the special pieces, and the
// normalizer spec with its `precompiled_charsmap`. A minimal protobuf wire-format reader: every length is
// checked against the bytes that remain, unknown fields are skipped, groups are refused.
import { CheckpointError } from '../errors.js';

/** SentencePiece.Type */
export const PieceType = { NORMAL: 1, UNKNOWN: 2, CONTROL: 3, USER_DEFINED: 4, UNUSED: 5, BYTE: 6 } as const;

export interface SentencePiece {
  piece: string;
  score: number;
  type: number;
}

export interface SentencePieceModel {
  pieces: SentencePiece[];
  trainer: {
    /** 1 unigram, 2 bpe, 3 word, 4 char */
    modelType: number;
    unkId: number;
    bosId: number;
    eosId: number;
    padId: number;
    byteFallback: boolean;
  };
  normalizer: {
    name: string;
    precompiledCharsmap: Uint8Array;
    addDummyPrefix: boolean;
    removeExtraWhitespaces: boolean;
    escapeWhitespaces: boolean;
  };
}

const utf8 = new TextDecoder('utf-8');

class Reader {
  pos: number;
  constructor(
    readonly buf: Uint8Array,
    start: number,
    readonly end: number,
    readonly file: string | undefined,
    readonly what: string,
  ) {
    this.pos = start;
  }

  fail(msg: string): never {
    throw new CheckpointError(`not a SentencePiece model: ${this.what}: ${msg} at byte ${this.pos}`, this.file);
  }

  /** A varint as a number: exact up to 2^53; int32 fields read it back with `| 0`. */
  varint(): number {
    let result = 0;
    let mult = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) this.fail('truncated varint');
      const b = this.buf[this.pos++]!;
      if (i < 8) result += (b & 0x7f) * mult;
      mult *= 128;
      if ((b & 0x80) === 0) return result;
    }
    return this.fail('varint longer than 10 bytes');
  }

  /** An int32 field: the low 32 bits of the varint (negative values are sign-extended to 64 bits on the wire). */
  int32(): number {
    const first = this.pos;
    this.varint();
    let x = 0;
    for (let i = 0, p = first; i < 5 && p < this.pos; i++, p++) x |= (this.buf[p]! & 0x7f) << (7 * i);
    return x | 0;
  }

  bytes(): [number, number] {
    const len = this.varint();
    if (len > this.end - this.pos) this.fail(`length ${len} runs past the end`);
    const start = this.pos;
    this.pos += len;
    return [start, this.pos];
  }

  string(): string {
    const [s, e] = this.bytes();
    return utf8.decode(this.buf.subarray(s, e));
  }

  float(): number {
    if (this.end - this.pos < 4) this.fail('truncated float');
    const v = new DataView(this.buf.buffer, this.buf.byteOffset + this.pos, 4).getFloat32(0, true);
    this.pos += 4;
    return v;
  }

  skip(wire: number): void {
    if (wire === 0) this.varint();
    else if (wire === 1) this.advance(8);
    else if (wire === 2) this.bytes();
    else if (wire === 5) this.advance(4);
    else this.fail(`unsupported wire type ${wire}`);
  }

  private advance(n: number): void {
    if (this.end - this.pos < n) this.fail('truncated field');
    this.pos += n;
  }

  /** Calls `on(field, wire)` for each field; `on` reads the value or returns false to skip it. */
  fields(on: (field: number, wire: number) => boolean): void {
    while (this.pos < this.end) {
      const key = this.varint();
      const field = Math.floor(key / 8);
      const wire = key % 8;
      if (field === 0) this.fail('field number 0');
      if (!on(field, wire)) this.skip(wire);
    }
  }

  sub(what: string): Reader {
    const [s, e] = this.bytes();
    return new Reader(this.buf, s, e, this.file, what);
  }
}

/** Parses a `ModelProto`. Errors name the file and the byte where the encoding broke. */
export function readSentencePieceModel(buf: Uint8Array, file?: string): SentencePieceModel {
  const model: SentencePieceModel = {
    pieces: [],
    trainer: { modelType: 1, unkId: 0, bosId: 1, eosId: 2, padId: -1, byteFallback: false },
    normalizer: {
      name: '',
      precompiledCharsmap: new Uint8Array(0),
      addDummyPrefix: true,
      removeExtraWhitespaces: true,
      escapeWhitespaces: true,
    },
  };
  const r = new Reader(buf, 0, buf.length, file, 'ModelProto');
  r.fields((field, wire) => {
    if (wire !== 2 || field > 3) return false;
    if (field === 1) {
      const p = r.sub(`piece ${model.pieces.length}`);
      const piece: SentencePiece = { piece: '', score: 0, type: PieceType.NORMAL };
      p.fields((f, w) => {
        if (f === 1 && w === 2) piece.piece = p.string();
        else if (f === 2 && w === 5) piece.score = p.float();
        else if (f === 3 && w === 0) piece.type = p.int32();
        else return false;
        return true;
      });
      model.pieces.push(piece);
    } else if (field === 2) {
      const t = r.sub('trainer_spec');
      const spec = model.trainer;
      t.fields((f, w) => {
        if (w !== 0) return false;
        if (f === 3) spec.modelType = t.int32();
        else if (f === 35) spec.byteFallback = t.varint() !== 0;
        else if (f === 40) spec.unkId = t.int32();
        else if (f === 41) spec.bosId = t.int32();
        else if (f === 42) spec.eosId = t.int32();
        else if (f === 43) spec.padId = t.int32();
        else return false;
        return true;
      });
    } else {
      const n = r.sub('normalizer_spec');
      const spec = model.normalizer;
      n.fields((f, w) => {
        if (f === 1 && w === 2) spec.name = n.string();
        else if (f === 2 && w === 2) {
          const [s, e] = n.bytes();
          spec.precompiledCharsmap = buf.slice(s, e);
        } else if (f === 3 && w === 0) spec.addDummyPrefix = n.varint() !== 0;
        else if (f === 4 && w === 0) spec.removeExtraWhitespaces = n.varint() !== 0;
        else if (f === 5 && w === 0) spec.escapeWhitespaces = n.varint() !== 0;
        else return false;
        return true;
      });
    }
    return true;
  });
  if (model.pieces.length === 0) throw new CheckpointError('not a SentencePiece model: no pieces', file);
  return model;
}
