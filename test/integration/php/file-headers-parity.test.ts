import fc from 'fast-check';
import { HEADER_BYTES, parsePluginHeaders, PLUGIN_HEADERS } from '../../../src/services/packages/wp-headers';
import { pathologicalTexts } from '../../support/pathological';
import { wpFileData } from '../../support/wp-kses';

/** parseFileHeaders (a linear scan) against WordPress's own get_file_data() (a PCRE regex), byte for byte. */

const LINE_PARTS = ['<?php', ' ', '\t', '/*', '*/', '*', '#', '@', '//', '?>', 'Plugin Name:', 'plugin name:', 'PLUGIN NAME :', 'Version:', 'Author URI:', 'Author:', 'Description:', ' x', '0', 'é', '\r', '\r\n', '\0', '\v', '\f', 'Name:'];
const headerLine = fc.array(fc.oneof(fc.constantFrom(...LINE_PARTS), fc.string({ unit: 'grapheme-ascii', maxLength: 4 })), { maxLength: 12 }).map((p) => p.join(''));
const file = fc.array(headerLine, { maxLength: 8 }).map((lines) => lines.join('\n'));

test('agrees with get_file_data() on generated header blocks, hostile runs and the 8 KiB cut', () => {
  const files = [
    ...fc.sample(file, { numRuns: 600, seed: 20261202 }),
    ...Object.values(pathologicalTexts(20_000)).map((t) => `<?php\n/*\n * Plugin Name: ${t}\n * Version: 1.0 ${t}\n${t}\n * Author: x\n */`),
    `<?php\n/*${'x'.repeat(HEADER_BYTES)}*/\n * Plugin Name: Too Late\n`,
    `<?php\n * Plugin Name: ${'é'.repeat(HEADER_BYTES)}\n`,
    '\uFEFF<?php\n/**\n * Plugin Name: BOM\n * Version: 2\n */',
  ].map((s) => Buffer.from(s, 'utf8'));
  const expected = wpFileData(files, PLUGIN_HEADERS);
  const mismatches = files
    .map((bytes, i) => ({ file: bytes.toString('utf8').slice(0, 300), ours: parsePluginHeaders(bytes), wordpress: expected[i] }))
    .filter((m) => JSON.stringify(m.ours) !== JSON.stringify(m.wordpress));
  expect(mismatches.slice(0, 3)).toEqual([]);
});
