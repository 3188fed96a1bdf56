import fs from 'node:fs';
import net from 'node:net';
import type { PGlite } from '@electric-sql/pglite' with { 'resolution-mode': 'import' };
import type { Logger } from '../logger';

/**
 * Serves the server's own PGlite to local tools (the operator CLI, psql) over a unix socket.
 *
 * PGlite is one PostgreSQL session. pglite-socket's own server interleaves clients per protocol
 * message under PGlite's query mutex only, so a client's statements could land inside one of the
 * app's transactions (and the app's inside a client's). Here a client gets the whole session from
 * its first message until PostgreSQL reports it idle again (ReadyForQuery 'I'), under PGlite's
 * transaction mutex: the one the app's queries and transactions take. pglite-socket's handler
 * still does the wire framing (startup, SSL and cancel requests, message boundaries).
 */

/** Longest a client may keep the session between two messages; the app waits meanwhile. */
export const SESSION_IDLE_MS = 5_000;
const MAX_CLIENTS = 16;
/** Longest unix socket path Linux takes (sun_path is 108 bytes with its NUL). */
export const UNIX_PATH_MAX = 107;

export interface PgliteSocketServer {
  readonly path: string;
  close(): Promise<void>;
}

interface Handler extends EventTarget {
  readonly handlerId: number;
  attach(socket: net.Socket): Promise<unknown>;
  detach(close?: boolean): Promise<unknown>;
}

/** Listens on `socketPath` (mode 0600); undefined (with a warning) when the path is too long for a unix socket. */
export async function startPgliteSocketServer(pg: PGlite, socketPath: string, logger: Logger): Promise<PgliteSocketServer | undefined> {
  if (Buffer.byteLength(socketPath) > UNIX_PATH_MAX) {
    logger.warn({ socketPath }, `database: socket path longer than ${UNIX_PATH_MAX} bytes; local tools cannot reach the database while the server runs (use a shorter DATA_DIR)`);
    return undefined;
  }
  const { PGLiteSocketHandler } = await import('@electric-sql/pglite-socket');
  const sockets = new Map<number, net.Socket>();
  const gate = new SessionGate(pg, (id) => {
    const socket = sockets.get(id);
    socket?.end(errorResponse('25P03', `idle for ${SESSION_IDLE_MS / 1000} s holding the session the Wharf server needs; rolled back`));
    socket?.destroy();
  });
  const handlers = new Set<Handler>();
  const server = net.createServer((socket) => {
    if (handlers.size >= MAX_CLIENTS) {
      socket.end(errorResponse('53300', 'too many local clients of the embedded database'));
      return;
    }
    // The gate stands in for pglite-socket's per-message queue (same three methods).
    const handler = new PGLiteSocketHandler({ queryQueue: gate as never, closeOnDetach: true }) as unknown as Handler;
    handlers.add(handler);
    sockets.set(handler.handlerId, socket);
    const forget = () => {
      handlers.delete(handler);
      sockets.delete(handler.handlerId);
    };
    handler.addEventListener('close', forget);
    handler.addEventListener('error', forget);
    void handler.attach(socket).catch(() => socket.destroy());
  });
  // We hold the database lock, so a socket file left here is a dead server's.
  fs.rmSync(socketPath, { force: true });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => resolve());
  });
  fs.chmodSync(socketPath, 0o600);
  logger.info({ socketPath }, 'database: serving the embedded database to local tools');
  return {
    path: socketPath,
    close: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      await Promise.all([...handlers].map((h) => h.detach(true).catch(() => undefined)));
      await gate.idle();
      await closed;
      fs.rmSync(socketPath, { force: true });
    },
  };
}

/** Hands PGlite's one session to one client at a time, between two idle points. */
class SessionGate {
  private owner: number | undefined;
  private releaseSession: (() => void) | undefined;
  private idleTimer: NodeJS.Timeout | undefined;
  private readonly chains = new Map<number, Promise<unknown>>();
  private readonly gone = new Set<number>();

  constructor(
    private readonly pg: PGlite,
    private readonly onIdleTimeout: (handlerId: number) => void,
  ) {}

  /** One message of a client; a client's messages run strictly in order. */
  enqueue(id: number, message: Uint8Array, onData: (data: Uint8Array) => void): Promise<number> {
    return this.chain(id, () => this.execute(id, message, onData));
  }

