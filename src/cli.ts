// First: on too old a Node, say so before loading anything that would crash on it.
import './node-version';
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig, type Config } from './config';
import { DataDirLockedError } from './db/data-dir-lock';
import { AppError } from './lib/errors';
import { startEmbeddedS3 } from './adapters/storage/embedded-s3';
import { openDatabase, type Database } from './db/client';
import { migrate } from './db/migrate';
import { formatError } from './lib/format-error';
import { createLogger, type Logger } from './logger';
import { UsersService } from './services/users.service';
import { rebuildAnalytics } from './db/queries/analytics.queries';
import { maintainCheckins, MEMBERSHIP_DAYS } from './services/analytics/analytics.service';

const USAGE = `Usage: wharf <command> [options]   (same environment as the server; see README)
On the embedded database (no DATABASE_URL) a running server is used through its socket.

  user:create --email <email> --password <password>   create a vendor account
  apikey:create --email <email> [--name <label>]      print a new API key for that vendor
  migrate                                             apply pending database migrations
  analytics:rebuild                                   recompute site last-seen rows and daily rollups from the kept check-ins
  analytics:maintain                                  create check-in partitions ahead, drop those past CHECKIN_RETENTION_DAYS
  s3:serve --port <p> --dir <d> [--bucket wharf] [--cors-origin <url>]
                                                      run the embedded S3 server alone
`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  const { values } = parseArgs({
    args: rest,
    options: {
      email: { type: 'string' },
      password: { type: 'string' },
      name: { type: 'string' },
      port: { type: 'string' },
      dir: { type: 'string' },
      bucket: { type: 'string' },
      'cors-origin': { type: 'string', multiple: true },
      help: { type: 'boolean' },
    },
    strict: true,
  });
  if (!command || values.help || command === 'help') {
    process.stdout.write(USAGE);
    return command ? 0 : 2;
  }
  const config = loadConfig();
  // Logs go to stderr so stdout carries only the command's answer (an API key, say).
  const logger = createLogger(config.logLevel === 'info' ? 'warn' : config.logLevel);

  switch (command) {
    case 'migrate': {
      const database = await openLocalDatabase(config, logger, command);
      try {
        const n = await migrate(database, logger);
        process.stdout.write(n ? `Applied ${n} migration(s).\n` : 'Database is up to date.\n');
      } finally {
        await database.close();
      }
      return 0;
    }
    case 'analytics:rebuild':
    case 'analytics:maintain': {
      // A rebuild reads every kept check-in: no per-statement deadline of the web path applies.
      const database = await openDatabase({ ...config.database, queryTimeoutMs: Math.max(config.database.queryTimeoutMs, 3_600_000) }, logger, { role: `wharf ${command}`, viaServer: true });
      try {
        await migrate(database, logger);
        if (command === 'analytics:rebuild') {
          const r = await rebuildAnalytics(database.db, MEMBERSHIP_DAYS);
          process.stdout.write(`Rebuilt ${r.sites} site(s) and ${r.days} day(s) of rollups.\n`);
        } else {
          const r = await maintainCheckins(database.db, config.checkinRetentionDays, logger);
          process.stdout.write(r ? `Created: ${r.created.join(', ') || 'none'}. Dropped: ${r.dropped.join(', ') || 'none'}.\n` : 'Another server is maintaining the partitions right now.\n');
        }
      } finally {
        await database.close();
      }
      return 0;
    }
    case 'user:create': {
      if (!values.email || !values.password) throw new UsageError('user:create needs --email and --password');
      await withUsers(config, logger, command, async (users) => {
        const user = await users.signUp(values.email, values.password);
        process.stdout.write(`Created user ${user.email} (${user.id}).\n`);
      });
      return 0;
    }
    case 'apikey:create': {
      if (!values.email) throw new UsageError('apikey:create needs --email');
      await withUsers(config, logger, command, async (users) => {
        const user = await users.findByEmail(values.email!);
        const { key } = await users.createApiKey(user.id, values.name ?? 'CLI');
        process.stdout.write(`${key}\n`);
      });
      return 0;
    }
    case 's3:serve': {
      const s3 = await startEmbeddedS3({
        port: Number(values.port ?? config.s3.embeddedPort),
        dir: values.dir ?? config.s3.embeddedDir,
        bucket: values.bucket ?? config.s3.bucket,
        corsOrigins: values['cors-origin'] ?? [new URL(config.publicUrl).origin],
        host: '127.0.0.1',
        region: config.s3.region,
        logger: createLogger('info'),
      });
      process.stdout.write(`Embedded S3 at ${s3.endpoint} (credentials S3RVER/S3RVER; SigV4 and POST policies enforced)\n`);
      await new Promise<void>((resolve) => {
        process.once('SIGTERM', resolve);
        process.once('SIGINT', resolve);
      });
      await s3.close();
      return 0;
    }
    default:
      throw new UsageError(`Unknown command: ${command}`);
  }
}

class UsageError extends Error {}

/** The database the server uses; on the embedded one, the running server's (through its socket) when it runs. */
function openLocalDatabase(config: Config, logger: Logger, command: string): Promise<Database> {
  return openDatabase(config.database, logger, { role: `wharf ${command}`, viaServer: true });
}

/** Account commands need only the database (migrated), not storage. */
async function withUsers(config: Config, logger: Logger, command: string, fn: (users: UsersService) => Promise<void>): Promise<void> {
  const database = await openLocalDatabase(config, logger, command);
  try {
    await migrate(database, logger);
    await fn(new UsersService(database.db));
  } finally {
    await database.close();
  }
}

// What the CLI writes (an embedded database it opens itself, say) is for its owner only.
process.umask(0o077);

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (err instanceof UsageError || err instanceof ConfigError || (err as { code?: string } | null)?.code?.startsWith?.('ERR_PARSE_ARGS')) {
      process.stderr.write(`${(err as Error).message}\n\n${USAGE}`);
      process.exit(2);
    }
    // Operator-facing failures (AppError: bad email, no such user) read best without a stack.
    process.stderr.write(`Error: ${formatError(err, { stack: !(err instanceof AppError) && !(err instanceof DataDirLockedError) })}\n`);
    process.exit(1);
  },
);
