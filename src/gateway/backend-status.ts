/** @module gateway/backend-status: the read-only snapshot of a backend that the gateway hands out. */
import { maskUrlPassword } from '../config/index.js';
import type { Upstream } from '../upstream/index.js';

export interface BackendStatus {
  readonly id: string | number;
  /** With any password in it masked (`user:***@`). */
  readonly url: string;
  /** The pool it belongs to. */
  readonly pool: string;
  readonly healthy: boolean;
  readonly weight: number;
  readonly requests: number;
  readonly activeConnections: number;
  /** ISO time of the last finished probe, or null before the first. */
  readonly lastChecked: string | null;
}

export function snapshot(u: Upstream): BackendStatus {
  return {
    id: u.rawId,
    url: maskUrlPassword(u.url),
    pool: u.poolName,
    healthy: u.healthy,
    weight: u.configuredWeight,
    requests: u.requests,
    activeConnections: u.inflight,
    lastChecked: u.lastChecked === null ? null : u.lastChecked.toISOString(),
  };
}
