import { Writable } from 'node:stream';
import { formatError } from '../../src/lib/format-error';
import { createLogger, loggableError } from '../../src/logger';

const drizzleError = (cause: Error) =>
  Object.assign(new Error('Failed query: select * from api_keys where key_hash = $1\nparams: 5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8'), {
    query: 'select * from api_keys where key_hash = $1',
    params: ['5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8'],
    cause,
  });
const pgError = (code: string, message: string) => Object.assign(new Error(message), { name: 'PostgresError', code, severity: 'ERROR', table_name: 'users', constraint_name: 'users_email_idx', routine: 'x', detail: 'Key (email)=(a@b.c) already exists.' });

test('a failed query is logged by class, SQLSTATE, table and statement text, never its parameters or detail', () => {
  const lines: string[] = [];
  const logger = createLogger('info', new Writable({ write: (c: Buffer, _e, done) => (lines.push(c.toString()), done()) }));
  logger.error({ err: drizzleError(pgError('23505', 'duplicate key value violates unique constraint "users_email_idx"')) }, 'request failed');
  logger.error({ err: drizzleError(pgError('22P02', 'invalid input syntax for type uuid: "ABCD-SECRET"')) }, 'request failed');
  logger.warn({ err: 'Failed query: insert into users values ($1)\nparams: $argon2id$v=19$m=19456' }, 'flush failed');
  const log = lines.join('');
  expect(log).not.toMatch(/5e884898|a@b\.c|ABCD-SECRET|argon2id/);
  expect(log).toContain('"code":"23505"');
  expect(log).toContain('duplicate key value violates unique constraint');
  expect(log).toContain('"constraint":"users_email_idx"');
  expect(log).toContain('select * from api_keys where key_hash = $1');
  expect(log).toContain('params: [not logged]');
});

test('other errors keep their message and stack; what the CLI prints of a failed query has no parameters or values', () => {
  const bug = loggableError(new TypeError('x is not a function')) as Record<string, unknown>;
  expect(bug).toMatchObject({ type: 'TypeError', message: 'x is not a function' });
  expect(String(bug.stack)).toContain('logger.test');
  const text = formatError(drizzleError(pgError('42P01', 'relation "users" does not exist')));
  expect(text).toContain('failed query: select * from api_keys where key_hash = $1');
  expect(text).toContain('caused by: PostgresError: relation "users" does not exist (code: 42P01, table: users)');
  const values = formatError(drizzleError(pgError('22P02', 'invalid input syntax for type uuid: "ABCD-SECRET"')));
  expect(values).not.toMatch(/5e884898|ABCD-SECRET|a@b\.c/);
});
