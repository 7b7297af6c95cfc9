/**
 * @module config/resolve-topology: the topology options with their defaults: pools, routes, default and
 * WebSocket pools, service routes, fallback, Redis and the boot handshake.
 */
import { poolEntries, resolvePool, type PoolDefaults } from './pools.js';
import { resolveRedis } from './redis-config.js';
import { DEFAULT_POOL, type ConfigInput, type RouteInput } from './schema.js';
import type { BootHandshakeConfig, FallbackConfig, RouteConfig, TopologyConfig } from './types.js';

/** The topology part of `GatewayConfig`; every pool inherits from `top`. */
export function resolveTopology(input: ConfigInput, top: PoolDefaults): TopologyConfig {
  const fallback = resolveFallback(input.fallback);
  const pools = poolEntries(input).map((entry) => resolvePool(entry, top, fallback.pool));
  const names = new Set(pools.map((p) => p.name));
  const sr = input.serviceRoutes;
  const backends = pools.flatMap((p) => p.backends);
  return {
    pools,
    routes: (input.routes ?? []).map(resolveRoute),
    defaultPool: input.defaultPool === undefined ? (names.has(DEFAULT_POOL) ? DEFAULT_POOL : null) : input.defaultPool,
    serviceRoutes: sr === true ? { prefix: '/api' } : sr === false || sr === undefined ? false : { prefix: sr.prefix },
    websocketPool: input.websocketPool ?? null,
    websocketPaths: [...(input.websocketPaths ?? ['/socket.io/'])],
    fallback,
    redis: input.redis === undefined ? false : resolveRedis(input.redis, backends),
    bootHandshake: resolveBootHandshake(input.bootHandshake, input.strictBootHandshake),
    strictBootHandshake: input.strictBootHandshake ?? false,
  };
}

function resolveRoute(r: RouteInput): RouteConfig {
  return {
    path: r.path,
    host: r.host,
    header: r.header === undefined ? undefined : { name: r.header.name, value: r.header.value },
    pool: r.pool,
    stripPrefix: r.stripPrefix ?? false,
  };
}

function resolveFallback(f: ConfigInput['fallback']): FallbackConfig {
  const o = typeof f === 'string' ? { pool: f } : (f ?? {});
  return { pool: o.pool, header: o.header ?? 'x-keyway-fallback', toClient: o.toClient ?? false };
}

function resolveBootHandshake(b: ConfigInput['bootHandshake'], strict: boolean | undefined): BootHandshakeConfig | false {
  // `strictBootHandshake: true` alone turns the handshake on; with `bootHandshake: false` it is refused in
  // topology-checks.ts.
  if (b === false || (b === undefined && strict !== true)) return false;
  const o = typeof b === 'object' ? b : {};
  return {
    path: o.path ?? '/.well-known/keyway/boot',
    intervalMs: o.intervalMs,
    timeoutMs: o.timeoutMs ?? 2000,
    expect: o.expect === undefined ? undefined : { ...o.expect },
  };
}
