/**
 * @module config/redis-config: the `redis` option resolved (defaults that depend on the backends' health
 * intervals, a replica id) and the checks it brings across fields: a shared sticky secret, a verdict TTL that
 * outlives a probe interval.
 */
import { stickySecretFromEnv } from './environment.js';
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { ConfigIssue } from '../errors.js';
import type { ConfigInput, RedisInput } from './schema.js';
import type { BackendConfig, GatewayConfig, RedisConfig } from './types.js';

/** The longest health-check interval among `backends` (ms); 0 when there are none. */
function longestHealthIntervalMs(backends: readonly BackendConfig[]): number {
  return backends.reduce((max, b) => Math.max(max, b.health.intervalMs), 0);
}

/** `redis` with its defaults; a string is the URL alone. */
export function resolveRedis(r: RedisInput, backends: readonly BackendConfig[]): RedisConfig {
  const o = typeof r === 'string' ? { url: r } : r;
  const syncIntervalMs = o.syncIntervalMs ?? 2000;
  return {
    url: o.url,
    sentinels: o.sentinels,
    name: o.name,
    cluster: o.cluster,
    username: o.username,
    password: o.password,
    tls: o.tls ?? (o.url !== undefined && new URL(o.url).protocol === 'rediss:'),
    keyPrefix: o.keyPrefix ?? 'keyway',
    required: o.required ?? false,
    connectTimeoutMs: o.connectTimeoutMs ?? 3000,
    syncIntervalMs,
    // A verdict outlives a few missed refreshes, whichever comes slower: syncs or probes.
    verdictTtlMs: o.verdictTtlMs ?? Math.max(3 * syncIntervalMs, 3 * longestHealthIntervalMs(backends)),
    stateTtlMs: o.stateTtlMs ?? 86_400_000,
    healthQuorum: o.healthQuorum,
    replicaId: o.replicaId ?? `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`,
  };
}

/** Checks that only apply with `redis`: replicas must agree on the sticky secret; verdicts must outlive probes. */
export function redisIssues(input: ConfigInput, config: GatewayConfig): ConfigIssue[] {
  if (config.redis === false) return [];
  const issues: ConfigIssue[] = [];
  // Without a shared key each replica signs with its own random one and rejects the others' cookies.
  const unsigned = stickySecretFromEnv() !== undefined
    ? undefined
    : config.pools.find((p) => p.sticky !== false && p.sticky.secret === undefined);
  if (unsigned !== undefined) {
    issues.push({
      // With top-level stickiness off, the secret belongs in the first pool that turns it on.
      path: config.sticky === false ? `pools.${unsigned.name}.sticky.secret` : 'sticky.secret',
      message: 'required with redis: replicas must share a secret to accept each other\'s sticky cookies (or set KEYWAY_STICKY_SECRET)',
    });
  }
  const longest = longestHealthIntervalMs(config.backends);
  if (typeof input.redis === 'object' && input.redis.verdictTtlMs !== undefined && input.redis.verdictTtlMs <= longest) {
    issues.push({ path: 'redis.verdictTtlMs', message: `must be greater than the longest health interval (${longest} ms), or verdicts expire between probes` });
  }
  return issues;
}
