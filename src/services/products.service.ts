import { z } from 'zod';
import type { Storage } from '../adapters/storage/storage';
import type { Db } from '../db/client';
import * as q from '../db/queries/products.queries';
import { NotFoundError, ValidationError } from '../lib/errors';
import { isUuid, multilineText, optionalText, optionalUrl, parseInput, plainText, requiredText } from '../lib/validation';
import type { Logger } from '../logger';

export type Product = q.ProductRow;

const slug = plainText({ error: 'Enter the slug.' })
  .trim()
  .regex(/^[a-z0-9][a-z0-9._-]{0,99}$/, 'Use lowercase letters, digits, dots, dashes or underscores (the folder name inside the zip).');

const editable = {
  name: requiredText(200, 'Enter a name.'),
  homepage: optionalUrl,
  author: optionalText(200),
  authorHomepage: optionalUrl,
  description: multilineText(100_000).optional(),
  installation: multilineText(100_000).optional(),
  changelog: multilineText(100_000).optional(),
  free: z.union([z.boolean(), z.enum(['on', 'true', '1', 'false', '0', ''])]).optional().transform((v) => v === true || v === 'on' || v === 'true' || v === '1'),
  bannerLow: optionalUrl,
  bannerHigh: optionalUrl,
  icon1x: optionalUrl,
  icon2x: optionalUrl,
};

const createSchema = z.object({
  type: z.enum(['plugin', 'theme'], { error: 'Choose plugin or theme.' }),
  slug,
  ...editable,
});
const updateSchema = z.object(editable).partial();

export type CreateProductInput = z.input<typeof createSchema>;

export class ProductsService {
  constructor(
    private readonly db: Db,
    private readonly storage: Storage,
    private readonly logger: Logger,
    private readonly onChanged: (productId: string) => void = () => undefined,
  ) {}

  list(userId: string) {
    return q.listProducts(this.db, userId);
  }

  async get(userId: string, id: string): Promise<Product> {
    const row = isUuid(id) ? await q.findOwnedProduct(this.db, userId, id) : undefined;
    if (!row) throw new NotFoundError('No such product');
    return row;
  }

  async create(userId: string, input: unknown): Promise<Product> {
    const v = parseInput(createSchema, input);
    const row = await q.insertProduct(this.db, { ...v, description: v.description ?? '', installation: v.installation ?? '', changelog: v.changelog ?? '', userId });
    if (!row) throw new ValidationError('Please correct the highlighted fields.', { slug: `You already have a ${v.type} with the slug "${v.slug}".` });
    return row;
  }

  async update(userId: string, id: string, input: unknown, { partial = false } = {}): Promise<Product> {
    await this.get(userId, id);
    const raw = (input ?? {}) as Record<string, unknown>;
    const v = parseInput(partial ? updateSchema : z.object(editable), raw);
    // A partial (API PATCH) update touches only the fields it names.
    const changes: Record<string, unknown> = Object.fromEntries(Object.entries(v).filter(([k]) => !partial || k in raw));
    if (typeof raw.slug === 'string') changes.slug = await this.newSlug(id, raw.slug);
    const row = await q.updateProduct(this.db, userId, id, changes).catch((err: { code?: string; cause?: { code?: string } }) => {
      if (err.code === '23505' || err.cause?.code === '23505') throw new ValidationError('Please correct the highlighted fields.', { slug: 'You already have a product of this type with that slug.' });
      throw err;
    });
    if (!row) throw new NotFoundError('No such product');
    this.onChanged(id);
    return row;
  }

  /** The slug is the folder inside every zip: it may change only while no release exists. */
  private async newSlug(id: string, value: string): Promise<string> {
    const s = parseInput(z.object({ slug }), { slug: value }).slug;
    const fixed = 'The slug cannot change once a release exists: it is the folder inside every zip.';
    if ((await q.listVersions(this.db, id)).length) throw new ValidationError(fixed, { slug: fixed });
    return s;
  }

  /** Deletes the product, its versions (cascade) and every object it stored. */
  async delete(userId: string, id: string): Promise<void> {
    const product = await this.get(userId, id);
    const keys = new Set<string>();
    for (const v of await q.listVersions(this.db, product.id)) keys.add(v.s3Key);
    for (const u of await q.listUploadKeysOfProduct(this.db, product.id)) keys.add(u.key);
    if (!(await q.deleteProduct(this.db, userId, id))) throw new NotFoundError('No such product');
    this.onChanged(id);
    for (const key of keys) {
      await this.storage.delete(key).catch((err) => this.logger.warn({ err, key }, 'storage: could not delete object'));
    }
  }
}
