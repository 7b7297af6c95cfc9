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
