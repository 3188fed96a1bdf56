import type { Db as IDatabase, PgBoss as PgBossType, SendOptions } from 'pg-boss' with { 'resolution-mode': 'import' };
import type { Database } from '../../db/client';
import type { Logger } from '../../logger';

/** One job as a handler sees it; `retryCount` counts earlier failed attempts. */
export interface JobContext<T> {
  id: string;
  data: T;
  retryCount: number;
}

export interface JobDefinition<T> {
  /** `standard` (default); `short`: one waiting job per singleton key; `singleton`: one running job per key; `stately`: one of each. */
  policy?: 'standard' | 'short' | 'singleton' | 'stately';
  /** Attempts after the first; each waits longer (exponential backoff with jitter). */
  retryLimit?: number;
  retryDelaySeconds?: number;
  retryDelayMaxSeconds?: number;
  /** A job whose worker sends no heartbeat for this long (its server died) is retried elsewhere. */
  heartbeatSeconds?: number;
  /** Longest a single attempt may run. */
  expireInSeconds?: number;
  /** How many of this queue's jobs one app server runs at once. */
  concurrency?: number;
  /** How often an idle worker looks for new jobs. */
  pollingIntervalSeconds?: number;
  handler: (job: JobContext<T>) => Promise<void>;
}

export interface SendJobOptions {
  /** Only one queued (not yet started) job per key; a second send with the key is dropped. */
  singletonKey?: string;
  startAfterSeconds?: number;
  /** Enqueue inside this drizzle transaction: the job exists only if the transaction commits. */
  tx?: unknown;
}

const SCHEMA = 'pgboss';
// Any fixed number every app server agrees on (not the migrations' key).
const INSTALL_LOCK_KEY = 7_305_331_912;

/**
 * Background jobs stored in PostgreSQL (pg-boss): a job outlives the app server that queued it,
 * runs on one server at a time, and is retried with backoff. Works on PGlite and PostgreSQL alike.
 * Queues are defined before start(); start() creates them and begins working.
 */
export class JobQueue {
  private readonly definitions = new Map<string, JobDefinition<any>>();
  private boss: PgBossType | undefined;
  private sqlTag: unknown;
  private fromDrizzle: ((tx: unknown, sql: unknown) => IDatabase) | undefined;

  constructor(
    private readonly database: Database,
    private readonly logger: Logger,
  ) {}

  define<T extends object>(name: string, definition: JobDefinition<T>): void {
    if (this.boss) throw new Error(`job queue already started; define "${name}" before start()`);
    this.definitions.set(name, definition);
  }

  async start(): Promise<void> {
    if (this.boss) return;
    const lib = await import('pg-boss');
    const { sql } = await import('drizzle-orm');
    this.sqlTag = sql;
    this.fromDrizzle = lib.fromDrizzle as (tx: unknown, sql: unknown) => IDatabase;
    const db = await this.database.jobsDb();
    const boss = new lib.PgBoss({
      db,
      schema: SCHEMA,
      ...(this.database.kind === 'pglite' ? { backend: 'pglite' as const } : {}),
      // Cron schedules are not used; maintenance (expiry, retention) stays on.
      schedule: false,
      // How often a job whose server stopped sending heartbeats is noticed and retried (pg-boss's default: 60 s).
      superviseIntervalSeconds: 10,
      openTelemetry: { enabled: false },
    });
    boss.on('error', (err: Error) => this.logger.warn({ err: err.message }, 'jobs: queue error'));
    // Servers starting together on an empty database would race to install pg-boss's schema.
    await this.database.exclusively(INSTALL_LOCK_KEY, async () => {
      await boss.start();
      for (const [name, d] of this.definitions) {
        await boss.createQueue(name, {
          policy: d.policy ?? 'standard',
          retryLimit: d.retryLimit ?? 5,
          retryDelay: d.retryDelaySeconds ?? 5,
          retryBackoff: true,
          ...(d.retryDelayMaxSeconds ? { retryDelayMax: d.retryDelayMaxSeconds } : {}),
          ...(d.heartbeatSeconds ? { heartbeatSeconds: Math.max(10, d.heartbeatSeconds) } : {}),
          expireInSeconds: d.expireInSeconds ?? 15 * 60,
        });
      }
    });
    this.boss = boss;
    for (const [name, d] of this.definitions) {
      await boss.work<object>(
        name,
        { pollingIntervalSeconds: d.pollingIntervalSeconds ?? 1, localConcurrency: d.concurrency ?? 1, batchSize: 1 },
        async (jobs) => {
          for (const job of jobs) {
            try {
              await d.handler({ id: job.id, data: job.data, retryCount: (job as { retryCount?: number }).retryCount ?? 0 });
            } catch (err) {
              this.logger.warn({ job: name, jobId: job.id, err: (err as Error).message }, 'jobs: attempt failed; will retry');
              throw err;
            }
          }
        },
      );
    }
    this.logger.info({ queues: [...this.definitions.keys()] }, 'jobs: started');
  }

  /** Queue a job; null when a singleton with the same key is already waiting. */
  async send<T extends object>(name: string, data: T, opts: SendJobOptions = {}): Promise<string | null> {
    if (!this.definitions.has(name)) throw new Error(`unknown job queue "${name}"`);
    const boss = this.started();
    const options: SendOptions = {
      ...(opts.singletonKey ? { singletonKey: opts.singletonKey } : {}),
      ...(opts.startAfterSeconds ? { startAfter: opts.startAfterSeconds } : {}),
      ...(opts.tx ? { db: this.fromDrizzle!(opts.tx, this.sqlTag) } : {}),
    };
    return boss.send(name, data, options);
  }

  /** Jobs of a queue, newest first (tests and the dashboard's build list). */
  async find<T>(name: string, ids?: string[]): Promise<{ id: string; state: string; data: T; retryCount: number }[]> {
    const boss = this.started();
    const jobs = await boss.findJobs<T>(name, ids?.length === 1 ? { id: ids[0]! } : {});
    return jobs.filter((j) => !ids || ids.includes(j.id)).map((j) => ({ id: j.id, state: j.state, data: j.data, retryCount: j.retryCount }));
  }

  async stop(): Promise<void> {
    const boss = this.boss;
    if (!boss) return;
    this.boss = undefined;
    // Running jobs get a few seconds to finish; an unfinished one is retried after its heartbeat lapses.
    await boss.stop({ graceful: true, timeout: 5000 }).catch((err: Error) => this.logger.warn({ err: err.message }, 'jobs: stop failed'));
  }

  private started(): PgBossType {
    if (!this.boss) throw new Error('job queue not started');
    return this.boss;
  }
}
