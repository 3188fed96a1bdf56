import fs from 'node:fs';
import path from 'node:path';

/*
 * DATA_DIR holds purchase codes, password hashes and the secret key: only its owner may read it.
 * Directories 0700, files 0600. Only the parts Wharf writes (pglite/, s3/, secret-key) are walked,
 * so a DATA_DIR pointed at a shared place never has other people's files rewritten.
 */

/**
 * mkdir -p, 0700 for what it creates. A directory that already exists keeps its mode: DATA_DIR
 * may be a shared place (even /tmp), and only what Wharf itself made is Wharf's to lock down.
 */
export function createPrivateDir(dir: string): void {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
}

/**
 * `dir` and everything under it: directories 0700, files 0600. Only for Wharf's own subtrees
 * (DATA_DIR/pglite, DATA_DIR/s3): PGlite's initdb writes 0666 whatever the umask.
 */
export function makePrivate(dir: string): void {
  let entries: fs.Dirent[];
  try {
    fs.chmodSync(dir, 0o700);
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return; // PGlite removes temp files as it runs
    throw err;
  }
  for (const entry of entries) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) makePrivate(full);
    else if (!entry.isSymbolicLink()) chmodIfPresent(full, 0o600);
  }
}

function chmodIfPresent(file: string, mode: number): void {
  try {
    fs.chmodSync(file, mode);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}