  clearQueueForHandler(id: number): void {
    this.gone.add(id);
  }

  /** The client went away: end whatever it left open, then let the app go on. */
  clearTransactionIfNeeded(id: number): Promise<void> {
    this.gone.add(id);
    return this.chain(id, () => this.end(id)).finally(() => {
      this.chains.delete(id);
      this.gone.delete(id);
    });
  }

  async idle(): Promise<void> {
    await Promise.all([...this.chains.values()]);
  }

  private chain<T>(id: number, work: () => Promise<T>): Promise<T> {
    const run = (this.chains.get(id) ?? Promise.resolve()).then(work);
    this.chains.set(id, run.catch(() => undefined));
    return run;
  }

  private async execute(id: number, message: Uint8Array, onData: (data: Uint8Array) => void): Promise<number> {
    if (this.gone.has(id)) return 0;
    if (message[0] === 0x58) {
      // Terminate ('X') would end PGlite's one session: end only this client's part of it.
      await this.end(id);
      return 0;
    }
    if (this.owner !== id) await this.acquire(id);
    clearTimeout(this.idleTimer);
    let bytes = 0;
    let tail: Buffer = Buffer.alloc(0);
    await this.pg._runExclusiveQuery(() =>
      this.pg.execProtocolRawStream(message, {
        onRawData: (data) => {
          bytes += data.length;
          tail = lastBytes(tail, data);
          onData(data);
        },
      }),
    );
    if (readyStatus(tail) === 'I') this.releaseNow();
    else this.idleTimer = setTimeout(() => this.onIdleTimeout(id), SESSION_IDLE_MS);
    return bytes;
  }

  private acquire(id: number): Promise<void> {
    return new Promise((acquired) => {
      void this.pg._runExclusiveTransaction(
        () =>
          new Promise<void>((release) => {
            this.owner = id;
            this.releaseSession = release;
            acquired();
          }),
      );
    });
  }

  /** Finish an unfinished extended-protocol exchange (Sync) and roll back an open transaction. */
  private async end(id: number): Promise<void> {
    if (this.owner !== id) return;
    clearTimeout(this.idleTimer);
    try {
      await this.pg._runExclusiveQuery(async () => {
        let tail: Buffer = Buffer.alloc(0);
        const track = { onRawData: (data: Uint8Array) => (tail = lastBytes(tail, data)) };
        await this.pg.execProtocolRawStream(SYNC, track);
        if (readyStatus(tail) !== 'I') await this.pg.execProtocolRawStream(simpleQuery('ROLLBACK'), track);
      });
    } finally {
      this.releaseNow();
    }
  }

  private releaseNow(): void {
    clearTimeout(this.idleTimer);
    const release = this.releaseSession;
    this.owner = undefined;
    this.releaseSession = undefined;
    release?.();
  }
}

const SYNC = new Uint8Array([0x53, 0, 0, 0, 4]);

function simpleQuery(text: string): Uint8Array {
  const body = Buffer.from(`${text}\0`);
  const msg = Buffer.alloc(5 + body.length);
  msg[0] = 0x51; // 'Q'
  msg.writeInt32BE(4 + body.length, 1);
  body.copy(msg, 5);
  return msg;
}

function errorResponse(code: string, message: string): Buffer {
  const fields = Buffer.from(`SFATAL\0VFATAL\0C${code}\0M${message}\0\0`);
  const msg = Buffer.alloc(5 + fields.length);
  msg[0] = 0x45; // 'E'
  msg.writeInt32BE(4 + fields.length, 1);
  fields.copy(msg, 5);
  return msg;
}

function lastBytes(tail: Buffer, data: Uint8Array): Buffer {
  if (data.length >= 6) return Buffer.from(data.subarray(data.length - 6));
  return Buffer.concat([tail, data]).subarray(-6);
}

/** Status of the ReadyForQuery ('Z', length 5) that ends the output, if it does end with one. */
function readyStatus(tail: Buffer): string | undefined {
  if (tail.length < 6 || tail[0] !== 0x5a || tail.readInt32BE(1) !== 5) return undefined;
  return String.fromCharCode(tail[5]!);
}
