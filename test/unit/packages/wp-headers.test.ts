import { parseFileHeaders, parsePluginHeaders, parseThemeHeaders } from '../../../src/services/packages/wp-headers';
import { pathologicalTexts } from '../../support/pathological';
import { expectWithinSync } from '../../support/timing';

describe('WordPress file headers (get_file_data)', () => {
  it('reads every plugin header from a docblock', () => {
    const php = `<?php
/**
 * Plugin Name:       My Plugin
 * Plugin URI:        https://example.com/my-plugin
 * Description:       Does things.
 * Version:           1.2.3
 * Requires at least: 5.8
 * Tested up to:      6.5
 * Requires PHP:      7.4
 * Author:            Alice
 * Author URI:        https://example.com
 * Text Domain:       my-plugin
 * Update URI:        https://updates.example.com
 */`;
    expect(parsePluginHeaders(php)).toEqual({
      name: 'My Plugin',
      pluginUri: 'https://example.com/my-plugin',
      version: '1.2.3',
      description: 'Does things.',
      author: 'Alice',
      authorUri: 'https://example.com',
      requiresWp: '5.8',
      testedUpTo: '6.5',
      requiresPhp: '7.4',
      textDomain: 'my-plugin',
      updateUri: 'https://updates.example.com',
    });
  });

  it('reads theme headers from style.css, case-insensitively', () => {
    const css = '/*\nTHEME NAME: Twenty Test\ntheme uri: https://t.example\nversion: 2.0\nTemplate: twentytwentyfour\n*/';
    expect(parseThemeHeaders(css)).toMatchObject({ name: 'Twenty Test', themeUri: 'https://t.example', version: '2.0', template: 'twentytwentyfour', author: '' });
  });

  it('trims a closing */ or ?> and what follows, and handles CR line endings', () => {
    expect(parsePluginHeaders('<?php /* Plugin Name: One Liner */ ?>').name).toBe('One Liner');
    expect(parsePluginHeaders('<?php\r# Plugin Name: Hash ?> rest\r// Version: 3.1\r').version).toBe('3.1');
    expect(parsePluginHeaders('<?php\r# Plugin Name: Hash ?> rest').name).toBe('Hash');
  });

  it('takes the first matching line, even when its value is empty or "0" (as PHP does)', () => {
    expect(parsePluginHeaders('<?php\n * Version:\n * Version: 2.0\n').version).toBe('');
    expect(parsePluginHeaders('<?php\n * Version: 0\n * Version: 2.0\n').version).toBe('0');
    expect(parsePluginHeaders('<?php\n * Version:0\n').version).toBe('');
    expect(parsePluginHeaders('<?php\n * Version: 1.0\n * Version: 2.0\n').version).toBe('1.0');
  });

  it('ignores headers not at the start of a line or after other text', () => {
    expect(parsePluginHeaders('<?php\n$x = "Plugin Name: Nope";\n').name).toBe('');
    expect(parsePluginHeaders('<?php\n * My Plugin Name: Nope\n').name).toBe('');
  });

  it('reads only the first 8 KiB', () => {
    const padding = `<?php\n/*${'x'.repeat(8200)}*/\n`;
    expect(parsePluginHeaders(`${padding} * Plugin Name: Too Late\n`).name).toBe('');
    expect(parsePluginHeaders(Buffer.from(`<?php\n * Plugin Name: Early\n${padding}`)).name).toBe('Early');
  });

  it('escapes header names used as patterns', () => {
    expect(parseFileHeaders('# A.B (c)*: value', { k: 'A.B (c)*' })).toEqual({ k: 'value' });
    expect(parseFileHeaders('# AxB (c): value', { k: 'A.B (c)' })).toEqual({ k: '' });
  });

  it('stays linear on hostile header lines (the old comment-cleanup regex was quadratic in runs of spaces)', () => {
    for (const text of Object.values(pathologicalTexts())) {
      for (const file of [text, `<?php\n * Plugin Name: ${text}`, `<?php\n/* Author: a${text.slice(0, 8000)}*/`, `${' '.repeat(8000)}<?php ${text}`]) {
        expectWithinSync(2000, () => parsePluginHeaders(file));
      }
    }
    expect(parsePluginHeaders(`<?php\n * Plugin Name: a${' '.repeat(4000)}b${' '.repeat(4000)}*/`).name).toBe(`a${' '.repeat(4000)}b`);
  });
});
