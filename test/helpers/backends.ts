/** Real HTTP backends on 127.0.0.1 for tests: each answers with its name unless given a handler. */
import http from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';

export interface TestBackend {
  readonly name: string;
  readonly server: http.Server;
  readonly port: number;
  readonly url: string;
  /** Requests seen (health probes excluded). */
  hits: number;
  /** Last non-probe request's headers. */
  lastHeaders: http.IncomingHttpHeaders | undefined;
  close(): Promise<void>;
  /** Listens again on the same port after a close. */
  restart(): Promise<void>;
}

export type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void;

export async function startBackend(name: string, handler?: Handler, port = 0): Promise<TestBackend> {
  const server = http.createServer();
  const backend: TestBackend = {
    name,
    server,
    port: 0,
    url: '',
    hits: 0,
    lastHeaders: undefined,
    async close() {
      if (!server.listening) return;
      const done = once(server, 'close');
      server.close();
      server.closeAllConnections();
      await done;
    },
    async restart() {
      server.listen(backend.port, '127.0.0.1');
      await once(server, 'listening');
    },
  };
  server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
    if (req.url === '/health') {
      res.end('ok');
      return;
    }
    backend.hits++;
    backend.lastHeaders = req.headers;
    if (handler) return handler(req, res);
    req.resume();
    req.on('end', () => {
      res.setHeader('content-type', 'text/plain');
      res.end(name);
    });
  });
  server.listen(port, '127.0.0.1');
  await once(server, 'listening');
  const p = (server.address() as AddressInfo).port;
  Object.assign(backend, { port: p, url: `http://127.0.0.1:${p}` });
  return backend;
}

/** A port that was just free: listen on 0, note the port, close. Connections to it are refused. */
export async function deadPort(): Promise<number> {
  const s = http.createServer();
  s.listen(0, '127.0.0.1');
  await once(s, 'listening');
  const port = (s.address() as AddressInfo).port;
  s.close();
  await once(s, 'close');
  return port;
}

/**
 * A set of named test backends closed together: `const start = backendSet(); after(start.closeAll);`
 * then `const [a, b] = await start('a', 'b')`.
 */
export function backendSet(): ((...names: string[]) => Promise<TestBackend[]>) & {
  /** Adds a backend started some other way, so it is closed with the rest. */
  track(b: TestBackend): void;
  closeAll(): Promise<void>;
} {
  const started: TestBackend[] = [];
  const start = async (...names: string[]): Promise<TestBackend[]> => {
    const bs = await Promise.all(names.map((n) => startBackend(n)));
    started.push(...bs);
    return bs;
  };
  return Object.assign(start, {
    track: (b: TestBackend) => void started.push(b),
    closeAll: async () => void (await Promise.all(started.map((b) => b.close()))),
  });
}
