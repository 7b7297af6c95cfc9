/**
 * @module gateway/destination-routing: a pool that routes by destination (tenant, session, agent) to the coordinator
 * member that owns it. The pool's upstreams are the members the registry resolves to, added on first use and
 * dropped when the registry reports them down, so no service is needed between clients and pods. Resolutions come
 * from the registry's cache (no Redis round trip) while it is warm.
 */
import type { IncomingMessage } from 'node:http';
import type { DestinationConfig, PoolConfig } from '../config/index.js';
import { Registry } from '../coordinator/registry.js';
import type { RedisClient } from '../redis/index.js';
import type { Logger } from '../types.js';
import { Upstream, type UpstreamPool } from '../upstream/index.js';

/** What a destination resolves to: a member's upstream, or why there is none. */
export type DestinationTarget = Upstream | 'unknown' | 'orphaned';

export class DestinationRouting {
  readonly config: DestinationConfig;
  readonly registry: Registry;
  readonly #pool: UpstreamPool;
  readonly #poolConfig: PoolConfig;
  readonly #onChange: () => void;
  /** Hoisted: the same options object for every resolution. */
  readonly #options: { readonly claimOnMiss: boolean; readonly reassignOrphans: boolean };

  /** `onChange` runs after an upstream is added or removed (the gateway's lookups are cached). */
  constructor(poolConfig: PoolConfig, pool: UpstreamPool, client: RedisClient, logger: Logger, onChange: () => void) {
    const config = poolConfig.destination as DestinationConfig;
    this.config = config;
    this.#pool = pool;
    this.#poolConfig = poolConfig;
    this.#onChange = onChange;
    this.#options = Object.freeze({ claimOnMiss: config.claimOnMiss, reassignOrphans: config.reassignOrphans });
    this.registry = new Registry({
      redis: client,
      keyPrefix: config.keyPrefix,
      layout: config.layout,
      strategy: config.strategy,
      cache: config.cacheTtlMs === 0 ? false : { ttl: config.cacheTtlMs, max: config.cacheMax },
      logger,
    });
    this.registry.on('member:down', (memberId: string) => {
      if (this.#pool.remove(memberId) !== undefined) this.#onChange();
    });
  }

  /** The destination id the request names, or null when it names none. */
  idOf(req: IncomingMessage): string | null {
    const from = this.config.from;
    if (from.kind === 'header') {
      const v = req.headers[from.name];
      const id = Array.isArray(v) ? v[0] : v;
      return id === undefined || id === '' ? null : id;
    }
    return pathSegment(req.url ?? '/', from.segment);
  }

  /**
   * Resolves `id` through the registry (cache first) to the owner's upstream. `suspect` is a member just found
   * not listening: it counts as dead for this resolution. Rejects when Redis is unreachable.
   */
  async resolve(id: string, suspect: string | null = null): Promise<DestinationTarget> {
    const { claimOnMiss, reassignOrphans } = this.config;
    const r = await this.registry.resolveBinding(id, suspect === null ? this.#options : { claimOnMiss, reassignOrphans, suspect });
    if (r === null) return 'unknown';
    if (r.address === null) return 'orphaned';
    return this.#upstreamFor(r.memberId, r.address);
  }

  /** A request to `memberId` for `id` failed: the cached resolution naming it is dropped, so the next one asks Redis. */
  evict(id: string, memberId: string): void {
    this.registry.reportFailure(id, memberId);
  }

  close(): Promise<void> {
    return this.registry.close();
  }

  #upstreamFor(memberId: string, address: string): Upstream {
    const current = this.#pool.get(memberId);
    if (current !== undefined && current.url === address) return current;
    // A member that came back on another address is a new upstream (the pool replaces the old one).
    const u = new Upstream({ id: memberId, rawId: memberId, url: address, weight: 1, owner: undefined, health: this.#poolConfig.health, pool: this.#poolConfig.name });
    this.#pool.add(u);
    this.#onChange();
    return u;
  }
}

/** The n-th segment (from 1) of the path part of `url`, decoded; null when absent or empty. */
function pathSegment(url: string, n: number): string | null {
  const q = url.indexOf('?');
  const pathEnd = q < 0 ? url.length : q;
  let start = 1;
  for (let i = 1; i < n; i++) {
    const slash = url.indexOf('/', start);
    if (slash < 0 || slash >= pathEnd) return null;
    start = slash + 1;
  }
  let end = url.indexOf('/', start);
  if (end < 0 || end > pathEnd) end = pathEnd;
  if (end === start) return null;
  const raw = url.slice(start, end);
  try {
    return raw.includes('%') ? decodeURIComponent(raw) : raw;
  } catch {
    return null;
  }
}
