import fs from 'node:fs';
import path from 'node:path';
import { ValidationError } from '../../src/lib/errors';
import {
  clientNamespace,
  clientSnippet,
  clientsDirectory,
  phpSingleQuoted,
  renderClientFile,
  type ClientType,
} from '../../src/services/client-files.service';

const ID = '3f2b1c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d';
const TYPES: ClientType[] = ['plugin', 'theme'];
const raw = (type: ClientType) => fs.readFileSync(path.join(clientsDirectory(), `${type}_update_check.php`), 'utf8');

function validationFields(fn: () => unknown): Record<string, string> {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ValidationError);
    return (err as ValidationError).fields ?? {};
  }
  throw new Error('expected a ValidationError');
}

describe('renderClientFile', () => {
  it.each(TYPES)('fills in the %s client and changes nothing else', (type) => {
    const { filename, contents } = renderClientFile(type, { serverUrl: ' https://Updates.Example.com/ ', productId: ID.toUpperCase() });
    expect(filename).toBe(`${type}_update_check.php`);
    expect(contents).toContain("'server_url' => 'https://updates.example.com',");
    expect(contents).toContain(`'product_id' => '${ID}',`);
    expect(contents).not.toContain('{{WHARF_');
    const expected = raw(type)
      .replace("'{{WHARF_SERVER_URL}}'", "'https://updates.example.com'")
      .replace("'{{WHARF_PRODUCT_ID}}'", `'${ID}'`);
    expect(contents).toBe(expected);
  });

  it('keeps a port and a path prefix, without the trailing slash', () => {
    const { contents } = renderClientFile('plugin', { serverUrl: 'http://127.0.0.1:8080/wharf/', productId: ID });
    expect(contents).toContain("'server_url' => 'http://127.0.0.1:8080/wharf',");
  });

  it.each(['', 'abc', `${ID}'`, `${ID}x`, '../../etc/passwd', `'); phpinfo(); //`])('refuses the product ID %j', (productId) => {
    expect(validationFields(() => renderClientFile('plugin', { serverUrl: 'https://updates.example.com', productId }))).toHaveProperty('productId');
  });

  it.each([
    'ftp://updates.example.com',
    'javascript:alert(1)',
    'updates.example.com',
    'https://user:secret@updates.example.com',
    'https://updates.example.com/?a=1',
    'https://updates.example.com/#top',
    "https://updates.example.com/it's",
    'https://updates.example.com/a b',
    'https://updates.example.com/\nx',
    'https://updates.example.com/*/',
    'https://updates.example.com/\\',
    'https://updates.example.com/{{WHARF_PRODUCT_ID}}',
  ])('refuses the server URL %j', (serverUrl) => {
    expect(validationFields(() => renderClientFile('theme', { serverUrl, productId: ID }))).toHaveProperty('serverUrl');
  });
});

describe('phpSingleQuoted', () => {
  it('escapes quotes and backslashes, nothing else', () => {
    expect(phpSingleQuoted("it's")).toBe("'it\\'s'");
    expect(phpSingleQuoted('a\\b')).toBe("'a\\\\b'");
    expect(phpSingleQuoted('end\\')).toBe("'end\\\\'");
    expect(phpSingleQuoted('$x {$y} \\n')).toBe("'$x {$y} \\\\n'");
  });
});

describe('clientSnippet', () => {
  it('gives the two lines to paste, naming the versioned class', () => {
    expect(clientSnippet('plugin', { serverUrl: 'https://updates.example.com', productId: ID })).toBe(
      "require_once __DIR__ . '/plugin_update_check.php';\n\\Wharf\\UpdateClient\\V1_0_0\\PluginUpdateChecker::boot(__FILE__);",
    );
    expect(clientSnippet('theme', { serverUrl: 'https://updates.example.com', productId: ID })).toContain('ThemeUpdateChecker::boot(__FILE__);');
  });

  it.each(['plugin', 'theme'] as const)('is the snippet the %s file header shows, line for line', (type) => {
    const opts = { serverUrl: 'https://updates.example.com', productId: ID };
    const header = renderClientFile(type, opts).contents.split('*/')[0]!;
    for (const line of clientSnippet(type, opts).split('\n')) expect(header).toContain(` *     ${line}\n`);
  });

  it('validates like renderClientFile', () => {
    expect(validationFields(() => clientSnippet('plugin', { serverUrl: 'nope', productId: 'nope' }))).toEqual({
      productId: expect.any(String),
      serverUrl: expect.any(String),
    });
  });
});

describe('the PHP client files', () => {
  const shared = (text: string) => {
    const begin = text.indexOf('// ---- wharf-shared:begin');
    const end = text.indexOf('// ---- wharf-shared:end');
    expect(begin).toBeGreaterThan(0);
    expect(end).toBeGreaterThan(begin);
    return text.slice(begin, end);
  };

  it('plugin and theme clients carry byte-identical shared classes (they may be loaded together)', () => {
    expect(shared(raw('plugin'))).toBe(shared(raw('theme')));
  });

  it.each(TYPES)('%s: placeholders appear only in the bootstrap section at the end, each once, quoted', (type) => {
    const text = raw(type);
    const bootstrap = text.lastIndexOf('// ---- Filled in by the Wharf dashboard');
    expect(bootstrap).toBeGreaterThan(text.lastIndexOf('class '));
    expect(text.slice(0, bootstrap)).not.toContain('{{WHARF_');
    expect(text.match(/'\{\{WHARF_SERVER_URL\}\}'/g)).toHaveLength(1);
    expect(text.match(/'\{\{WHARF_PRODUCT_ID\}\}'/g)).toHaveLength(1);
    expect(text.match(/\{\{WHARF_/g)).toHaveLength(2);
  });

  it.each(TYPES)('%s: one versioned namespace, the same version everywhere', (type) => {
    const text = raw(type);
    expect(clientNamespace(type)).toBe('Wharf\\UpdateClient\\V1_0_0');
    expect(text.match(/^namespace /gm)).toHaveLength(1);
    expect(text).toContain("const VERSION = '1.0.0';");
    expect(text).toContain('version 1.0.0.');
    expect(fs.readFileSync(path.join(clientsDirectory(), 'CHANGELOG.md'), 'utf8')).toMatch(/^## 1\.0\.0\b/m);
  });

  it.each(TYPES)('%s: every class is guarded, nothing is declared outside a class', (type) => {
    const text = raw(type);
    const classes = [...text.matchAll(/^ {4}(?:abstract |final )?class (\w+)/gm)].map((m) => m[1]);
    expect(classes.length).toBeGreaterThanOrEqual(3);
    for (const name of classes) expect(text).toContain(`if (!class_exists(__NAMESPACE__ . '\\\\${name}', false)) {`);
    expect(text).not.toMatch(/^(?:function|const|define|class|interface|trait)\b/m);
    expect(text).not.toMatch(/^\s*(?:define\s*\(|\$GLOBALS\[[^\]]+\]\s*=)/m);
    expect(text).not.toMatch(/\?>\s*$/);
  });
});
