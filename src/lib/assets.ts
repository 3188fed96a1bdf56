import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { ensureBundles } from './bundles';

export interface AssetManifest {
  /** Source name (`app.js`) → public path (`/assets/app.3f2a9c1b.js`). */
  urls: Record<string, string>;
  /** Fingerprinted file name → source file on disk. */
  files: Record<string, string>;
}

export function publicFolder(): string {
  const up = __dirname.includes(`${path.sep}dist${path.sep}`) ? '../../..' : '../..';
  return path.resolve(__dirname, up, 'public');
}

function fingerprint(name: string, content: Buffer): string {
  const hash = crypto.createHash('sha256').update(content).digest('hex').slice(0, 12);
  const ext = path.extname(name);
  return `${name.slice(0, name.length - ext.length)}.${hash}${ext}`;
}

/** Files of npm packages served as our own assets, never from a CDN: public name → file on disk. */
const VENDOR: Record<string, () => string> = {
  // Chart.js (analytics charts): its UMD build, a single file.
  'chart.umd.min.js': () => path.join(path.dirname(require.resolve('chart.js')), 'chart.umd.min.js'),
};

/** Content-hashed names for every file in public/: a deploy changes the URL, so caches bust. */
export function buildAssetManifest(dir = publicFolder()): AssetManifest {
  const problem = ensureBundles(dir);
  if (problem) process.emitWarning(problem);
  const manifest: AssetManifest = { urls: {}, files: {} };
  const walk = (sub: string) => {
    for (const entry of fs.readdirSync(path.join(dir, sub), { withFileTypes: true })) {
      const rel = path.posix.join(sub, entry.name);
      if (entry.isDirectory()) walk(rel);
      else if (entry.name.endsWith('.src-hash') || entry.name.endsWith('.tmp')) continue;
      else {
        const file = path.join(dir, rel);
        const hashed = fingerprint(rel, fs.readFileSync(file));
        manifest.urls[rel] = `/assets/${hashed}`;
        manifest.files[hashed] = file;
      }
    }
  };
  walk('');
  for (const [rel, resolve] of Object.entries(VENDOR)) {
    const file = resolve();
    const hashed = fingerprint(rel, fs.readFileSync(file));
    manifest.urls[rel] = `/assets/${hashed}`;
    manifest.files[hashed] = file;
  }
  return manifest;
}

/** Write fingerprinted copies (for nginx to serve) and the manifest into outDir. */
export function writeFingerprintedAssets(outDir: string, manifest = buildAssetManifest()): void {
  fs.mkdirSync(outDir, { recursive: true });
  for (const [hashed, source] of Object.entries(manifest.files)) {
    const target = path.join(outDir, hashed);
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.copyFileSync(source, target);
  }
  fs.writeFileSync(path.join(outDir, 'manifest.json'), JSON.stringify(manifest.urls, null, 2));
}
