/**
 * @module test/singleton/fluxstack/rig: what every adapter test file needs: a private redis-server, a raw client to
 * look at it, and clients and adapters that are all shut down after the file.
 */
import { after, before } from 'node:test';
import { Redis } from 'ioredis';
import { startRedisServer, type RedisServer } from '../../helpers/redis.js';

export interface AdapterRig {
  readonly server: RedisServer;
  readonly raw: Redis;
  /** A new client to the server, disconnected after the file. */
  client(): Redis;
  /** Shuts `adapter` down after the file. */
  track<A extends { shutdown(): Promise<void> }>(adapter: A): A;
}

export function adapterRig(): AdapterRig {
  const clients: Redis[] = [];
  const adapters: { shutdown(): Promise<void> }[] = [];
  let server: RedisServer | undefined;
  let raw: Redis | undefined;
  before(async () => {
    server = await startRedisServer();
    raw = new Redis(server.port, server.host);
  });
  after(async () => {
    await Promise.all(adapters.map((a) => a.shutdown()));
    for (const client of clients) client.disconnect();
    raw?.disconnect();
    await server?.stop();
  });
  return {
    get server() {
      return server!;
    },
    get raw() {
      return raw!;
    },
    client() {
      const c = new Redis(server!.port, server!.host);
      clients.push(c);
      return c;
    },
    track(adapter) {
      adapters.push(adapter);
      return adapter;
    },
  };
}
