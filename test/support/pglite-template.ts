import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { JobQueue } from '../../src/adapters/queue/job-queue';
import { openDatabase } from '../../src/db/client';
import { migrate, migrationsFolder } from '../../src/db/migrate';
import { createLogger } from '../../src/logger';

/**
 * A migrated PGlite data directory with pg-boss's schema installed, made once per machine for this
 * set of migrations and copied for each test app: initdb and pg-boss's install cost seconds of CPU
 * per database, a copy a fraction of one. The
 * fresh-directory path (initdb, then migrations) stays covered by the suites that spawn the real
 * server on an empty DATA_DIR and by test/integration/db/migrations.test.ts.
 */
export async function seedPglite(target: string): Promise<void> {
  const template = await templateDir();
  fs.mkdirSync(path.dirname(target), { recursive: true, mode: 0o700 });
  fs.cpSync(template, target, { recursive: true });
}

async function templateDir(): Promise<string> {
  const hash = crypto.createHash('sha256');
  // dist/index.cjs → the package's own package.json (not in its exports map)
  hash.update(fs.readFileSync(path.join(path.dirname(require.resolve('@electric-sql/pglite')), '..', 'package.json')));
  hash.update(fs.readFileSync(path.join(path.dirname(require.resolve('pg-boss')), '..', 'package.json')));
  for (const name of fs.readdirSync(migrationsFolder(), { recursive: true }).map(String).sort()) {
    const file = path.join(migrationsFolder(), name);
    if (fs.statSync(file).isFile()) hash.update(name).update(fs.readFileSync(file));
  }
  const dir = path.join(os.tmpdir(), `wharf-pglite-template-${hash.digest('hex').slice(0, 16)}`);
  if (fs.existsSync(dir)) return dir;
  // Built beside, then renamed into place: parallel jest workers never see half a template.
  const building = `${dir}.${process.pid}.tmp`;
  fs.rmSync(building, { recursive: true, force: true });
  const logger = createLogger('silent');
  const database = await openDatabase({ url: undefined, pglitePath: building, poolMax: 1, queryTimeoutMs: 30_000 }, logger);
  try {
    await migrate(database, logger);
    const jobs = new JobQueue(database, logger);
    await jobs.start();
    await jobs.stop();
  } finally {
    await database.close();
  }
  try {
    fs.renameSync(building, dir);
  } catch (err) {
    fs.rmSync(building, { recursive: true, force: true });
    if (!fs.existsSync(dir)) throw err;
  }
  return dir;
}
