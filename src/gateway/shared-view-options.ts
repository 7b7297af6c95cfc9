/**
 * @module gateway/shared-view-options: how a gateway's shared view is tuned: from `redis` when replicas share Redis,
 * else defaults for the in-memory store (one process; several gateways only when they share one store).
 */
import type { GatewayConfig } from '../config/index.js';
import type { SharedViewOptions } from '../replication/index.js';
import type { Logger } from '../types.js';

const LOCAL_SYNC_MS = 2000;
const DAY_MS = 86_400_000;

export function sharedViewOptions(config: GatewayConfig, logger: Logger): SharedViewOptions {
  const r = config.redis;
  if (r !== false) {
    const { replicaId, verdictTtlMs, stateTtlMs, syncIntervalMs, healthQuorum, required } = r;
    return { replicaId, verdictTtlMs, stateTtlMs, syncIntervalMs, healthQuorum, required, logger };
  }
  const maxInterval = Math.max(1000, ...config.backends.map((b) => b.health.intervalMs));
  return {
    replicaId: 'local',
    verdictTtlMs: Math.max(3 * LOCAL_SYNC_MS, 3 * maxInterval),
    stateTtlMs: DAY_MS,
    syncIntervalMs: LOCAL_SYNC_MS,
    healthQuorum: undefined,
    required: false,
    logger,
  };
}
