// A minimal zip reader for torch checkpoints (https://pkware.cachefly.net/webdocs/casestudies/APPNOTE.TXT):
// the central directory is the truth (torch's local headers carry no sizes), Zip64 records are honoured,
// entries are stored (method 0; deflate is accepted, CRC-checked). Only byte ranges are read.
import { crc32, inflateRawSync } from 'node:zlib';
import { CheckpointError } from '../errors.js';
import type { ByteSource } from './source.js';

const EOCD_SIG = 0x06054b50;
const ZIP64_LOCATOR_SIG = 0x07064b50;
const ZIP64_EOCD_SIG = 0x06064b50;
const CDH_SIG = 0x02014b50;
const LOCAL_SIG = 0x04034b50;
/** zlib's largest possible expansion of a deflate stream. */
const MAX_DEFLATE_RATIO = 1032;
/** One entry per storage (16 384 tensors, as safetensors headers are capped) and a few records. */
export const MAX_ZIP_ENTRIES = 16_384 + 64;

export interface ZipEntry {
  name: string;
  method: number;
  crc: number;
  compressedSize: number;
  size: number;
  /** Offset of the local file header. */
  localOffset: number;
}

export class ZipReader {
  readonly entries = new Map<string, ZipEntry>();

  constructor(readonly src: ByteSource) {
    const fail = (msg: string): never => {
      throw new CheckpointError(`invalid zip: ${msg}`, src.name);
    };
    // End of central directory: 22 bytes + a comment of up to 65535 bytes at the very end.
    const tailLen = Math.min(src.size, 22 + 0xffff);
    const tail = src.read(src.size - tailLen, tailLen);
    const tv = new DataView(tail.buffer, tail.byteOffset, tail.byteLength);
    let eocd = -1;
    for (let i = tailLen - 22; i >= 0; i--) {
      if (tv.getUint32(i, true) === EOCD_SIG && i + 22 + tv.getUint16(i + 20, true) === tailLen) {
        eocd = i;
        break;
      }
    }
    if (eocd < 0) fail('no end-of-central-directory record (truncated file?)');
    let count: number = tv.getUint16(eocd + 10, true);
    let cdSize: number = tv.getUint32(eocd + 12, true);
    let cdOffset: number = tv.getUint32(eocd + 16, true);
    const eocdAbs = src.size - tailLen + eocd;
    if (count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) {
      // Zip64: a 20-byte locator just before the EOCD points at the Zip64 EOCD record.
      if (eocdAbs < 20) fail('Zip64 locator missing');
      const loc = src.read(eocdAbs - 20, 20);
      const lv = new DataView(loc.buffer, loc.byteOffset, 20);
      if (lv.getUint32(0, true) !== ZIP64_LOCATOR_SIG) fail('Zip64 locator missing');
      const recOffset = safe(lv.getBigUint64(8, true), 'Zip64 record offset', fail);
      if (recOffset + 56 > eocdAbs - 20) fail(`Zip64 record offset ${recOffset} is out of range`);
      const rec = src.read(recOffset, 56);
      const rv = new DataView(rec.buffer, rec.byteOffset, 56);
      if (rv.getUint32(0, true) !== ZIP64_EOCD_SIG) fail('bad Zip64 end-of-central-directory signature');
      count = safe(rv.getBigUint64(32, true), 'entry count', fail);
      cdSize = safe(rv.getBigUint64(40, true), 'central directory size', fail);
      cdOffset = safe(rv.getBigUint64(48, true), 'central directory offset', fail);
    }
    if (cdOffset + cdSize > eocdAbs)
      fail(`central directory (${cdSize} bytes at ${cdOffset}) runs past its end record`);
    if (count > cdSize / 46) fail(`${count} entries cannot fit in a ${cdSize}-byte central directory`);
    // A checkpoint has data.pkl, a few small records and one entry per storage (at most one per tensor):
    // 300 000 empty entries cost 250 MB to index for nothing.
    if (count > MAX_ZIP_ENTRIES)
      fail(`${count} entries, more than the ${MAX_ZIP_ENTRIES} a checkpoint of at most 16384 tensors has`);

    const cd = src.read(cdOffset, cdSize);
    const cv = new DataView(cd.buffer, cd.byteOffset, cd.byteLength);
    const utf8 = new TextDecoder('utf-8', { fatal: false });
    let p = 0;
    for (let k = 0; k < count; k++) {
      if (p + 46 > cdSize || cv.getUint32(p, true) !== CDH_SIG) fail(`central directory entry ${k} is malformed`);
      const flags = cv.getUint16(p + 8, true);
      const method = cv.getUint16(p + 10, true);
      const crc = cv.getUint32(p + 16, true);
      let compressedSize: number = cv.getUint32(p + 20, true);
      let size: number = cv.getUint32(p + 24, true);
      const nameLen = cv.getUint16(p + 28, true);
      const extraLen = cv.getUint16(p + 30, true);
      const commentLen = cv.getUint16(p + 32, true);
      let localOffset: number = cv.getUint32(p + 42, true);
      const end = p + 46 + nameLen + extraLen + commentLen;
      if (end > cdSize) fail(`central directory entry ${k} runs past the directory`);
      const name = utf8.decode(cd.subarray(p + 46, p + 46 + nameLen));
      // Zip64 extended information (0x0001) holds, in order, only the fields that were 0xFFFFFFFF.
      let q = p + 46 + nameLen;
      const extraEnd = q + extraLen;
      while (q + 4 <= extraEnd) {
        const id = cv.getUint16(q, true);
        const len = cv.getUint16(q + 2, true);
        if (q + 4 + len > extraEnd) fail(`entry ${name}: extra field runs past its end`);
        if (id === 0x0001) {
          let r = q + 4;
          const next = (what: string): number => {
            if (r + 8 > q + 4 + len) fail(`entry ${name}: Zip64 extra field lacks the ${what}`);
            const v = safe(cv.getBigUint64(r, true), what, fail);
            r += 8;
            return v;
          };
          if (size === 0xffffffff) size = next('size');
          if (compressedSize === 0xffffffff) compressedSize = next('compressed size');
          if (localOffset === 0xffffffff) localOffset = next('local header offset');
        }
        q += 4 + len;
      }
      if (localOffset + 30 + compressedSize > cdOffset)
        fail(`entry ${name} (${compressedSize} bytes at ${localOffset}) overlaps the central directory`);
      // Encrypted bytes read as they are would be noise taken for weights (torch's reader refuses them too).
      if (flags & 0x41) fail(`entry ${name} is encrypted`);
      if (method !== 0 && method !== 8)
        fail(`entry ${name} uses compression method ${method} (only stored or deflate)`);
      if (method === 0 && compressedSize !== size)
        fail(`stored entry ${name} has compressed size ${compressedSize} ≠ size ${size}`);
      // Deflated entries (never written by torch) are inflated in one piece: cap them so a zip bomb cannot.
      if (method === 8 && size > 0x7fffffff) fail(`deflated entry ${name} claims ${size} bytes (more than 2 GiB)`);
      // Deflate expands at most 1032:1; a larger claim is a lie, found before anything is inflated.
      if (method === 8 && size > compressedSize * MAX_DEFLATE_RATIO + 64) {
        fail(
          `deflated entry ${name} claims ${size} bytes from ${compressedSize} compressed (deflate cannot expand that much)`,
        );
      }
      // Two entries of one name: which one a reader takes is arbitrary, so neither is trusted.
      if (this.entries.has(name)) fail(`entry ${name} appears twice`);
      this.entries.set(name, { name, method, crc, compressedSize, size, localOffset });
      p = end;
    }
  }

