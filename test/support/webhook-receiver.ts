import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Received {
  headers: http.IncomingHttpHeaders;
  body: string;
  json: any;
  at: number;
}

/**
 * A real HTTP receiver on a free loopback port: records every request and answers with the next
 * scripted reply (default 200). `hang` holds the request open without answering.
 */
export class WebhookReceiver {
  readonly received: Received[] = [];
  private replies: ({ status: number; body?: string; headers?: Record<string, string> } | 'hang')[] = [];
  private readonly server: http.Server;
  private waiters: (() => void)[] = [];
  onRequest: ((r: Received) => void) | undefined;

  private constructor() {
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        let json: any = null;
        try {
          json = JSON.parse(body);
        } catch {
          json = null;
        }
        const r: Received = { headers: req.headers, body, json, at: Date.now() };
        this.received.push(r);
        this.onRequest?.(r);
        const reply = this.replies.shift() ?? { status: 200, body: 'ok' };
        if (reply !== 'hang') res.writeHead(reply.status, reply.headers ?? {}).end(reply.body ?? '');
        for (const w of this.waiters.splice(0)) w();
      });
    });
  }

  static async start(): Promise<WebhookReceiver> {
    const r = new WebhookReceiver();
    await new Promise<void>((resolve) => r.server.listen(0, '127.0.0.1', resolve));
    return r;
  }

  /** By name, so the SSRF guard's lookup (not the literal-IP check) is what sees 127.0.0.1. */
  get url(): string {
    return `http://localhost:${(this.server.address() as AddressInfo).port}/hook`;
  }

  get ipUrl(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hook`;
  }

  reply(...replies: ({ status: number; body?: string; headers?: Record<string, string> } | 'hang')[]): void {
    this.replies.push(...replies);
  }

  /** Resolves once a request matching `pred` has arrived (hang guard: ms). */
  async waitFor(pred: (r: Received) => boolean, ms = 20_000): Promise<Received> {
    const until = Date.now() + ms;
    for (;;) {
      const hit = this.received.find(pred);
      if (hit) return hit;
      if (Date.now() > until) throw new Error(`no matching webhook within ${ms} ms; got: ${this.received.map((r) => r.json?.type ?? r.body.slice(0, 80)).join(', ')}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 200);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
