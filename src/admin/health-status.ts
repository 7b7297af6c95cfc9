/**
 * @module admin/health-status: the JSON of `GET <admin.path>/health`, in smart-stick-loadbalancer's shape
 * so existing dashboards keep working. Header values and functions are never included.
 */
import { snapshot, type Gateway } from '../gateway/index.js';
import type { Upstream } from '../upstream/index.js';

export interface HealthStatusBackend {
  id: string | number;
  url: string;
  healthy: boolean;
  weight: number;
  requests: number;
  activeConnections: number;
  lastChecked: string | null;
  healthCheck: {
    path: string;
    method: string;
    algorithm: string;
    timeout: number;
    hasCustomHeaders: boolean;
    hasCustomFunction: boolean;
  };
}

export interface HealthStatus {
  timestamp: string;
  strategy: string;
  total: number;
  healthy: number;
  unhealthy: number;
  backends: HealthStatusBackend[];
}

export function buildHealthStatus(gateway: Gateway): HealthStatus {
  const backends = gateway.upstreams.map(describe);
  const healthy = backends.filter((b) => b.healthy).length;
  return {
    timestamp: new Date().toISOString(),
    strategy: gateway.strategyName,
    total: backends.length,
    healthy,
    unhealthy: backends.length - healthy,
    backends,
  };
}

/** One backend in `GET <admin>/backends`: the status entry plus what operators act on. */
export interface BackendListEntry extends HealthStatusBackend {
  adminState: string;
  /** ISO time until which passive health keeps it out, or null. */
  ejectedUntil: string | null;
  /** Effective weight now (lower than `weight` while slow start ramps it up). */
  effectiveWeight: number;
  websockets: number;
  /** The pool it belongs to. */
  pool: string;
  /** Boot id from the boot handshake, or null (handshake off or no answer yet). */
  bootId: string | null;
  /** The boot handshake reports settings that differ from the topology's; it takes no traffic. */
  mismatch: boolean;
}

export function buildBackendList(gateway: Gateway): BackendListEntry[] {
  return gateway.upstreams.map((u) => ({
    ...describe(u),
    adminState: u.adminState,
    ejectedUntil: u.ejectedUntil > 0 ? new Date(u.ejectedUntil).toISOString() : null,
    effectiveWeight: Math.round(u.weight * 1000) / 1000,
    websockets: u.websockets,
    pool: u.poolName,
    bootId: u.bootId,
    mismatch: u.mismatch,
  }));
}

function describe(u: Upstream): HealthStatusBackend {
  const h = u.health;
  // smart-stick's shape exactly: the pool is listed by GET <admin>/backends instead.
  const { pool: _pool, ...status } = snapshot(u);
  return {
    ...status,
    healthCheck: {
      path: h.path,
      method: h.method,
      algorithm: h.algorithm,
      timeout: h.timeoutMs,
      hasCustomHeaders: Object.keys(h.headers).length > 0,
      hasCustomFunction: h.check !== undefined,
    },
  };
}
