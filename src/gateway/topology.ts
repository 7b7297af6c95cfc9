/**
 * @module gateway/topology: every pool of the gateway and the lookups across them (backend ids are unique
 * across pools, so admin operations and shared state address a backend by id alone).
 */
import type { GatewayConfig } from '../config/index.js';
import type { Upstream } from '../upstream/index.js';
import { ServicePool, type ServicePoolParts } from './service-pool.js';

export class Topology {
  readonly #services = new Map<string, ServicePool>();
  readonly #list: ServicePool[] = [];
  #all: readonly Upstream[] | null = null;

  constructor(config: GatewayConfig, parts: ServicePoolParts) {
    for (const p of config.pools) {
      const service = new ServicePool(p, config, parts);
      this.#services.set(p.name, service);
      this.#list.push(service);
    }
    for (const s of this.#list) {
      const name = s.config.fallback;
      s.fallback = name === null ? null : (this.#services.get(name) ?? null);
    }
  }

  /** Every pool, in config order. */
  get services(): readonly ServicePool[] {
    return this.#list;
  }

  service(name: string): ServicePool | undefined {
    return this.#services.get(name);
  }

  /** Every upstream of every pool, in config order; the same array until one is added or removed. */
  get all(): readonly Upstream[] {
    this.#all ??= this.#list.flatMap((s) => s.pool.all);
    return this.#all;
  }

  /** The upstream with this id, in whichever pool. */
  upstream(id: string): Upstream | undefined {
    for (const s of this.#list) {
      const u = s.pool.get(id);
      if (u !== undefined) return u;
    }
    return undefined;
  }

  /** The pool holding backend `id`. */
  serviceOf(id: string): ServicePool | undefined {
    for (const s of this.#list) if (s.pool.get(id) !== undefined) return s;
    return undefined;
  }

  /** Call after adding or removing an upstream in any pool. */
  changed(): void {
    this.#all = null;
  }

  /** Whether any pool is in panic mode. */
  get panicking(): boolean {
    return this.#list.some((s) => s.pool.panicking);
  }

  async close(): Promise<void> {
    await Promise.all(this.#list.map((s) => s.close()));
  }
}
