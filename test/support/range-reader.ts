import type { RangeReader } from '../../src/services/packages/range-reader';

/** A RangeReader over memory that counts what was read, so tests can prove the inspector reads little. */
export interface CountingRangeReader extends RangeReader {
  readonly bytesRead: number;
  readonly reads: number;
}

export function bufferRangeReader(buf: Buffer): CountingRangeReader {
  let bytesRead = 0;
  let reads = 0;
  return {
    size: buf.length,
    get bytesRead() {
      return bytesRead;
    },
    get reads() {
      return reads;
    },
    async read(offset: number, length: number): Promise<Buffer> {
      // Out-of-range reads are bugs in the caller; a real object store would fail them too.
      if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0 || offset + length > buf.length) {
        throw new RangeError(`Read of ${length} bytes at ${offset} is outside the ${buf.length}-byte object`);
      }
      bytesRead += length;
      reads++;
      return buf.subarray(offset, offset + length);
    },
  };
}
