import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createRequestHandler } from '../../src/app';
import { loadConfig, type Config } from '../../src/config';
import type { DestinationStream } from 'pino';
import { createLogger } from '../../src/logger';
import { openRuntime, type Runtime } from '../../src/runtime';
import { seedPglite } from './pglite-template';
import { createTestDatabase, type TestDatabase } from './postgres';

export type DbKind = 'pglite' | 'postgres';

export interface TestApp {
  url: string;
  config: Config;
  runtime: Runtime;
  server: http.Server;
  stop(): Promise<void>;
}

/**
 * The real app in-process on a free port: PGlite or a fresh database on the PostgreSQL server,
 * and the real embedded S3 on its own free port. Everything is removed by stop().
 */
export async function startTestApp(opts: { db?: DbKind; env?: Record<string, string>; logTo?: DestinationStream } = {}): Promise<TestApp> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'wharf-test-'));
  let handler: http.RequestListener & { close?: () => void } = (_req, res) => res.end();
  const server = http.createServer((req, res) => handler(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const url = `http://localhost:${port}`;

  let testDb: TestDatabase | undefined;
  if (opts.db === 'postgres') testDb = await createTestDatabase();
  else if (!opts.env?.DATA_DIR && !opts.env?.DATABASE_URL) await seedPglite(path.join(dataDir, 'pglite'));
  const config = loadConfig({
    NODE_ENV: 'test',
    PORT: String(port),
    PUBLIC_URL: url,
    DATA_DIR: dataDir,
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'warn',
    EMBEDDED_S3_PORT: '0',
    SECRET_KEY: 'test-secret-key-that-is-long-enough-0123456789',
    ...(testDb ? { DATABASE_URL: testDb.url } : {}),
    ...opts.env,
  });
  const logger = createLogger(config.logLevel, opts.logTo);
  const runtime = await openRuntime(config, logger);
  handler = createRequestHandler(runtime);
  return {
    url,
    config,
    runtime,
    server,
    stop: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      handler.close?.();
      await runtime.close();
      await testDb?.drop();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
