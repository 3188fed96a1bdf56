import fs from 'node:fs';
import path from 'node:path';
import { ValidationError } from '../lib/errors';

/** The PHP update clients vendors bundle: filled in with their server URL and product ID. */

export type ClientType = 'plugin' | 'theme';

export interface ClientFileOptions {
  serverUrl: string;
  productId: string;
}

const FILES: Record<ClientType, { filename: string; className: string }> = {
  plugin: { filename: 'plugin_update_check.php', className: 'PluginUpdateChecker' },
  theme: { filename: 'theme_update_check.php', className: 'ThemeUpdateChecker' },
};

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
// Host, optional port, optional path of unreserved characters: nothing that could end a PHP string or comment.
const SAFE_URL = /^https?:\/\/[a-z0-9.-]+(:\d{1,5})?(\/[A-Za-z0-9._~%!$&()+,;=:@/-]*)?$/;
const QUOTED_PLACEHOLDER = /'\{\{(WHARF_SERVER_URL|WHARF_PRODUCT_ID)\}\}'/g;
const ANY_PLACEHOLDER = /\{\{WHARF_[A-Z_]+\}\}/;

let clientsDir: string | undefined;
const cache = new Map<ClientType, string>();

/** clients/php, found by walking up from here: src/services under jest, dist/src/services when built. */
export function clientsDirectory(): string {
  if (clientsDir) return clientsDir;
  for (let dir = __dirname, i = 0; i < 6; i++, dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'clients', 'php');
    if (fs.existsSync(path.join(candidate, FILES.plugin.filename))) return (clientsDir = candidate);
  }
  throw new Error(`clients/php not found above ${__dirname}`);
}

function template(type: ClientType): string {
  let text = cache.get(type);
  if (text === undefined) {
    text = fs.readFileSync(path.join(clientsDirectory(), FILES[type].filename), 'utf8');
    cache.set(type, text);
  }
  return text;
}

/** Escapes a value for a PHP single-quoted string literal. */
export function phpSingleQuoted(value: string): string {
  return `'${value.replace(/[\\']/g, (c) => `\\${c}`)}'`;
}

/** Validates and normalises the inputs; throws ValidationError with a message per field. */
export function validateClientOptions(opts: ClientFileOptions): ClientFileOptions {
  const fields: Record<string, string> = {};
  const productId = opts.productId.trim().toLowerCase();
  if (!UUID.test(productId)) fields.productId = 'Must be a product ID (UUID).';
  let serverUrl = '';
  const raw = opts.serverUrl.trim();
  try {
    if (/[\s\u0000-\u001f\u007f\\'"<>`{}|^*]/.test(raw)) throw new Error('characters URLs do not carry');
    const url = new URL(raw);
    if (url.username || url.password || url.search || url.hash) throw new Error('extra parts');
    serverUrl = `${url.protocol}//${url.host}${url.pathname}`.replace(/\/+$/, '');
    if (!SAFE_URL.test(serverUrl)) throw new Error('unsafe characters');
  } catch {
    fields.serverUrl = 'Must be an http:// or https:// address without user, query or fragment.';
  }
  if (Object.keys(fields).length) throw new ValidationError('Cannot build the update client.', fields);
  return { serverUrl, productId };
}

/** The client file with the placeholders of its bootstrap section filled in. */
export function renderClientFile(type: ClientType, opts: ClientFileOptions): { filename: string; contents: string } {
  const { serverUrl, productId } = validateClientOptions(opts);
  const values: Record<string, string> = { WHARF_SERVER_URL: serverUrl, WHARF_PRODUCT_ID: productId };
  // One pass, and each placeholder sits inside '…' in the file: the quotes of the escaped value replace them.
  const contents = template(type).replace(QUOTED_PLACEHOLDER, (_m, key: string) => phpSingleQuoted(values[key] ?? ''));
  if (ANY_PLACEHOLDER.test(contents)) throw new Error(`${FILES[type].filename}: a placeholder is outside a quoted string`);
  return { filename: FILES[type].filename, contents };
}

/** The PHP namespace of the bundled client, e.g. Wharf\UpdateClient\V1_0_0. */
export function clientNamespace(type: ClientType = 'plugin'): string {
  const match = /^namespace\s+([A-Za-z0-9_\\]+);/m.exec(template(type));
  if (!match?.[1]) throw new Error(`${FILES[type].filename}: no namespace line`);
  return match[1];
}

/**
 * The two lines a vendor pastes into the main plugin file (or the theme's functions.php): the same
 * two the downloaded file's header shows, since that file already holds the server URL and product id.
 */
export function clientSnippet(type: ClientType, opts: ClientFileOptions): string {
  validateClientOptions(opts);
  const { filename, className } = FILES[type];
  return [`require_once __DIR__ . '/${filename}';`, `\\${clientNamespace(type)}\\${className}::boot(__FILE__);`].join('\n');
}
