import { isDevelopmentHost, siteHost, wordpressVersion } from '../../../src/services/licensing/site-host.rules';

test('siteHost: from domain (any spelling of a URL) or else WordPress\'s User-Agent', () => {
  const cases: [unknown, string | undefined, string | null][] = [
    ['https://shop.example.com', undefined, 'shop.example.com'],
    ['https://www.Shop.Example.com./wp-admin/?x=1', undefined, 'shop.example.com'],
    ['shop.example.com:8080/path', undefined, 'shop.example.com'],
    ['  http://shop.example.com  ', undefined, 'shop.example.com'],
    ['http://[::1]:8080', undefined, '[::1]'],
    ['http://192.168.1.20', undefined, '192.168.1.20'],
    [undefined, 'WordPress/6.4.2; https://blog.example.org', 'blog.example.org'],
    ['', 'WordPress/6.4; http://www.blog.example.org/', 'blog.example.org'],
    ['https://domain.wins.example', 'WordPress/6.4; https://ua.example', 'domain.wins.example'],
    [undefined, 'Mozilla/5.0 (X11)', null],
    [undefined, undefined, null],
    [42, undefined, null],
    ['http://', undefined, null],
    ['http://exa mple.com', undefined, null],
    [`https://${'a'.repeat(600)}.com`, undefined, null],
    [`https://${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(63)}.com`, undefined, null], // > 253
  ];
  for (const [domain, ua, host] of cases) expect([domain, ua, siteHost(domain, ua)]).toEqual([domain, ua, host]);
});

test('wordpressVersion reads WordPress\'s User-Agent only', () => {
  expect(wordpressVersion('WordPress/6.4.2; https://a.example')).toBe('6.4.2');
  expect(wordpressVersion('wordpress/6.5-beta1; x')).toBe('6.5-beta1');
  expect(wordpressVersion('Mozilla/5.0')).toBeNull();
  expect(wordpressVersion(undefined)).toBeNull();
});

test('isDevelopmentHost: localhost, private and link-local addresses, reserved names; real sites are not', () => {
  for (const host of ['localhost', '127.0.0.1', '10.1.2.3', '172.16.0.1', '172.31.255.255', '192.168.1.20', '169.254.1.1', '0.0.0.0', '[::1]', '::1', 'fd00::1', 'fe80::1', 'site.local', 'shop.test', 'x.example', 'y.invalid', 'app.localhost', 'test', 'example'])
    expect([host, isDevelopmentHost(host)]).toEqual([host, true]);
  for (const host of ['shop.example.com', 'example.org', '8.8.8.8', '172.32.0.1', '172.15.0.1', '192.169.1.1', 'testing.com', 'local.com', 'mytest', '2001:4860::8888'])
    expect([host, isDevelopmentHost(host)]).toEqual([host, false]);
});
