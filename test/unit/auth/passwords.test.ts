import { PASSWORD_MAX_LENGTH, passwordProblem } from '../../../src/services/passwords';

/** The password rules, with zxcvbn-ts and its real dictionaries (in its worker thread). */

test.each(['correct horse battery staple', 'jupiter vapor lantern 42', 'x7Kq-mR29-vLp4-Wn8s'])('accepts a strong password: %s', async (p) => {
  await expect(passwordProblem(p, ['owner@example.com'])).resolves.toBeNull();
});

test('refuses passwords under 10 characters without scoring them', async () => {
  await expect(passwordProblem('Xk9#mQ2!z')).resolves.toBe('Use at least 10 characters.');
});

test('refuses passwords longer than the maximum', async () => {
  await expect(passwordProblem('x'.repeat(PASSWORD_MAX_LENGTH + 1))).resolves.toBe(`Use at most ${PASSWORD_MAX_LENGTH} characters.`);
});

test.each([
  ['password1234', /commonly used password/],
  ['iloveyou123456', /commonly used password/],
  ['qwertyuiop12', /commonly used password/],
  ['aaaaaaaaaaaaaaaa', /Repeated characters/],
  ['1234567890123', /./],
])('refuses a common or guessable password with zxcvbn feedback: %s', async (p, advice) => {
  const problem = await passwordProblem(p);
  expect(problem).toMatch(/^This password is too easy to guess\. /);
  expect(problem).toMatch(advice);
});

test("refuses a password made of the account's own email", async () => {
  const problem = await passwordProblem('jane.doe@example.com1', ['jane.doe@example.com']);
  expect(problem).toMatch(/too easy to guess/);
});

test('a long hostile password is judged quickly (zxcvbn sees a bounded prefix)', async () => {
  const hostile = ['4@3$1!0|7'.repeat(40), '2024-01-01'.repeat(25), Buffer.alloc(192, 'k9').toString('base64')].map((s) => s.slice(0, PASSWORD_MAX_LENGTH));
  await passwordProblem('warm up the worker please');
  const started = Date.now();
  for (const p of hostile) await passwordProblem(p);
  expect(Date.now() - started).toBeLessThan(10_000); // unbounded, 256 random characters took ~6 s each
});
