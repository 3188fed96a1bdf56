import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { pipeline } from 'node:stream/promises';
import yauzl from 'yauzl';
import { SecretBox } from '../../../src/lib/secret-box';
import { ArchiveError, capBytes, rewriteArchive } from '../../../src/services/git/archive-rewrite';
import { nextLink, pushedRefs } from '../../../src/services/git/git-providers';
import { tagMatches } from '../../../src/services/git/repositories.service';
import { buildZip } from '../../support/zip-builder';

const KEY = 'unit-test-secret-key-0123456789abcdefghij';

test('SecretBox: round trip, a fresh IV each time, tampering and another key refuse to open', () => {
  const box = new SecretBox(KEY);
  const a = box.seal('ghp_secret');
  const b = box.seal('ghp_secret');
  expect(a).not.toBe(b);
  expect(a).not.toContain('ghp_secret');
  expect(box.open(a)).toBe('ghp_secret');
  const [v, iv, data, tag] = a.split('.');
  const flipped = Buffer.from(data!, 'base64url');
  flipped[0]! ^= 1;
  expect(() => box.open([v, iv, flipped.toString('base64url'), tag].join('.'))).toThrow();
  expect(() => new SecretBox(KEY + 'x').open(a)).toThrow();
});

test('tag rules: comma-separated patterns, * matches anything, nothing else is special', () => {
  const rule = 'v*, *.*.*';
  expect(tagMatches(rule, 'v1.2.3')).toBe(true);
  expect(tagMatches(rule, '1.2.3')).toBe(true);
  expect(tagMatches(rule, '1.2')).toBe(false);
  expect(tagMatches(rule, 'release-1')).toBe(false);
  expect(tagMatches('1.?', '1.x')).toBe(false);
  expect(tagMatches('1.?', '1.?')).toBe(true);
});

test('GitHub Link header: rel="next" among others', () => {
  expect(nextLink('<https://api.example/user/repos?page=3>; rel="next", <https://api.example/user/repos?page=9>; rel="last"')).toBe('https://api.example/user/repos?page=3');
  expect(nextLink('<https://api.example/user/repos?page=1>; rel="first"')).toBeNull();
  expect(nextLink(null)).toBeNull();
});

test('push payloads: tags and branches of both providers; deletions and junk are ignored', () => {
  const sha = 'a'.repeat(40);
  expect(pushedRefs('github', { ref: 'refs/tags/v1.0', after: sha })).toEqual([{ kind: 'tag', name: 'v1.0', sha }]);
  expect(pushedRefs('github', { ref: 'refs/tags/v2.0', after: 'b'.repeat(40), head_commit: { id: sha } })).toEqual([{ kind: 'tag', name: 'v2.0', sha }]);
  expect(pushedRefs('github', { ref: 'refs/heads/feature/x', after: sha })).toEqual([{ kind: 'branch', name: 'feature/x', sha }]);
  expect(pushedRefs('github', { ref: 'refs/tags/v1.0', after: '0'.repeat(40), deleted: true })).toEqual([]);
  expect(pushedRefs('github', { ref: 'refs/tags/v1.0', after: 'nope' })).toEqual([]);
  expect(pushedRefs('bitbucket', { push: { changes: [{ new: { type: 'tag', name: '2.0', target: { hash: sha } } }, { new: null, old: { type: 'branch' } }] } })).toEqual([{ kind: 'tag', name: '2.0', sha }]);
  expect(pushedRefs('bitbucket', null)).toEqual([]);
});

async function names(zip: Buffer): Promise<string[]> {
  return new Promise((resolve, reject) =>
    yauzl.fromBuffer(zip, { lazyEntries: true }, (err, z) => {
      if (err) return reject(err);
      const out: string[] = [];
      z.on('entry', (e: yauzl.Entry) => (out.push(e.fileName), z.readEntry()));
      z.on('end', () => resolve(out.sort()));
      z.readEntry();
    }),
  );
}

