import { formatCode } from '../licensing/purchase-code.format';

/** The pieces event data is built from, the same in every event that names them. */

export interface ProductRef {
  id: string;
  name: string;
  slug: string;
}

export interface CodeRef {
  id: string;
  code: string;
  note: string;
}

export function productRef(p: { id: string; name: string; slug: string }): ProductRef {
  return { id: p.id, name: p.name, slug: p.slug };
}

export function codeRef(c: { id: string; code: string; note: string }): CodeRef {
  return { id: c.id, code: formatCode(c.code), note: c.note };
}