  /** Where an entry's bytes start: after its local header, whose name/extra lengths may differ from the directory's. */
  dataOffset(e: ZipEntry): number {
    const h = this.src.read(e.localOffset, 30);
    const hv = new DataView(h.buffer, h.byteOffset, 30);
    if (hv.getUint32(0, true) !== LOCAL_SIG)
      throw new CheckpointError(`invalid zip: bad local header for ${e.name}`, this.src.name);
    const start = e.localOffset + 30 + hv.getUint16(26, true) + hv.getUint16(28, true);
    if (start + e.compressedSize > this.src.size) {
      throw new CheckpointError(
        `invalid zip: entry ${e.name} runs past the end of the file (truncated?)`,
        this.src.name,
      );
    }
    return start;
  }

  /**
   * An entry's bytes; `verify` checks a stored entry's CRC-32 (cheap for small entries such as data.pkl).
   * `maxBytes`: the most the caller has use for; a larger entry is refused before a byte is read or inflated.
   */
  read(e: ZipEntry, verify = false, maxBytes = Infinity, what = 'its reader'): Uint8Array {
    if (e.size > maxBytes) {
      throw new CheckpointError(
        `invalid zip: ${e.name} holds ${e.size} bytes, more than the ${maxBytes} ${what} can use`,
        this.src.name,
      );
    }
    const raw = this.src.read(this.dataOffset(e), e.compressedSize);
    let data = raw;
    if (e.method === 8) {
      try {
        // maxOutputLength stops zlib as soon as the output passes the declared size.
        data = inflateRawSync(raw, { maxOutputLength: Math.max(1, e.size) });
      } catch (err) {
        const why =
          (err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE'
            ? `more than the ${e.size} bytes it declares`
            : (err as Error).message;
        throw new CheckpointError(`invalid zip: cannot inflate ${e.name} (${why})`, this.src.name);
      }
      if (data.byteLength !== e.size)
        throw new CheckpointError(
          `invalid zip: ${e.name} inflates to ${data.byteLength} bytes, expected ${e.size}`,
          this.src.name,
        );
    }
    // Deflated bytes are checked always: a damaged stream can inflate to the right length with wrong values.
    if ((verify || e.method === 8) && crc32(data) >>> 0 !== e.crc)
      throw new CheckpointError(`invalid zip: CRC mismatch in ${e.name} (corrupted file?)`, this.src.name);
    return data;
  }

  /** `length` bytes from `offset` of a stored entry, without reading the rest of it. */
  readRange(e: ZipEntry, offset: number, length: number): Uint8Array {
    if (e.method !== 0)
      throw new CheckpointError(`invalid zip: ${e.name} is compressed; it cannot be read in part`, this.src.name);
    if (offset < 0 || length < 0 || offset + length > e.size) {
      throw new CheckpointError(
        `invalid zip: bytes ${offset}..${offset + length} lie outside ${e.name} (${e.size} bytes)`,
        this.src.name,
      );
    }
    return this.src.read(this.dataOffset(e) + offset, length, true);
  }
}

function safe(v: bigint, what: string, fail: (m: string) => never): number {
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) fail(`${what} ${v} is too large`);
  return Number(v);
}
