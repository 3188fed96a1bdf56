import crypto from 'node:crypto';
import type { Storage } from '../adapters/storage/storage';
import type { Db } from '../db/client';
import { findProduct } from '../db/queries/products.queries';
import { NotFoundError, ValidationError } from '../lib/errors';
import type { ProductsService } from './products.service';

/** Banner and icon images, uploaded straight to S3 like releases; WordPress shows them from /media/… */
export const MEDIA_KINDS = {
  bannerLow: { label: 'Banner (772×250)', maxBytes: 2 * 1024 * 1024 },
  bannerHigh: { label: 'Banner, high resolution (1544×500)', maxBytes: 4 * 1024 * 1024 },
  icon1x: { label: 'Icon (128×128)', maxBytes: 1024 * 1024 },
  icon2x: { label: 'Icon, high resolution (256×256)', maxBytes: 1024 * 1024 },
} as const;
export type MediaKind = keyof typeof MEDIA_KINDS;

// The types WordPress shows as banners and icons, each with the first bytes every such file starts with.
const TYPES: Record<string, { ext: string; magic: (b: Buffer) => boolean }> = {
  'image/png': { ext: 'png', magic: (b) => b.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) },
  'image/jpeg': { ext: 'jpg', magic: (b) => b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff },
  'image/gif': { ext: 'gif', magic: (b) => b.subarray(0, 4).toString('latin1') === 'GIF8' },
  'image/webp': { ext: 'webp', magic: (b) => b.subarray(0, 4).toString('latin1') === 'RIFF' && b.subarray(8, 12).toString('latin1') === 'WEBP' },
};
const PRESIGN_SECONDS = 15 * 60;
const FILE = /^(bannerLow|bannerHigh|icon1x|icon2x)-[0-9a-f]{16}\.(png|jpg|gif|webp)$/;

export function isMediaKind(v: unknown): v is MediaKind {
  return typeof v === 'string' && Object.hasOwn(MEDIA_KINDS, v);
}

export class MediaService {
  constructor(
    private readonly db: Db,
    private readonly storage: Storage,
    private readonly products: ProductsService,
    private readonly publicUrl: string,
  ) {}

  /** A presigned POST for one image of that kind and type, limited to the kind's size. */
  async presign(userId: string, productId: string, kind: MediaKind, contentType: unknown) {
    const product = await this.products.get(userId, productId);
    const type = typeof contentType === 'string' ? TYPES[contentType] : undefined;
    if (!type) throw new ValidationError('Choose a PNG, JPEG, GIF or WebP image.', { file: 'Choose a PNG, JPEG, GIF or WebP image.' });
    const key = `${prefix(userId, product.id)}${kind}-${crypto.randomBytes(8).toString('hex')}.${type.ext}`;
    const { maxBytes } = MEDIA_KINDS[kind];
    const post = await this.storage.presignPost({ key, maxBytes, expiresSeconds: PRESIGN_SECONDS, contentType: contentType as string });
    return { key, url: post.url, fields: post.fields, maxBytes };
  }

  /** Checks the uploaded object (size, and that its first bytes are the image type its name says), then uses it. */
  async attach(userId: string, productId: string, kind: MediaKind, key: unknown): Promise<string> {
    const product = await this.products.get(userId, productId);
    const base = prefix(userId, product.id);
    const file = typeof key === 'string' && key.startsWith(base) ? key.slice(base.length) : '';
    if (!FILE.test(file) || !file.startsWith(`${kind}-`)) throw new NotFoundError('No such upload');
    const head = await this.storage.head(key as string);
    if (!head) throw new NotFoundError('No such upload: send the image to the storage first.');
    const type = Object.values(TYPES).find((t) => file.endsWith(`.${t.ext}`))!;
    const refuse = async (why: string) => {
      await this.storage.delete(key as string).catch(() => undefined);
      throw new ValidationError(why, { file: why });
    };
    if (head.size > MEDIA_KINDS[kind].maxBytes) await refuse(`The image is larger than ${MEDIA_KINDS[kind].maxBytes / 1048576} MB.`);
    if (!type.magic(await this.storage.readRange(key as string, 0, Math.min(16, head.size)))) await refuse('That file is not the image it claims to be.');
    const url = `${this.publicUrl}/media/${product.id}/${file}`;
    const old = product[kind];
    await this.products.update(userId, product.id, { [kind]: url }, { partial: true });
    // The image it replaces goes, when it was one of ours.
    const oldFile = old?.startsWith(`${this.publicUrl}/media/${product.id}/`) ? old.slice(`${this.publicUrl}/media/${product.id}/`.length) : '';
    if (FILE.test(oldFile) && oldFile !== file) await this.storage.delete(`${base}${oldFile}`).catch(() => undefined);
    return url;
  }

  /** Public: a short-lived S3 link for a product's image, or null. */
  async link(productId: string, file: string): Promise<string | null> {
    if (!FILE.test(file) || !/^[0-9a-f-]{36}$/.test(productId)) return null;
    const product = await findProduct(this.db, productId);
    if (!product) return null;
    return this.storage.presignGet(`${prefix(product.userId, product.id)}${file}`, { expiresSeconds: 3600, filename: file });
  }
}

function prefix(userId: string, productId: string): string {
  return `vendors/${userId}/products/${productId}/media/`;
}
