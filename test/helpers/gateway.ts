/** Starts a real gateway on 127.0.0.1:0 with a quiet logger and a fixed sticky secret. */
import assert from 'node:assert/strict';
import { after } from 'node:test';
import { createGateway, type Gateway, type GatewayOptions } from '../../src/index.js';
import { silentLogger } from '../../src/observe/index.js';
import type { TestBackend } from './backends.js';

export interface Started {
  gateway: Gateway;
  port: number;
  close(): Promise<void>;
}

export async function startGateway(config: Record<string, unknown>, options: Omit<GatewayOptions, 'admin' | 'logger'> = {}): Promise<Started> {
  const sticky = config.sticky === false ? false : { secret: 'test-secret', ...(config.sticky as object | undefined) };
  const gateway = createGateway(
    {
      host: '127.0.0.1',
      port: 0,
      ...config,
      health: { interval: 60_000, path: '/health', ...(config.health as object | undefined) },
      sticky,
    },
    { logger: silentLogger(), ...options },
  );
  const { port } = await gateway.listen();
  return { gateway, port, close: () => gateway.close() };
}

/** The gateway's upstream `id`; fails the test if it has none. */
export function upstreamOf(started: Started, id: string): Gateway['upstreams'][number] {
  const u = started.gateway.upstreams.find((x) => x.id === id);
  assert.ok(u, `no backend ${id}`);
  return u;
}

/**
 * Starts replicas of one shared view: `config` (its `redis` names the store and key prefix) serving `servers`, whose
 * names are their ids. Each call starts one more, probing every `intervalMs` (rise 1, fall 1), closed after the tests.
 */
export function replicaStarter(servers: TestBackend[], config: Record<string, unknown>): (intervalMs: number) => Promise<Started> {
  const backends = servers.map((s) => ({ id: s.name, url: s.url }));
  return async (intervalMs) => {
    const r = await startGateway({ backends, ...config, health: { interval: intervalMs, rise: 1, fall: 1 } });
    after(r.close);
    return r;
  };
}
