/** A small real HTTP client for tests: buffers the body, keeps raw headers, never reuses sockets. */
import http from 'node:http';

export interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  rawHeaders: string[];
  trailers: NodeJS.Dict<string>;
  body: string;
}

export interface RequestOptions {
  method?: string;
  path?: string;
  headers?: http.OutgoingHttpHeaders | string[];
  body?: string | Buffer;
  agent?: http.Agent | false;
  timeoutMs?: number;
}

export function request(port: number, options: RequestOptions = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        method: options.method ?? 'GET',
        path: options.path ?? '/',
        headers: options.headers as http.OutgoingHttpHeaders,
        agent: options.agent ?? false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            rawHeaders: res.rawHeaders,
            trailers: res.trailers,
            body: Buffer.concat(chunks).toString(),
          }),
        );
        res.on('error', reject);
      },
    );
    req.setTimeout(options.timeoutMs ?? 10_000, () => req.destroy(new Error('test request timed out')));
    req.on('error', reject);
    req.end(options.body);
  });
}

/** The `name=value` part of a Set-Cookie header for `name`, or undefined. */
export function cookieFrom(reply: Reply, name: string): string | undefined {
  const set = reply.headers['set-cookie'] ?? [];
  const line = set.find((l) => l.startsWith(`${name}=`));
  return line?.split(';')[0];
}

/** Sends `n` sequential GETs and counts the answers by body (test backends answer with their name). */
export async function spread(port: number, n: number): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (let i = 0; i < n; i++) {
    const r = await request(port);
    if (r.status !== 200) throw new Error(`request ${i} answered ${r.status}: ${r.body}`);
    counts[r.body] = (counts[r.body] ?? 0) + 1;
  }
  return counts;
}
