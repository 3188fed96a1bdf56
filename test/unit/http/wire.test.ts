import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { header } from '../../../src/http/wire';

/** header() must read a request exactly as Node's req.headers does, duplicates and case included. */
test('header() agrees with req.headers on repeated, mixed-case and missing headers', async () => {
  const seen: Record<string, [string | undefined, string | undefined]> = {};
  const server = http.createServer((req, res) => {
    for (const [name, all] of [['user-agent', false], ['content-type', false], ['x-forwarded-for', true], ['x-missing', false]] as const) {
      seen[name] = [header(req, name, all), req.headers[name] as string | undefined];
    }
    res.end('ok');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () =>
      socket.write(
        'GET / HTTP/1.1\r\nHost: x\r\nUSER-AGENT: WordPress/6.5; https://a.example\r\nUser-Agent: second\r\n' +
          'Content-Type: application/json\r\nX-Forwarded-For: 203.0.113.9\r\nx-forwarded-for: 10.0.0.1, 10.0.0.2\r\nConnection: close\r\n\r\n',
      ),
    );
    socket.on('data', () => undefined);
    socket.on('end', resolve);
    socket.on('error', reject);
  });
  server.close();
  for (const [name, [ours, node]] of Object.entries(seen)) expect([name, ours]).toEqual([name, node]);
  expect(seen['x-forwarded-for']![0]).toBe('203.0.113.9, 10.0.0.1, 10.0.0.2');
});
