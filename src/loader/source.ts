// Random-access bytes of a checkpoint file. Readers ask for byte ranges instead of loading the whole file,
// so a 400 MB checkpoint costs one copy of each tensor, not a file buffer plus tensors.
import { closeSync, readSync } from 'node:fs';
import { CheckpointError, InputError } from '../errors.js';
import { openRegularFile } from '../io/read-file.js';

export interface ByteSource {
  /** Shown in error messages (the file path). */
  readonly name: string;
  readonly size: number;
  /** `length` bytes from `offset`; the result owns its own ArrayBuffer from byte 0 when `fresh` is asked. */
  read(offset: number, length: number, fresh?: boolean): Uint8Array;
  close(): void;
}

function checkRange(src: ByteSource, offset: number, length: number, what: string): void {
  if (
    !Number.isSafeInteger(offset) ||
    !Number.isSafeInteger(length) ||
    offset < 0 ||
    length < 0 ||
    offset + length > src.size
  ) {
    throw new CheckpointError(
      `${what}: bytes ${offset}..${offset + length} lie outside the ${src.size}-byte file (truncated?)`,
      src.name,
    );
  }
}

export class MemorySource implements ByteSource {
  readonly size: number;
  constructor(
    readonly bytes: Uint8Array,
    readonly name: string,
  ) {
    this.size = bytes.byteLength;
  }
  read(offset: number, length: number, fresh = false): Uint8Array {
    checkRange(this, offset, length, 'read');
    const view = this.bytes.subarray(offset, offset + length);
    return fresh ? view.slice() : view;
  }
  close(): void {}
}

export class FileSource implements ByteSource {
  readonly size: number;
  private fd: number | undefined;
  constructor(readonly name: string) {
    // A regular file only (a FIFO or device would hang or never end), its size from fstat on this descriptor.
    const { fd, size } = openRegularFile(name);
    this.fd = fd;
    this.size = size;
  }
  read(offset: number, length: number): Uint8Array {
    checkRange(this, offset, length, 'read');
    if (this.fd === undefined) throw new InputError('read after close', this.name);
    // allocUnsafeSlow: an unpooled buffer starting at byte 0 of its own ArrayBuffer (aligned for Float32Array).
    const out = new Uint8Array(Buffer.allocUnsafeSlow(length).buffer, 0, length);
    let done = 0;
    while (done < length) {
      const n = readSync(this.fd, out, done, Math.min(length - done, 1 << 30), offset + done);
      if (n === 0) throw new CheckpointError(`unexpected end of file at byte ${offset + done}`, this.name);
      done += n;
    }
    return out;
  }
  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}
