import type { WebClient } from './web-client';

/** Create an API key through the dashboard, as a vendor would. */
export async function createApiKey(web: WebClient, name = 'test'): Promise<string> {
  await web.get('/account');
  const res = await web.post('/account/api-keys', { name });
  if (res.status !== 303) throw new Error(`could not create an API key: ${res.status}`);
  // Post/redirect/get: the key is shown once, on the page the redirect leads to.
  const m = /id="new-api-key">([^<]+)</.exec((await web.get(res.location!)).text);
  if (!m) throw new Error('the new API key was not shown after the redirect');
  return m[1]!;
}

export async function api(base: string, key: string | null, method: string, path: string, body?: unknown) {
  const res = await fetch(new URL(path, base), {
    method,
    headers: {
      accept: 'application/json',
      ...(key ? { authorization: `Bearer ${key}` } : {}),
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  let json: any = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = null;
  }
  return { status: res.status, json, text, headers: res.headers };
}
