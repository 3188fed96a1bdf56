import http from 'node:http';
import { createRequestHandler } from './app';
import { ConfigError, loadConfig, type Config } from './config';
import { createLogger } from './logger';
import { openRuntime } from './runtime';

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
  const config = readConfig();
  const logger = createLogger(config.logLevel);
  const runtime = await openRuntime(config, logger);
  const readiness = { draining: false };
  const server = http.createServer(createRequestHandler({ ...runtime, readiness }));
  // Longer than nginx's upstream keepalive_timeout, so nginx closes idle connections first.
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  await new Promise<void>((resolve) => server.listen(config.port, config.host, resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
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
    await runtime.close().catch((err) => logger.error({ err }, 'wharf: error while closing'));
    logger.info('wharf: stopped');
    process.exit(0);
  };
  process.on('unhandledRejection', (err) => {
    // Statements of a pool we replaced after a failover are rejected when it closes: expected.
    const code = (err as { code?: string })?.code ?? '';
    if (['CONNECTION_DESTROYED', 'CONNECTION_ENDED', 'CONNECTION_CLOSED'].includes(code)) {
      logger.debug({ code }, 'database: abandoned statement of a replaced pool');
      return;
    }
    logger.fatal({ err }, 'wharf: unhandled rejection');
    process.exit(1);
  });
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}

main().catch((err) => {
  process.stderr.write(`wharf failed to start: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
