/**
 * @module config/resolve-config: the parsed input -> a complete `GatewayConfig` (not yet frozen), every default
 * applied. Pools inherit from the top level (`pools.ts`); the topology options resolve in `resolve-topology.ts`.
 */
import { copyData } from './plain-data.js';
import { DEFAULT_HEALTH, mergeHealth, resolveSticky, type PoolDefaults } from './pools.js';
import { resolveTopology } from './resolve-topology.js';
import type { ConfigInput } from './schema.js';
import type { GatewayConfig, MetricsConfig, OutlierConfig, RetriesConfig, TimeoutsConfig } from './types.js';

/** Applies every default to `input`; the result shares no plain object with it. */
export function resolveConfig(input: ConfigInput): GatewayConfig {
  const top: PoolDefaults = {
    strategy: input.strategy ?? 'round-robin',
    hashKey: input.hashKey,
    health: mergeHealth(DEFAULT_HEALTH, input.health ?? {}),
    sticky: resolveSticky(input.sticky),
  };
  const topology = resolveTopology(input, top);
  return {
    host: input.host ?? '0.0.0.0',
    port: input.port ?? 8080,
    strategy: top.strategy,
    hashKey: top.hashKey,
    backends: topology.pools.flatMap((pool) => pool.backends),
    health: top.health,
    sticky: top.sticky,
    admin: { path: input.admin?.path ?? '/_lb', token: input.admin?.token },
    email: input.email === undefined ? undefined : (copyData(input.email) as Record<string, unknown>),
    timeouts: resolveTimeouts(input.timeouts ?? {}),
    trustedProxies: [...(input.trustedProxies ?? [])],
    preserveHost: input.preserveHost ?? true,
    shutdownGraceMs: input.shutdownGraceMs ?? 10_000,
    retries: resolveRetries(input.retries),
    outlier: resolveOutlier(input.outlier),
    whenAllDown: input.whenAllDown ?? 'reject',
    slowStartMs: input.slowStartMs ?? 0,
    drainTimeoutMs: input.drainTimeoutMs ?? 300_000,
    limits: {
      maxBodyBytes: input.limits?.maxBodyBytes,
      maxHeaderBytes: input.limits?.maxHeaderBytes ?? 16_384,
      maxHeaderCount: input.limits?.maxHeaderCount ?? 100,
      maxConnections: input.limits?.maxConnections,
      wsMaxBytes: input.limits?.wsMaxBytes,
    },
    metrics: resolveMetrics(input.metrics),
    accessLog: resolveAccessLog(input.accessLog),
    alerts: {
      holdMs: input.alerts?.holdMs ?? 30_000,
      attempts: input.alerts?.attempts ?? 5,
      webhooks: (input.alerts?.webhooks ?? []).map((w) => ({ url: w.url, format: w.format ?? 'json', headers: { ...w.headers } })),
    },
    ...topology,
  };
}

function resolveTimeouts(t: NonNullable<ConfigInput['timeouts']>): TimeoutsConfig {
  return {
    connectMs: t.connectMs ?? 5000,
    responseMs: t.responseMs ?? 30_000,
    upstreamIdleMs: t.upstreamIdleMs ?? 60_000,
    clientHeadersMs: t.clientHeadersMs ?? 10_000,
    requestMs: t.requestMs ?? 300_000,
    clientIdleMs: t.clientIdleMs ?? 5000,
    wsHandshakeMs: t.wsHandshakeMs ?? 10_000,
    wsIdleMs: t.wsIdleMs ?? 0,
  };
}

function resolveRetries(r: ConfigInput['retries']): RetriesConfig {
  const o = typeof r === 'object' ? r : {};
  return {
    enabled: typeof r === 'boolean' ? r : (o.enabled ?? true),
    budgetPercent: o.budgetPercent ?? 20,
    minPerSecond: o.minPerSecond ?? 3,
    idempotencyKey: o.idempotencyKey ?? false,
  };
}

function resolveOutlier(o: ConfigInput['outlier']): OutlierConfig | false {
  if (o === false) return false;
  return {
    consecutiveFailures: o?.consecutiveFailures ?? 5,
    on5xx: o?.on5xx ?? false,
    baseEjectionMs: o?.baseEjectionMs ?? 30_000,
    // As in Envoy, the cap is never below the first ejection.
    maxEjectionMs: o?.maxEjectionMs ?? Math.max(300_000, o?.baseEjectionMs ?? 30_000),
    maxEjectionPercent: o?.maxEjectionPercent ?? 50,
  };
}

function resolveMetrics(m: ConfigInput['metrics']): MetricsConfig {
  if (typeof m === 'boolean') return { enabled: m, processMetrics: false };
  return { enabled: m?.enabled ?? true, processMetrics: m?.processMetrics ?? false };
}

function resolveAccessLog(a: ConfigInput['accessLog']): false | { destination: string } {
  if (a === undefined || a === false) return false;
  return a === true ? { destination: 'stdout' } : { destination: a.destination };
}
