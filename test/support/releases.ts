import { buildZip, cssWithHeaders, phpWithHeaders, type ZipEntrySpec } from './zip-builder';

export function pluginZip(slug: string, version: string, opts: { name?: string; readme?: string; extra?: ZipEntrySpec[]; headers?: Record<string, string> } = {}): Buffer {
  const headers = {
    'Plugin Name': opts.name ?? 'Test Plugin',
    Version: version,
    'Requires at least': '5.8',
    'Tested up to': '6.4',
    'Requires PHP': '7.4',
    Author: 'Acme',
    'Author URI': 'https://acme.test',
    ...opts.headers,
  };
  return buildZip([
    { name: `${slug}/` },
    { name: `${slug}/${slug}.php`, data: phpWithHeaders(headers, "defined('ABSPATH') || exit;\n") },
    ...(opts.readme ? [{ name: `${slug}/readme.txt`, data: opts.readme }] : []),
    ...(opts.extra ?? []),
  ]);
}

export function themeZip(slug: string, version: string, opts: { name?: string } = {}): Buffer {
  return buildZip([
    { name: `${slug}/` },
    { name: `${slug}/style.css`, data: cssWithHeaders({ 'Theme Name': opts.name ?? 'Test Theme', Version: version, Author: 'Acme', 'Requires at least': '5.8' }) },
    { name: `${slug}/index.php`, data: '<?php // Silence.' },
  ]);
}

/** POST a file to a presigned S3 POST exactly as a browser form would (fields first, file last). */
export async function postToS3(post: { url: string; fields: Record<string, string> }, zip: Buffer, filename = 'release.zip') {
  const form = new FormData();
  for (const [k, v] of Object.entries(post.fields)) form.append(k, v);
  form.append('file', new Blob([new Uint8Array(zip)], { type: 'application/zip' }), filename);
  return fetch(post.url, { method: 'POST', body: form, redirect: 'manual' });
}

export const README = `=== Test Plugin ===
Contributors: acme
Requires at least: 5.8
Tested up to: 6.4
Requires PHP: 7.4
Stable tag: 1.1

Short description of the plugin.

== Description ==
The **best** plugin.

== Installation ==
1. Upload it.

== Changelog ==
= 1.1 =
* Faster.

= 1.0 =
* First release.

== Upgrade Notice ==
= 1.1 =
Upgrade for speed.
`;
