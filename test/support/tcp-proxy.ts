import net from 'node:net';
import type { AddressInfo } from 'node:net';

/**
 * A TCP relay in front of a real server (PostgreSQL here) that a test can freeze: while frozen,
 * bytes in both directions are held back, so the server looks alive but answers nothing (a
 * dying primary), and new connections hang in the handshake.
 */
export interface TcpProxy {
  port: number;
  freeze(): void;
  thaw(): void;
  close(): Promise<void>;
}

/** Sees each chunk a client sends before it is relayed; `false` swallows it (the hook may answer or end the client itself). */
export type ClientChunkHook = (chunk: Buffer, client: net.Socket, upstream: net.Socket) => boolean;

export async function startTcpProxy(targetPort: number, targetHost = '127.0.0.1', onClientChunk?: ClientChunkHook): Promise<TcpProxy> {
  let frozen = false;
  const sockets = new Set<net.Socket>();
  const held: (() => void)[] = [];
  const relay = (from: net.Socket, to: net.Socket, hook?: ClientChunkHook) =>
    from.on('data', (chunk: Buffer) => {
      if (hook && !hook(chunk, from, to)) return;
      if (!frozen) to.write(chunk);
      else held.push(() => to.write(chunk));
    });
  const server = net.createServer((client) => {
    const upstream = net.connect(targetPort, targetHost);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => undefined);
    }
    relay(client, upstream, onClientChunk);
    relay(upstream, client);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    freeze: () => {
      frozen = true;
    },
    thaw: () => {
      frozen = false;
      for (const write of held.splice(0)) write();
    },
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
