/** Random access to a stored object by byte ranges, so a zip can be inspected without fetching it whole. */

export interface RangeReader {
  /** Total size of the object in bytes. */
  readonly size: number;
  /** Resolves with exactly `length` bytes starting at `offset` (both within `size`). */
  read(offset: number, length: number): Promise<Buffer>;
}
