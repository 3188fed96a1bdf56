/**
 * Browser bundles (client/*.ts → public/*.bundle.js, not committed) made with esbuild: the rich text editor ships as one
 * fingerprinted file like every other asset, never from a CDN. Built by `npm run build`, and on demand when its
 * sources changed (tests, `npm start`); several processes may race: each writes a temporary file and renames it.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

export const BUNDLES: readonly { entry: string; out: string }[] = [{ entry: 'editor.ts', out: 'editor.bundle.js' }];

function sourceHash(clientDir: string, lockFile: string): string {
  const hash = crypto.createHash('sha256');
  for (const name of fs.readdirSync(clientDir).sort()) {
    const file = path.join(clientDir, name);
    if (fs.statSync(file).isFile()) hash.update(name).update(fs.readFileSync(file));
  }
  if (fs.existsSync(lockFile)) hash.update(fs.readFileSync(lockFile));
  return hash.digest('hex');
}

/** Builds the bundles whose sources changed; returns the problem when esbuild is not installed (production without dev dependencies and no build). */
export function ensureBundles(publicDir: string): string | null {
  const root = path.resolve(publicDir, '..');
  const clientDir = path.join(root, 'client');
  if (!fs.existsSync(clientDir)) return null;
  const hash = sourceHash(clientDir, path.join(root, 'package-lock.json'));
  for (const b of BUNDLES) {
    const out = path.join(publicDir, b.out);
    const marker = `${out}.src-hash`;
    if (fs.existsSync(out) && fs.existsSync(marker) && fs.readFileSync(marker, 'utf8') === hash) continue;
    let esbuild: typeof import('esbuild');
    try {
      esbuild = require('esbuild') as typeof import('esbuild');
    } catch {
      return fs.existsSync(out) ? null : `esbuild is not installed, so ${b.out} cannot be built (run npm run build with dev dependencies)`;
    }
    fs.mkdirSync(path.dirname(out), { recursive: true });
    const tmp = `${out}.${process.pid}.${crypto.randomUUID()}.tmp`;
    esbuild.buildSync({
      entryPoints: [path.join(clientDir, b.entry)],
      bundle: true,
      minify: true,
      format: 'iife',
      target: 'es2020',
      platform: 'browser',
      legalComments: 'none',
      outfile: tmp,
      logLevel: 'silent',
    });
    fs.renameSync(tmp, out);
    const tmpMarker = `${marker}.${process.pid}.tmp`;
    fs.writeFileSync(tmpMarker, hash);
    fs.renameSync(tmpMarker, marker);
  }
  return null;
}
