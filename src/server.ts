// First: on too old a Node, say so before loading anything that would crash on it.
import './node-version';
import http from 'node:http';
import { createRequestHandler } from './app';
import { ConfigError, loadConfig, type Config } from './config';
import { DataDirLockedError } from './db/data-dir-lock';
import { formatError } from './lib/format-error';
import { createLogger, type Logger } from './logger';
import { openRuntime } from './runtime';
import { startupLine } from './startup-line';

/** Holds log lines until the plain startup line is out, so a person sees it first. */
class HeldOutput {
  private held: string[] | undefined = [];
  write(line: string): void {
    if (this.held) this.held.push(line);
    else process.stdout.write(line);
  }
  flush(): void {
    const lines = this.held ?? [];
    this.held = undefined;
    for (const line of lines) process.stdout.write(line);
  }
}

// A terminal, outside production: a person is reading. Anything else reads JSON only.
const human = new HeldOutput();
let forHumans = false;

function readConfig(): Config {
  try {
    return loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
}

async function main(): Promise<void> {
  // DATA_DIR holds purchase codes and the secret key: what the server writes is for its owner only.
  process.umask(0o077);
  const config = readConfig();
  forHumans = Boolean(process.stdout.isTTY) && config.env !== 'production';
  const logger = forHumans ? createLogger(config.logLevel, human) : createLogger(config.logLevel);
  const runtime = await openRuntime(config, logger);
  const readiness = { draining: false };
  const handler = createRequestHandler({ ...runtime, readiness });
  const server = http.createServer(handler);
  // Longer than nginx's upstream keepalive_timeout, so nginx closes idle connections first.
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  await new Promise<void>((resolve) => server.listen(config.port, config.host, resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  if (forHumans) {
    process.stdout.write(`${startupLine(config, { host: config.host, port })}\n`);
    human.flush();
  }
  logger.info({ url: `http://${config.host}:${port}`, publicUrl: config.publicUrl }, 'wharf: listening');

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    readiness.draining = true;
    logger.info({ signal }, 'wharf: draining');
    const force = setTimeout(() => {
      logger.warn('wharf: drain timed out; closing remaining connections');
      server.closeAllConnections();
    }, config.shutdownTimeoutMs);
    force.unref();
    // Stop accepting, let in-flight requests finish, then close pools.
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeIdleConnections();
    });
    handler.close();
    await runtime.close().catch((err) => logger.error({ err }, 'wharf: error while closing'));
    logger.info('wharf: stopped');
    process.exit(0);
  };
  started = logger;
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
  // Its terminal closed: drain as on SIGTERM rather than die holding DATA_DIR's lock.
  process.on('SIGHUP', () => void shutdown('SIGHUP'));
}

/** Once listening, failures go to the log; before, to stderr as a person reads them. */
let started: Logger | undefined;

function fail(what: string, err: unknown): void {
  if (started) {
    started.fatal({ err, error: formatError(err) }, `wharf: ${what}`);
  } else {
    human.flush();
    // A lock held by another server is an operator's situation, not a bug: no stack.
    process.stderr.write(`wharf failed to start: ${formatError(err, { stack: !(err instanceof DataDirLockedError) })}\n`);
  }
  process.exit(1);
}

// A statement nobody waits for any more (its pool replaced after a failover, its caller gone past a deadline)
// fails when its connection does: the database's trouble, which the request paths handle, never a reason to exit.
const LOST_CONNECTION = new Set(['CONNECTION_DESTROYED', 'CONNECTION_ENDED', 'CONNECTION_CLOSED', 'CONNECT_TIMEOUT', 'ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', '57P01', '57P02', '57P03']);

process.on('unhandledRejection', (err) => {
  const e = err as { code?: string; cause?: { code?: string } } | null;
  const code = e?.code ?? e?.cause?.code ?? '';
  if (started && LOST_CONNECTION.has(code)) {
    started.warn({ code, error: formatError(err, { stack: false }) }, 'database: a statement nobody waited for failed with its connection');
    return;
  }
  fail('unhandled rejection', err);
});
process.on('uncaughtException', (err) => fail('uncaught exception', err));

main().catch((err: unknown) => fail('failed to start', err));
