import { formatError } from '../../../src/lib/format-error';
import { ValidationError } from '../../../src/lib/errors';

test('an Error prints its message, and each cause beneath it', () => {
  const root = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
  const err = new Error('could not open the database', { cause: new Error('migrations failed', { cause: root }) });
  expect(formatError(err)).toBe(['could not open the database', '  caused by: migrations failed', '    caused by: connect ECONNREFUSED 127.0.0.1:5432'].join('\n'));
});

test('an AggregateError lists every error, even when its own message is empty', () => {
  // What node:net throws for `localhost` when both ::1 and 127.0.0.1 refuse.
  const err = Object.assign(new AggregateError([new Error('connect ECONNREFUSED ::1:5432'), new Error('connect ECONNREFUSED 127.0.0.1:5432')], ''), { code: 'ECONNREFUSED' });
  expect(formatError(err)).toBe(['AggregateError (code: ECONNREFUSED)', '  [1/2] connect ECONNREFUSED ::1:5432', '  [2/2] connect ECONNREFUSED 127.0.0.1:5432'].join('\n'));
});

test('things thrown that are not Errors are shown, never as [object Object]', () => {
  expect(formatError({ status: 1, reason: 'aborted', nested: { where: 'pglite' } })).toBe("{ status: 1, reason: 'aborted', nested: { where: 'pglite' } }");
  expect(formatError('plain string')).toBe('plain string');
  expect(formatError(undefined)).toBe('undefined');
  expect(formatError(null)).toBe('null');
  expect(formatError(42)).toBe('42');
  expect(formatError(new Error('wrapped', { cause: { code: 'XX000' } }))).toBe("wrapped\n  caused by: { code: 'XX000' }");
  for (const thrown of [{}, [], { toString: () => '[object Object]' }, Object.create(null)]) expect(formatError(thrown)).not.toContain('[object Object]');
});

test('names other than Error, useful details and validation fields are kept', () => {
  expect(formatError(new RangeError('too big'))).toBe('RangeError: too big');
  const pg = Object.assign(new Error('relation "users" does not exist'), { code: '42P01', hint: 'run migrations' });
  expect(formatError(pg)).toBe('relation "users" does not exist (code: 42P01, hint: run migrations)');
  expect(formatError(new ValidationError('Please correct the highlighted fields.', { email: 'Enter a valid email address.' }))).toBe(
    'ValidationError: Please correct the highlighted fields.\n  email: Enter a valid email address.',
  );
});

test('cycles end, and the stack of the outermost error is shown on request', () => {
  const a = new Error('a') as Error & { cause?: unknown };
  const b = new Error('b', { cause: a });
  a.cause = b;
  expect(formatError(a)).toBe('a\n  caused by: b\n    caused by: (the same error again)');
  const withStack = formatError(new Error('boom', { cause: new Error('inner') }), { stack: true }).split('\n');
  expect(withStack[0]).toBe('boom');
  expect(withStack[1]).toMatch(/^ {2}at .*format-error\.test\.ts/);
  expect(withStack.at(-1)).toBe('  caused by: inner'); // causes without their stacks
});
