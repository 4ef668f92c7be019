import http from 'node:http';

export interface Reply {
  status: number;
  body: string;
  ms: number;
}

/** A keep-alive HTTP/1.1 client: cheaper per request than fetch, so the load generator steals less CPU. */
export class HttpClient {
  private readonly agent: http.Agent;
  private readonly base: URL;

  constructor(baseUrl: string, private readonly token: string, sockets: number) {
    this.base = new URL(baseUrl);
    this.agent = new http.Agent({ keepAlive: true, maxSockets: sockets });
  }

  request(method: string, path: string, body?: unknown): Promise<Reply> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const started = performance.now();
    return new Promise((resolve, reject) => {
      const req = http.request(
        {
          host: this.base.hostname,
          port: this.base.port,
          method,
          path,
          agent: this.agent,
          headers: {
            Authorization: `Bearer ${this.token}`,
            Accept: 'application/scim+json',
            ...(payload ? { 'Content-Type': 'application/scim+json', 'Content-Length': Buffer.byteLength(payload) } : {}),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString(), ms: performance.now() - started }));
        },
      );
      req.on('error', reject);
      req.end(payload);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

/**
 * Runs `work(i)` with `concurrency` workers until `total` calls or `durationMs` elapse, and returns every
 * latency plus the non-2xx count.
 */
export async function runLoad(opts: {
  concurrency: number;
  total?: number;
  durationMs?: number;
  work: (i: number) => Promise<Reply>;
}): Promise<{ latencies: number[]; errors: number; elapsedMs: number; statuses: Record<string, number> }> {
  const latencies: number[] = [];
  const statuses: Record<string, number> = {};
  let errors = 0;
  let next = 0;
  const started = performance.now();
  const deadline = opts.durationMs ? started + opts.durationMs : Infinity;
  const worker = async () => {
    for (;;) {
      const i = next++;
      if ((opts.total !== undefined && i >= opts.total) || performance.now() >= deadline) return;
      const reply = await opts.work(i).catch(() => ({ status: 0, body: '', ms: 0 }));
      statuses[reply.status] = (statuses[reply.status] ?? 0) + 1;
      if (reply.status < 200 || reply.status > 299) errors++;
      else latencies.push(reply.ms);
    }
  };
  await Promise.all(Array.from({ length: opts.concurrency }, worker));
  return { latencies, errors, elapsedMs: performance.now() - started, statuses };
}
