/**
 * @module gateway/backend-changes: the changes the gateway makes to its own backends (admin state, weight, added,
 * removed), whether they come from the admin API, a reload or another replica's facts. Sharing them with the other
 * replicas is the caller's business: what is applied here is never shared back.
 */
import { maskUrlPassword, weightProblem, type BackendConfig, type GatewayConfig } from '../config/index.js';
import type { BootWatcher } from '../handshake/index.js';
import type { GatewayMetrics } from '../observe/index.js';
import type { AdminFact, BackendFact } from '../replication/index.js';
import type { Logger } from '../types.js';
import { Upstream, type AdminState } from '../upstream/index.js';
import { backendFromSpec } from './backend-spec.js';
import type { ServicePool } from './service-pool.js';
import type { Topology } from './topology.js';

export interface BackendChangeParts {
  readonly topology: Topology;
  readonly boot: BootWatcher | null;
  readonly metrics: GatewayMetrics | null;
  readonly logger: Logger;
  /** The config in force; each change keeps its `backends` true to what runs. */
  config(): GatewayConfig;
  setConfig(next: GatewayConfig): void;
  /** Whether boot handshakes are being read (the gateway is starting or listening). */
  watchingBoots(): boolean;
  /** A removed backend's shared facts are forgotten by this replica. */
  forget(id: string): void;
}

export class BackendChanges {
  readonly #p: BackendChangeParts;

  constructor(parts: BackendChangeParts) {
    this.#p = parts;
  }

  setState(u: Upstream, state: AdminState): void {
    const service = this.#p.topology.serviceOf(u.id) as ServicePool;
    service.pool.setAdminState(u, state);
    if (state === 'draining') service.drains.start(u);
    else service.drains.stop(u);
    this.#p.logger.info({ backend: u.id, state }, 'backend admin state changed');
  }

  setWeight(u: Upstream, weight: number): void {
    (this.#p.topology.serviceOf(u.id) as ServicePool).pool.setWeight(u, weight);
    // The config in force follows, so a later reload compares against what runs and restores the file's weight.
    const c = this.#p.config();
    this.#p.setConfig({ ...c, backends: c.backends.map((b) => (b.id === u.id ? { ...b, weight } : b)) });
    this.#p.logger.info({ backend: u.id, weight }, 'backend weight changed');
  }

  /** Adds `backend` to its pool; it takes traffic once its first probe passes. Null when the id is taken or the pool unknown. */
  add(backend: BackendConfig): Upstream | null {
    const { topology, boot } = this.#p;
    const service = topology.service(backend.pool);
    if (service === undefined || topology.upstream(backend.id) !== undefined) return null;
    const u = new Upstream(backend);
    u.healthy = false; // no traffic before the first probe says it is alive
    service.pool.add(u);
    topology.changed();
    void service.checker.track(u);
    if (boot !== null && this.#p.watchingBoots()) void boot.track(u, u.poolName);
    const c = this.#p.config();
    this.#p.setConfig({ ...c, backends: [...c.backends, backend] });
    this.#p.logger.info({ backend: backend.id, url: maskUrlPassword(backend.url), pool: backend.pool }, 'backend added');
    return u;
  }

  remove(id: string): Upstream | null {
    const service = this.#p.topology.serviceOf(id);
    const u = service?.pool.remove(id);
    if (service === undefined || u === undefined) return null;
    this.#p.topology.changed();
    service.checker.untrack(id);
    service.drains.stop(u);
    this.#p.boot?.untrack(id);
    this.#p.forget(id);
    this.#p.metrics?.forgetBackend(id);
    const c = this.#p.config();
    this.#p.setConfig({ ...c, backends: c.backends.filter((b) => b.id !== id) });
    this.#p.logger.info({ backend: id }, 'backend removed');
    return u;
  }

  /** Another replica's health verdict. */
  applyHealth(id: string, up: boolean): void {
    const u = this.#p.topology.upstream(id);
    if (u !== undefined) this.#p.topology.serviceOf(id)?.pool.setHealthy(u, up);
  }

  /** Another replica's admin fact (drain, disable, weight). */
  applyAdmin(id: string, fact: AdminFact): void {
    const u = this.#p.topology.upstream(id);
    if (u === undefined) return;
    // Another replica's weight passed the same check there; one that does not (a hand-edited key) is ignored.
    if (fact.weight !== undefined && fact.weight !== u.configuredWeight && weightProblem(fact.weight) === null) this.setWeight(u, fact.weight);
    if (fact.state !== undefined && fact.state !== u.adminState) this.setState(u, fact.state);
  }

  /** Another replica's runtime backend (added, replaced or removed). */
  applyBackend(id: string, fact: BackendFact): void {
    if (fact.removed) {
      this.remove(id);
      return;
    }
    const backend = backendFromSpec(fact.spec, this.#p.config());
    if (backend === null) {
      this.#p.logger.warn({ backend: id }, 'a backend shared by another replica is not usable here; skipped');
      return;
    }
    const current = this.#p.topology.upstream(backend.id);
    if (current !== undefined && current.url === backend.url && current.poolName === backend.pool) return;
    if (current !== undefined) this.remove(backend.id);
    this.add(backend);
  }
}
