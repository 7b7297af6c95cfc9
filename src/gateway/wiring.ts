/**
 * @module gateway/wiring: what the gateway does when its pools or its boot watcher report a change: re-emit it as a
 * gateway event with a backend snapshot, log it, and feed alerts, metrics and the pool.
 */
import type { EventEmitter } from 'node:events';
import type { AlertManager } from '../alerts/index.js';
import type { BootHandshakeConfig } from '../config/index.js';
import { BootWatcher } from '../handshake/index.js';
import { channels, type GatewayMetrics } from '../observe/index.js';
import type { Logger } from '../types.js';
import { snapshot } from './backend-status.js';
import type { GatewayEvents } from './events.js';
import type { ServicePool } from './service-pool.js';
import type { Topology } from './topology.js';

export interface PoolEventSinks {
  readonly gateway: EventEmitter<GatewayEvents>;
  readonly alerts: AlertManager | null;
  readonly metrics: GatewayMetrics | null;
  readonly logger: Logger;
}

export function wirePoolEvents(service: ServicePool, sinks: PoolEventSinks): void {
  const { gateway, alerts, metrics, logger } = sinks;
  const pool = service.pool;
  const transition = (backend: string, what: 'down' | 'up' | 'ejected' | 'returned'): void => {
    if (channels.health.hasSubscribers) channels.health.publish({ pool: service.name, backend, transition: what });
  };
  // The health checker logs transitions itself; these re-emit them and feed alerts, metrics and diagnostics.
  pool.on('backend:down', (u) => {
    transition(u.id, 'down');
    gateway.emit('backend:down', snapshot(u));
    alerts?.notify({ kind: 'down', backend: { id: u.rawId, url: u.url, owner: u.owner }, at: new Date() });
  });
  pool.on('backend:up', (u) => {
    transition(u.id, 'up');
    gateway.emit('backend:up', snapshot(u));
    alerts?.notify({ kind: 'up', backend: { id: u.rawId, url: u.url, owner: u.owner }, at: new Date() });
  });
  pool.on('backend:ejected', (u, until) => {
    transition(u.id, 'ejected');
    metrics?.ejected(u.id);
    logger.warn({ backend: u.id, until: new Date(until).toISOString() }, 'backend ejected after consecutive failures');
    gateway.emit('backend:ejected', snapshot(u));
  });
  pool.on('backend:returned', (u) => {
    transition(u.id, 'returned');
    logger.info({ backend: u.id }, 'backend returned from ejection');
    gateway.emit('backend:returned', snapshot(u));
  });
  pool.on('pool:panic', (panicking) => {
    if (panicking) logger.error({ pool: service.name }, 'no backend is healthy: failing open across all of them (whenAllDown: fail-open)');
    else logger.info({ pool: service.name }, 'a backend is healthy again: panic mode over');
  });
}

/**
 * A boot watcher whose findings reach the pools: a new boot id resets the backend's sticky pinning and ejection,
 * a settings mismatch takes it out of rotation until it matches again.
 */
export function watchBoots(config: BootHandshakeConfig, topology: Topology, logger: Logger, gateway: EventEmitter<GatewayEvents>): BootWatcher {
  const boot = new BootWatcher(config, { logger });
  // The first boot id seen comes with the first state change (unknown -> ok or mismatch).
  boot.on('state', (u) => {
    const bootId = boot.bootIdOf(u.id);
    if (bootId !== undefined && u.bootId === null) u.setBootId(bootId);
  });
  boot.on('restart', (u, previous, bootId) => {
    u.setBootId(bootId);
    topology.serviceOf(u.id)?.pool.restarted(u);
    logger.info({ backend: u.id, previous, bootId }, 'backend restarted (new boot id): its sticky clients and ejection are reset');
    gateway.emit('backend:restarted', snapshot(u));
  });
  boot.on('mismatch', (u, differences, message) => {
    topology.serviceOf(u.id)?.pool.setMismatch(u, true);
    logger.error({ backend: u.id, differences }, message);
    gateway.emit('backend:mismatch', snapshot(u), differences);
  });
  boot.on('match', (u) => {
    if (!u.mismatch) return;
    topology.serviceOf(u.id)?.pool.setMismatch(u, false);
    logger.info({ backend: u.id }, 'backend settings match the topology again');
  });
  return boot;
}
