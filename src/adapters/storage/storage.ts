export interface PresignedPost {
  url: string;
  fields: Record<string, string>;
}

export interface PresignPostOptions {
  key: string;
  maxBytes: number;
  expiresSeconds: number;
  contentType: string;
  /** Where S3 sends the browser after a plain (no-JavaScript) form post. */
  successRedirect?: string;
}

export interface ObjectHead {
  size: number;
  contentType: string | undefined;
}

/** What Wharf needs of an object store; S3 and S3-compatible servers implement it. */
export interface Storage {
  readonly bucket: string;
  presignPost(opts: PresignPostOptions): Promise<PresignedPost>;
  head(key: string): Promise<ObjectHead | null>;
  /** Bytes [offset, offset + length) of an object. */
  readRange(key: string, offset: number, length: number): Promise<Buffer>;
  /**
   * Reads a whole object once, in order, in constant memory: each chunk is valid only during the call
   * (the buffer may be reused) and a returned promise pauses reading until it settles. Resolves with the byte count.
   */
  scan(key: string, onChunk: (chunk: Buffer) => void | Promise<void>): Promise<number>;
  /**
   * Writes a stream of unknown length to a key in constant memory (multipart upload in 5 MiB parts,
   * one PutObject when it is smaller); resolves with the byte count once the object exists.
   */
  putStream(key: string, body: NodeJS.ReadableStream, contentType: string): Promise<number>;
  /** Server-side copy (CopyObject): no bytes pass through the app. */
  copy(fromKey: string, toKey: string): Promise<void>;
  delete(key: string): Promise<void>;
  /** Every key under a prefix (all pages). */
  list(prefix: string): Promise<string[]>;
  /** Deletes every object under a prefix; returns how many. */
  deletePrefix(prefix: string): Promise<number>;
  presignGet(key: string, opts: { expiresSeconds: number; filename: string }): Promise<string>;
  ping(): Promise<void>;
  close(): Promise<void>;
}
