/** @module test/health/helpers: real HTTP backends on 127.0.0.1 and backend configs for the health tests. */
import { once } from 'node:events';
import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { BackendConfig, HealthSettings } from '../../src/config/index.js';

/** A listening backend; `close()` cuts open connections so it never waits on a hung probe. */
export interface TestServer {
  readonly server: Server;
  readonly port: number;
  readonly url: string;
  close(): Promise<void>;
}

/** Starts a backend on 127.0.0.1 (port 0 picks a free one; pass a port to come back on the same one). */
export async function listen(handler: RequestListener, port = 0): Promise<TestServer> {
  const server = createServer(handler);
  server.listen(port, '127.0.0.1');
  await once(server, 'listening');
  const actual = (server.address() as AddressInfo).port;
  let closing: Promise<void> | undefined;
  return {
    server,
    port: actual,
    url: `http://127.0.0.1:${actual}`,
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}

/** A port that was just listened on and closed, so connecting to it is refused. */
export async function deadPort(): Promise<number> {
  const s = await listen(() => {});
  await s.close();
  return s.port;
}

/** Fast defaults for tests: 50 ms interval, rise 2, fall 2, 1 s timeout. */
export function settings(overrides: Partial<HealthSettings> = {}): HealthSettings {
  return {
    intervalMs: 50,
    path: '/health',
    method: 'GET',
    algorithm: 'http',
    timeoutMs: 1000,
    headers: {},
    check: undefined,
    rise: 2,
    fall: 2,
    ...overrides,
  };
}

/** A backend config literal as `validateConfig()` would produce it. */
export function backend(url: string, health: Partial<HealthSettings> = {}, id = 'b1'): BackendConfig {
  return { id, rawId: id, url, weight: 1, owner: undefined, health: settings(health), pool: 'default' };
}

/** Resolves after `ms`; only for proving that something does NOT happen. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
