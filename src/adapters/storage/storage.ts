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
  /** SHA-256 (hex) of an object's bytes, read in constant memory. */
  sha256(key: string): Promise<string>;
  delete(key: string): Promise<void>;
  presignGet(key: string, opts: { expiresSeconds: number; filename: string }): Promise<string>;
  ping(): Promise<void>;
  close(): Promise<void>;
}