describe('archive rewrite', () => {
  let dir: string;
  beforeAll(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wharf-rewrite-'))));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('owner-repo-sha/ becomes <slug>/; .distignore (gitignore syntax) and .git* paths are left out', async () => {
    const top = 'acme-plugin-0123abc/';
    const file = path.join(dir, 'a.zip');
    fs.writeFileSync(file, buildZip([
      { name: top },
      { name: `${top}plugin.php`, data: '<?php // main' },
      { name: `${top}.distignore`, data: '/tests\n*.md\n!KEEP.md\nbuild/\n' },
      { name: `${top}.gitattributes`, data: '* text' },
      { name: `${top}.github/`, },
      { name: `${top}.github/ci.yml`, data: 'x' },
      { name: `${top}tests/a.php`, data: 'x' },
      { name: `${top}src/tests/kept.php`, data: 'x' },
      { name: `${top}README.md`, data: 'x' },
      { name: `${top}KEEP.md`, data: 'x' },
      { name: `${top}build/out.js`, data: 'x' },
    ]));
    const r = await rewriteArchive(file, 'acme');
    const zip = await buffer(r.output);
    r.close();
    expect(await names(zip)).toEqual(['acme/', 'acme/KEEP.md', 'acme/plugin.php', 'acme/src/tests/kept.php']);
    expect(r.dropped).toEqual(expect.arrayContaining(['.distignore', '.gitattributes', '.github/ci.yml', 'tests/a.php', 'README.md', 'build/out.js']));
  });

  test('an archive without one top folder, or not a zip, is refused with a reason', async () => {
    const two = path.join(dir, 'two.zip');
    fs.writeFileSync(two, buildZip([{ name: 'a/x.php', data: 'x' }, { name: 'b/y.php', data: 'y' }]));
    await expect(rewriteArchive(two, 'acme')).rejects.toThrow(ArchiveError);
    const junk = path.join(dir, 'junk.zip');
    fs.writeFileSync(junk, '<html>not a zip</html>');
    await expect(rewriteArchive(junk, 'acme')).rejects.toThrow(/could not be read as a zip/);
  });
});

test('a provider archive is read up to the upload limit: exactly the limit passes, one byte more fails the build', async () => {
  const chunks = (n: number) => Readable.from(Array.from({ length: n }, () => Buffer.alloc(1000, 1)));
  await expect(buffer(chunks(10).pipe(capBytes(10_000)))).resolves.toHaveLength(10_000);
  const sink = path.join(os.tmpdir(), `wharf-cap-${process.pid}.bin`);
  try {
    await expect(pipeline(Readable.from([Buffer.alloc(10_000), Buffer.alloc(1)]), capBytes(10_000), fs.createWriteStream(sink))).rejects.toThrow(ArchiveError);
    // An endless archive stops at the limit instead of filling the disk.
    const endless = new Readable({ read() { this.push(Buffer.alloc(64 * 1024)); } });
    await expect(pipeline(endless, capBytes(1024 * 1024), fs.createWriteStream(sink))).rejects.toThrow(/larger than 1048576 bytes/);
    expect(fs.statSync(sink).size).toBeLessThanOrEqual(1024 * 1024);
  } finally {
    fs.rmSync(sink, { force: true });
  }
});

test('hostile push payloads: never a throw, absurd ref names ignored, at most 20 refs from one push', () => {
  const sha = 'c'.repeat(40);
  const nasty: unknown[] = [null, undefined, 0, 'push', [], [null], { ref: 7 }, { ref: 'refs/tags/v1', after: 'not-a-sha' }, { push: { changes: 'x' } },
    { push: { changes: [null, 1, 'x', { new: null }, { new: { type: 'tag', name: {}, target: { hash: sha } } }, { new: { type: 'tag', name: 'v1', target: { hash: 42 } } }] } },
    JSON.parse('{"__proto__": {"ref": "refs/tags/v9"}, "constructor": {"prototype": {}}}'), { ref: 'refs/tags/', after: sha }];
  for (const p of nasty) for (const provider of ['github', 'bitbucket'] as const) expect(pushedRefs(provider, p)).toEqual([]);
  // A megabyte of tag name, or one with control characters: ignored, not stored or matched.
  expect(pushedRefs('github', { ref: `refs/tags/${'v'.repeat(1_000_000)}`, after: sha })).toEqual([]);
  expect(pushedRefs('github', { ref: 'refs/tags/v1\u0000.0', after: sha })).toEqual([]);
  expect(pushedRefs('bitbucket', { push: { changes: [{ new: { type: 'tag', name: 'x'.repeat(256), target: { hash: sha } } }] } })).toEqual([]);
  // 100,000 changes in one BitBucket push: the first 20 build, the rest are ignored, in linear time.
  const changes = Array.from({ length: 100_000 }, (_, i) => ({ new: { type: 'tag', name: `v1.0.${i}`, target: { hash: sha } } }));
  const refs = pushedRefs('bitbucket', { push: { changes } });
  expect(refs).toHaveLength(20);
  expect(refs[19]).toEqual({ kind: 'tag', name: 'v1.0.19', sha });
  expect(pushedRefs('github', { ref: `refs/tags/${'v'.repeat(255)}`, after: sha })).toHaveLength(1);
});
