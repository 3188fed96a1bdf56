import { emailAddress } from '../../../src/lib/validation';
import { startTestApp, type TestApp } from '../../support/app';
import { pathologicalTexts } from '../../support/pathological';
import { expectWithin, expectWithinSync } from '../../support/timing';
import { WebClient } from '../../support/web-client';

/** The e-mail check ran a backtracking regex before its length check: 20,000 dots took 2 s, 100,000 took minutes. */

const hostileEmails = (): string[] => [`a@${'.'.repeat(100_000)} `, `a@${'a.'.repeat(50_000)}!`, ...Object.values(pathologicalTexts()).map((t) => `a@${t}`)];

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp();
});
afterAll(() => app.stop());

test('the e-mail check refuses every 100,000-character e-mail address within 2 s', () => {
  for (const email of hostileEmails()) {
    expectWithinSync(2000, () => expect(emailAddress.safeParse(email).success).toBe(false));
  }
});

test('sign-up answers a 100,000-character e-mail address with a 422 within 5 s', async () => {
  const web = new WebClient(app.url);
  // Two posts: sign-up allows 20 per IP and hour.
  for (const email of hostileEmails().slice(0, 2)) {
    await web.get('/signup');
    let res = { status: 0, text: '' };
    // The first sign-up also loads zxcvbn's dictionaries (~1 s on a busy machine); minutes is what a blow-up costs.
    await expectWithin(5000, async () => {
      res = await web.post('/signup', { email, password: 'correct horse battery staple' });
    });
    expect([res.status, res.text.includes('Enter a valid email address.')]).toEqual([422, true]);
  }
});
