/**
 * @module upstream/pool: the set of upstreams and the cached list of those that may take new traffic.
 * The cache is rebuilt only when a health verdict or weight changes, so picking allocates nothing.
 */
import { EventEmitter } from 'node:events';
import type { BackendConfig } from '../config/index.js';
import { Upstream } from './upstream.js';

export interface PoolEvents {
  'backend:down': [upstream: Upstream];
  'backend:up': [upstream: Upstream];
}

export class UpstreamPool extends EventEmitter<PoolEvents> {
  readonly #byId = new Map<string, Upstream>();
  #all: Upstream[] = [];
  #candidates: Upstream[] = [];

  constructor(backends: readonly BackendConfig[]) {
    super();
    for (const b of backends) this.add(new Upstream(b));
  }

  /** Every upstream, in configuration order. Do not mutate. */
  get all(): readonly Upstream[] {
    return this.#all;
  }

  /** Healthy upstreams with weight > 0. The same array until something changes. */
  candidates(): readonly Upstream[] {
    return this.#candidates;
  }

  get(id: string): Upstream | undefined {
    return this.#byId.get(id);
  }

  add(upstream: Upstream): void {
    this.#byId.set(upstream.id, upstream);
    this.#all = [...this.#all, upstream];
    this.#rebuild();
  }

  remove(id: string): Upstream | undefined {
    const u = this.#byId.get(id);
    if (!u) return undefined;
    this.#byId.delete(id);
    this.#all = this.#all.filter((x) => x !== u);
    this.#rebuild();
    return u;
  }

  /** Records a health verdict; emits `backend:up`/`backend:down` only on a change. */
  setHealthy(upstream: Upstream, healthy: boolean): void {
    if (upstream.healthy === healthy) return;
    upstream.healthy = healthy;
    this.#rebuild();
    this.emit(healthy ? 'backend:up' : 'backend:down', upstream);
  }

  setWeight(upstream: Upstream, weight: number): void {
    if (upstream.weight === weight) return;
    upstream.weight = weight;
    this.#rebuild();
  }

  #rebuild(): void {
    this.#candidates = this.#all.filter((u) => u.healthy && u.weight > 0);
  }
}
