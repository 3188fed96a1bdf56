import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import postgres from 'postgres';
import { openDatabase, type Database } from '../../../src/db/client';
import { SESSION_IDLE_MS, startPgliteSocketServer, type PgliteSocketServer } from '../../../src/db/pglite-server';
import { rowsOf } from '../../../src/db/rows';
import { createLogger } from '../../../src/logger';
import { seedPglite } from '../../support/pglite-template';

// PGlite is one session: the server's own queries and local clients on its socket take turns.
const logger = createLogger('silent');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
let dir: string;
let database: Database;
let server: PgliteSocketServer;
const clients: postgres.Sql[] = [];

/** A local tool, connected as the CLI connects. */
function client(): postgres.Sql {
  const c = postgres({ path: server.path, user: 'postgres', database: 'postgres', max: 1, prepare: false, onnotice: () => undefined });
  clients.push(c);
  return c;
}

async function rows(where: string): Promise<string[]> {
  const result = await database.db.execute(sql.raw(`select who || ':' || n as r from probe where ${where} order by who, n`));
  return rowsOf<{ r: string }>(result).map((r) => r.r);
}

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wharf-socket-'));
  await seedPglite(path.join(dir, 'pglite'));
  database = await openDatabase({ url: undefined, poolMax: 1, queryTimeoutMs: 5000, pglitePath: path.join(dir, 'pglite') }, logger);
  server = (await startPgliteSocketServer(database.pglite!, path.join(dir, '.s.PGSQL.5432'), logger))!;
  await database.db.execute(sql`create table probe (who text not null, n int not null)`);
  await database.db.execute(sql`create table counter (n int not null)`);
  await database.db.execute(sql`insert into counter values (0)`);
});
afterAll(async () => {
  await Promise.all(clients.map((c) => c.end({ timeout: 1 }).catch(() => undefined)));
  await server?.close();
  await database?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

test("a client's transaction and the app's never land in each other", async () => {
  const cli = client();
  const appCommits = database.db.transaction(async (tx) => {
    await tx.execute(sql`insert into probe values ('app', 1)`);
    await sleep(150); // the client is ready to send meanwhile
    await tx.execute(sql`insert into probe values ('app', 2)`);
  });
  const cliRollsBack = cli
    .begin(async (s) => {
      await s`insert into probe values ('cli', 1)`;
      await sleep(100);
      await s`insert into probe values ('cli', 2)`;
      throw new Error('changed my mind');
    })
    .catch((err: Error) => err.message);
  expect(await Promise.all([appCommits, cliRollsBack])).toEqual([undefined, 'changed my mind']);
  expect(await rows('true')).toEqual(['app:1', 'app:2']);

  // The other way round: the app rolls back, the client commits.
  const appRollsBack = database.db
    .transaction(async (tx) => {
      await tx.execute(sql`insert into probe values ('app', 3)`);
      await sleep(150);
      throw new Error('app changed its mind');
    })
    .catch((err: Error) => err.message);
  const cliCommits = cli.begin(async (s) => {
    await s`insert into probe values ('cli', 3)`;
    await sleep(100);
    await s`insert into probe values ('cli', 4)`;
  });
  await Promise.all([appRollsBack, cliCommits]);
  expect(await rows('true')).toEqual(['app:1', 'app:2', 'cli:3', 'cli:4']);
});

test('read-modify-write transactions from several clients and the app lose no update', async () => {
  const viaClient = async (c: postgres.Sql) => {
    for (let i = 0; i < 10; i++) {
      await c.begin(async (s) => {
        const [row] = await s<{ n: number }[]>`select n from counter`;
        await sleep(1);
        await s`update counter set n = ${row!.n + 1}`;
      });
    }
  };
  const viaApp = async () => {
    for (let i = 0; i < 10; i++) {
      await database.db.transaction(async (tx) => {
        const [row] = rowsOf<{ n: number }>(await tx.execute(sql`select n from counter`));
        await sleep(1);
        await tx.execute(sql`update counter set n = ${row!.n + 1}`);
      });
    }
  };
  await Promise.all([viaClient(client()), viaClient(client()), viaClient(client()), viaApp()]);
  expect(rowsOf<{ n: number }>(await database.db.execute(sql`select n from counter`))[0]!.n).toBe(40);
});

test('a client that goes away mid-transaction is rolled back, and the app goes on', async () => {
  const cli = client();
  const reserved = await cli.reserve();
  await reserved`begin`;
  await reserved`insert into probe values ('gone', 1)`;
  reserved.release();
  await cli.end({ timeout: 0 });
  await database.db.execute(sql`insert into probe values ('app', 9)`);
  expect(await rows(`who in ('gone', 'app')`)).toEqual(['app:1', 'app:2', 'app:9']);
});

test(`a client idle inside a transaction is cut off after ${SESSION_IDLE_MS / 1000} s, rolled back, and the app goes on`, async () => {
  const cli = client();
  const reserved = await cli.reserve();
  await reserved`begin`;
  await reserved`insert into probe values ('idle', 1)`;
  // The app waits for the session meanwhile; it gets it once the idle client is cut off.
  await database.db.execute(sql`insert into probe values ('app', 10)`);
  await expect(reserved`insert into probe values ('idle', 2)`).rejects.toThrow();
  expect(await rows(`who = 'idle' or n = 10`)).toEqual(['app:10']);
  reserved.release();
}, 60_000);
