/**
 * The hostile suite's parts: a backend that logs every request its own parser reads (what a smuggled request would
 * look like on the far side), a raw TCP backend that answers with bytes of the test's choosing, and a raw client
 * that counts the answers the gateway gave on one connection.
 */
import { once } from 'node:events';
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';

export interface Logged {
  method: string;
  url: string;
  rawHeaders: string[];
  headers: http.IncomingHttpHeaders;
  body: string;
  trailers: NodeJS.Dict<string>;
}

export interface LoggingBackend {
  readonly url: string;
  readonly port: number;
  /** Every request parsed, health probes (`/health`) excluded. */
  readonly log: Logged[];
  close(): Promise<void>;
}

/**
 * A node:http backend with no header count limit and a 1 MiB head, so it parses whatever the gateway sends it:
 * every request lands in `log` with its raw headers and body. It answers `200 ok` unless `answer` says otherwise.
 */
export async function startLoggingBackend(answer?: (req: http.IncomingMessage, res: http.ServerResponse, body: string) => void): Promise<LoggingBackend> {
  const log: Logged[] = [];
  const server = http.createServer({ maxHeaderSize: 1 << 20 }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('latin1');
      if (req.url !== '/health') {
        log.push({ method: req.method ?? '', url: req.url ?? '', rawHeaders: req.rawHeaders, headers: req.headers, body, trailers: req.trailers });
      }
      if (answer !== undefined && req.url !== '/health') return answer(req, res, body);
      res.setHeader('content-type', 'text/plain');
      res.end('ok');
    });
  });
  server.maxHeadersCount = 0;
  server.on('upgrade', (req: http.IncomingMessage, socket: net.Socket) => {
    log.push({ method: req.method ?? '', url: req.url ?? '', rawHeaders: req.rawHeaders, headers: req.headers, body: '', trailers: {} });
    socket.on('error', () => socket.destroy());
    socket.end('HTTP/1.1 403 Forbidden\r\ncontent-length: 2\r\nconnection: close\r\n\r\nno');
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    log,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export interface RawBackend {
  readonly url: string;
  /** What to answer the next request with (latin1); health probes always get `200 ok`. */
  reply: string;
  /** Request heads received (probes excluded). */
  readonly heads: string[];
  close(): Promise<void>;
}

/** A TCP backend that reads a request head and writes `reply` verbatim, then closes: for answers node would never send. */
export async function startRawBackend(reply = 'HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok'): Promise<RawBackend> {
  const heads: string[] = [];
  const sockets = new Set<net.Socket>();
  const backend: RawBackend = { url: '', reply, heads, close: async () => undefined };
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    let buf = '';
    socket.setEncoding('latin1');
    socket.on('data', (c: string) => {
      buf += c;
      const end = buf.indexOf('\r\n\r\n');
      if (end === -1) return;
      const h = buf.slice(0, end);
      buf = buf.slice(end + 4);
      if (h.startsWith('GET /health ')) {
        socket.write('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok');
        return;
      }
      heads.push(h);
      socket.end(backend.reply, 'latin1');
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  Object.assign(backend, {
    url: `http://127.0.0.1:${port}`,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  });
  return backend;
}

export interface RawReply {
  /** Everything read (latin1). */
  data: string;
  /** Whether the gateway closed the connection. */
  closed: boolean;
  /** Status codes of the answers read, in order. */
  statuses: number[];
}

/**
 * Writes `bytes` on a new connection (from `localAddress` when given, so a backend can tell clients apart) and reads until the gateway closes it, or `idleMs` after the last byte read
 * once something was read, or `timeoutMs` in all. Never rejects: what was read is the result.
 */
export function rawSend(port: number, bytes: string | Buffer, options: { idleMs?: number; timeoutMs?: number; localAddress?: string } = {}): Promise<RawReply> {
  const idleMs = options.idleMs ?? 300;
  const timeoutMs = options.timeoutMs ?? 5000;
  return new Promise((resolve) => {
    const s = net.connect({ port, host: '127.0.0.1', localAddress: options.localAddress });
    let data = '';
    let idle: NodeJS.Timeout | undefined;
    const done = (closed: boolean): void => {
      clearTimeout(total);
      clearTimeout(idle);
      s.destroy();
      resolve({ data, closed, statuses: statusesOf(data) });
    };
    const total = setTimeout(() => done(false), timeoutMs);
    s.setEncoding('latin1');
    s.on('data', (c: string) => {
      data += c;
      clearTimeout(idle);
      idle = setTimeout(() => done(false), idleMs);
    });
    s.on('error', () => undefined);
    s.once('close', () => done(true));
    s.write(bytes);
  });
}

/**
 * The status code of every response head in `data`. A head may follow the previous body directly (`okHTTP/1.1`), so
 * none is anchored; an answer's body that looks like a head would count too (the test backends answer `ok`).
 */
export function statusesOf(data: string): number[] {
  const out: number[] = [];
  const re = /HTTP\/1\.[01] (\d{3})[^\r\n]*\r\n/g;
  for (let m = re.exec(data); m !== null; m = re.exec(data)) out.push(Number(m[1]));
  return out;
}

/** `lines` joined as a request head. */
export const head = (lines: string[]): string => `${lines.join('\r\n')}\r\n\r\n`;

/** The raw header value(s) of `name` (case-insensitive) in a logged request. */
export function rawValues(logged: Logged, name: string): string[] {
  const out: string[] = [];
  const lower = name.toLowerCase();
  for (let i = 0; i < logged.rawHeaders.length; i += 2) if ((logged.rawHeaders[i] as string).toLowerCase() === lower) out.push(logged.rawHeaders[i + 1] as string);
  return out;
}
