import { sql } from 'drizzle-orm';
import postgres from 'postgres';
import { openDatabase } from '../../../src/db/client';
import { rowsOf } from '../../../src/db/rows';
import { createLogger } from '../../../src/logger';
import { createTestDatabase, type TestDatabase } from '../../support/postgres';
import { startTcpProxy, type TcpProxy } from '../../support/tcp-proxy';

/**
 * postgres.js 3.4.9 reads the server's array types as the first statement of every new connection,
 * and nothing awaits it (porsager/postgres#1192, #1223): a connection lost at that moment (a
 * failover, a replaced pool) became an unhandled rejection, which kills a Node process by default,
 * and its error was replayed onto the caller's statement on the next connection. And a reserved
 * connection whose socket closed still took statements, whose write then threw uncaught.
 * patches/postgres+3.4.9.patch fixes all three; these tests cut connections exactly there.
 */

/** An ErrorResponse (protocol 3.0): FATAL 57P01, what a backend sends when it is terminated. */
function errorResponse(fields: Record<string, string>): Buffer {
  const body = Buffer.concat([...Object.entries(fields).map(([k, v]) => Buffer.from(`${k}${v}\0`)), Buffer.from([0])]);
  const head = Buffer.alloc(5);
  head.write('E', 0);
  head.writeInt32BE(body.length + 4, 1);
  return Buffer.concat([head, body]);
}
const TERMINATED = errorResponse({ S: 'FATAL', V: 'FATAL', C: '57P01', M: 'terminating connection due to administrator command' });
const TYPES_QUERY = 'pg_catalog.pg_type'; // fetch_types: the server's array types

/** What the relay does to the next connections that send the array-types statement. */
interface Fault {
  times: number;
  action: 'terminate' | 'hold';
}

let db: TestDatabase;
let relay: TcpProxy;
let fault: Fault = { times: 0, action: 'hold' };
let hits = 0;

beforeAll(async () => {
  db = await createTestDatabase();
  relay = await startTcpProxy(Number(new URL(db.url).port || 5432), '127.0.0.1', (chunk, client, upstream) => {
    if (hits >= fault.times || !chunk.includes(TYPES_QUERY)) return true;
    hits++;
    if (fault.action === 'hold') return false; // the server never sees it: the connection waits
    client.end(TERMINATED); // as pg_terminate_backend (or a primary shutting down) answers, then the socket closes
    upstream.destroy();
    return false;
  });
});

afterAll(async () => {
  await relay.close();
  await db.drop();
});

const viaRelay = () => {
  const url = new URL(db.url);
  url.port = String(relay.port);
  return url.toString();
};

/** Unhandled rejections seen while fn runs (jest would otherwise fail the file without saying which test). */
async function unhandledDuring(fn: () => Promise<void>): Promise<string[]> {
  const seen: string[] = [];
  const onUnhandled = (reason: unknown) => seen.push(String(reason));
  process.on('unhandledRejection', onUnhandled);
  try {
    await fn();
    await new Promise((r) => setTimeout(r, 200)); // a dropped promise rejects on a later tick
  } finally {
    process.off('unhandledRejection', onUnhandled);
  }
  return seen;
}

test('a connection terminated while the driver reads array types: no unhandled rejection, and the statement is answered on the next connection', async () => {
  fault = { times: 2, action: 'terminate' };
  hits = 0;
  const database = await openDatabase({ url: viaRelay(), poolMax: 2, queryTimeoutMs: 5000, pglitePath: '' }, createLogger('silent'));
  try {
    let rows: { tags: string[] }[] = [];
    const unhandled = await unhandledDuring(async () => {
      rows = rowsOf<{ tags: string[] }>(await database.db.execute(sql`select array['a', 'b,c']::text[] as tags`));
    });
    expect(hits).toBe(2);
    expect(unhandled).toEqual([]);
    // Array types were read on the connection that survived: arrays arrive parsed.
    expect(rows[0]!.tags).toEqual(['a', 'b,c']);
  } finally {
    await database.close();
  }
});

test('a pool ended at once while its connection is still starting up (how a stuck pool is replaced): the caller gets the error, the process none', async () => {
  fault = { times: 1, action: 'hold' };
  hits = 0;
  const pool = postgres(viaRelay(), { max: 1, target_session_attrs: 'primary', onnotice: () => undefined });
  let failure: unknown;
  const unhandled = await unhandledDuring(async () => {
    const pending = pool`select 1`.catch((err: unknown) => (failure = err));
    while (hits === 0) await new Promise((r) => setTimeout(r, 10));
    await pool.end({ timeout: 0 });
    await pending;
  });
  expect({ hits, unhandled }).toEqual({ hits: 1, unhandled: [] });
  expect((failure as { code?: string }).code).toBe('CONNECTION_DESTROYED');
});

test('a statement on a reserved connection whose backend was terminated fails with CONNECTION_CLOSED, and the process goes on', async () => {
  const pool = postgres(db.url, { max: 2, onnotice: () => undefined });
  const admin = postgres(db.url, { max: 1, onnotice: () => undefined });
  try {
    const reserved = await pool.reserve();
    const [{ pid }] = (await reserved`select pg_backend_pid() as pid`) as unknown as [{ pid: number }];
    await admin`select pg_terminate_backend(${pid})`;
    await new Promise((r) => setTimeout(r, 300)); // the driver sees the socket close
    // Unpatched, the statement was written to the closed socket on the next tick: a TypeError nobody could catch.
    const outcome = await Promise.race([
      Promise.resolve(reserved`select 1`).then(() => 'answered', (err: { code?: string }) => err.code),
      new Promise((r) => setTimeout(() => r('no answer'), 3000)),
    ]);
    expect(outcome).toBe('CONNECTION_CLOSED');
    expect(await pool`select 2 as n`).toEqual([{ n: 2 }]); // the pool's other connection
    reserved.release();
  } finally {
    await pool.end({ timeout: 1 });
    await admin.end();
  }
});
