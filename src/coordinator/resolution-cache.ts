/**
 * @module coordinator/resolution-cache: destinationId -> the owner a registry last resolved, so a hot destination costs
 * no Redis command. Entries are dropped by TTL, by LRU, and by invalidation events; a resolution that was in flight
 * while an event touched it is not cached, since it may predate the event.
 */
import { LruTtlCache } from '../util/index.js';

/** One resolution, as `Registry.resolveDestination` reports it. */
export interface ResolveResult {
  /** The owner's base URL, or null when every owner is dead and none replaced them. */
  readonly address: string | null;
  /** The owner (or, for a dead destination, its first dead owner). */
  readonly memberId: string;
  /** True only on the one resolution that moved the destination from dead owners to a live member. */
  readonly reassigned: boolean;
  /**
   * The destination's fencing epoch: a new, greater one with every claim and reassignment (never below the Redis
   * server's clock in ms, so it never goes back, even after a failover lost the last write).
   */
  readonly epoch: number;
  /**
   * Present (false) only on a claim or reassignment that fewer replicas than `confirmReplicas` acknowledged: the
   * binding may be lost if the master fails now. Such a result is not cached.
   */
  readonly confirmed?: false;
  /**
   * Present (true) only when Redis could not be reached and this is the last live owner this registry resolved
   * for the destination: it may have moved since, and its epoch still fences the old owner's writes.
   */
  readonly stale?: true;
}

interface Entry {
  readonly result: ResolveResult;
  /** Handed out on every hit: an already settled promise, so a hit allocates nothing. */
  readonly promise: Promise<ResolveResult>;
}

/** Marks the resolutions of one destination that are in flight; `stale` once an event touched it meanwhile. */
export interface InflightMark {
  refs: number;
  stale: boolean;
  /** Epochs of `binding` events seen while the resolution was in flight. */
  readonly bindingEpochs: number[];
}

/** How long a last-known owner may be answered from after it was resolved (ms): 10 minutes. */
export const LAST_KNOWN_TTL_MS = 600_000;

export interface ResolutionCacheOptions {
  /** Entry lifetime (ms). */
  readonly ttlMs: number;
  /** Most destinations kept. */
  readonly max: number;
}

/** The registry's cache of live-owner resolutions (a dead or unknown destination is never cached). */
export class ResolutionCache {
  readonly #entries: LruTtlCache<string, Entry>;
  readonly #inflight = new Map<string, InflightMark>();
  /**
   * Destinations this registry just claimed or reassigned, by epoch, whose `binding` event has not arrived yet:
   * that event announces our own change and must not evict the entry it describes (else every claim costs a
   * second round trip, and a round-robin candidate turn with it).
   */
  readonly #ownChanges = new Map<string, number>();
  readonly #max: number;
  /**
   * The last live owner resolved per destination, kept past the entry's TTL (bounded by `max`, and by
   * {@link LAST_KNOWN_TTL_MS}) to answer from while Redis is unreachable; dropped with the binding or the member.
   */
  readonly #lastKnown: LruTtlCache<string, ResolveResult>;

  constructor(options: ResolutionCacheOptions) {
    this.#entries = new LruTtlCache({ max: options.max, ttlMs: options.ttlMs });
    this.#lastKnown = new LruTtlCache({ max: options.max, ttlMs: LAST_KNOWN_TTL_MS });
    this.#max = options.max;
  }

  /** The last live owner seen for `destinationId`, marked `stale`, for when Redis cannot be asked; or undefined. */
  lastKnown(destinationId: string): ResolveResult | undefined {
    return this.#lastKnown.get(destinationId);
  }

  get size(): number {
    return this.#entries.size;
  }

  /** The cached resolution of `destinationId` as a settled promise, or undefined. */
  hit(destinationId: string): Promise<ResolveResult> | undefined {
    return this.#entries.get(destinationId)?.promise;
  }

  /** Call before asking the store; pass the mark to `fill` and `end`. */
  begin(destinationId: string): InflightMark {
    let mark = this.#inflight.get(destinationId);
    if (mark === undefined) {
      mark = { refs: 0, stale: false, bindingEpochs: [] };
      this.#inflight.set(destinationId, mark);
    }
    mark.refs++;
    return mark;
  }

  end(destinationId: string, mark: InflightMark): void {
    if (--mark.refs === 0 && this.#inflight.get(destinationId) === mark) this.#inflight.delete(destinationId);
  }

  /**
   * Caches a live-owner `result` (frozen, stored with `reassigned: false`) unless the resolution went stale.
   * `ownChange`: this resolution claimed or reassigned the destination (its own `binding` event is expected).
   */
  fill(destinationId: string, result: ResolveResult, mark: InflightMark, ownChange = false): void {
    const ownEventSeen = ownChange && mark.bindingEpochs.includes(result.epoch);
    const otherEvents = mark.bindingEpochs.some((e) => !(ownChange && e === result.epoch));
    if (mark.stale || otherEvents || result.address === null || result.confirmed === false) return;
    if (ownChange && !ownEventSeen) {
      if (this.#ownChanges.size >= this.#max) this.#ownChanges.clear(); // events lost: never grow without bound
      this.#ownChanges.set(destinationId, result.epoch);
    }
    const cached = result.reassigned ? Object.freeze({ ...result, reassigned: false }) : Object.freeze(result);
    this.#entries.set(destinationId, { result: cached, promise: Promise.resolve(cached) });
    this.#lastKnown.set(destinationId, Object.freeze({ ...cached, stale: true as const }));
  }

  /**
   * The destination's owner set changed: drop it, and do not cache a resolution now in flight. `epoch` comes with a
   * `binding` event; the event announcing this registry's own claim is recognised by it and keeps the entry.
   */
  evictDestination(destinationId: string, epoch?: number): void {
    if (epoch !== undefined && this.#ownChanges.get(destinationId) === epoch) {
      this.#ownChanges.delete(destinationId);
      return;
    }
    this.#ownChanges.delete(destinationId);
    this.#entries.delete(destinationId);
    this.#lastKnown.delete(destinationId);
    const mark = this.#inflight.get(destinationId);
    if (mark === undefined) return;
    if (epoch === undefined) mark.stale = true;
    else mark.bindingEpochs.push(epoch);
  }

  /** A member is gone: drop every destination it owns; in-flight resolutions may name it, so none is cached. */
  evictMember(memberId: string): number {
    for (const mark of this.#inflight.values()) mark.stale = true;
    this.#lastKnown.deleteWhere((result) => result.memberId === memberId);
    return this.#entries.deleteWhere((entry) => entry.result.memberId === memberId);
  }

  /** Drops `destinationId` only while it still points at `memberId`; true when it did. */
  evictIfOwner(destinationId: string, memberId: string): boolean {
    const entry = this.#entries.get(destinationId);
    if (entry === undefined || entry.result.memberId !== memberId) return false;
    this.#lastKnown.delete(destinationId);
    return this.#entries.delete(destinationId);
  }

  clear(): void {
    this.#entries.clear();
    this.#ownChanges.clear();
    for (const mark of this.#inflight.values()) mark.stale = true;
  }
}
