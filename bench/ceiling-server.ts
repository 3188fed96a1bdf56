/**
 * Bench helper process: the ceiling. A bare node:http server that answers every request with the
 * exact status, headers and body Wharf gave for the update check, doing no work at all.
 * IPC: receives { status, headers, body }, then sends { port } once listening.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

interface Answer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

process.once('message', (a: Answer) => {
  const body = Buffer.from(a.body);
  const server = http.createServer((_req, res) => {
    res.writeHead(a.status, a.headers);
    res.end(body);
  });
  // Same keep-alive settings as Wharf's server.
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  server.listen(0, '127.0.0.1', () => process.send?.({ port: (server.address() as AddressInfo).port }));
  process.on('SIGTERM', () => process.exit(0));
  process.on('disconnect', () => process.exit(0));
});
