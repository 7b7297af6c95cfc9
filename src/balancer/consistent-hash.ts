/**
 * @module balancer/consistent-hash: a hash ring with virtual nodes and bounded loads, so a key keeps its
 * backend while the pool changes and no backend is overloaded by a hot key.
 */
import { hash32 } from '../util/index.js';
import { DerivedCache } from './derived-cache.js';
import { P2CStrategy } from './p2c.js';
import type { Candidate, PickContext, Strategy } from './strategy.js';

/** Options of `ConsistentHashStrategy`. */
export interface ConsistentHashStrategyOptions {
  /**
   * The `c` of bounded loads: no candidate takes a key while it holds `c` times its weighted share of the
   * in-flight requests (counting the new one). Must be >= 1; `Infinity` turns the bound off (plain ring).
   * Default 1.25.
   */
  readonly loadFactor?: number | undefined;
  /** Virtual nodes per unit of weight. Default 160 (ketama's figure). */
  readonly pointsPerWeight?: number | undefined;
  /** Uniform source in [0, 1) for the keyless fallback. Default `Math.random`. */
  readonly random?: (() => number) | undefined;
}

/** The ring: point hashes in ascending order and, at the same positions, the index of their candidate. */
interface Ring {
  readonly hashes: Uint32Array;
  readonly owners: Uint32Array;
}

/**
 * Consistent hashing with bounded loads (Mirrokni, Thorup, Zadimoghaddam, 2016). Each candidate owns
 * `round(pointsPerWeight * weight)` points at `hash32(`${id}#${i}`)`; a key goes to the first candidate
 * clockwise from `hash32(key)` whose `inflight` is below its capacity
 * `ceil(loadFactor * (totalInflight + 1) * weight / totalWeight)`, which for equal weights is the paper's
 * `ceil(c * (m + 1) / n)`. Excluded candidates are skipped. Points depend only on the candidate's own id and
 * weight, so removing a candidate moves only its keys, and adding it back returns them.
 *
 * When every non-excluded candidate is at capacity (possible only with exclusions), the key's first
 * non-excluded owner is returned: the bound is best effort, never a reason to refuse.
 * Without `ctx.hashKey` there is nothing to hash: the pick falls back to power of two choices (`P2CStrategy`).
 *
 * @example
 * const ch = new ConsistentHashStrategy({ loadFactor: 1.25 });
 * ch.pick(pool.candidates(), { hashKey: userId });
 */
export class ConsistentHashStrategy implements Strategy {
  readonly name = 'consistent-hash';
  readonly #loadFactor: number;
  readonly #pointsPerWeight: number;
  readonly #fallback: P2CStrategy;
  readonly #ring = new DerivedCache((candidates) => this.#build(candidates));

  constructor(options: ConsistentHashStrategyOptions = {}) {
    const loadFactor = options.loadFactor ?? 1.25;
    const pointsPerWeight = options.pointsPerWeight ?? 160;
    if (!(loadFactor >= 1)) throw new RangeError(`loadFactor must be >= 1, got ${loadFactor}`);
    if (!(pointsPerWeight >= 1 && Number.isFinite(pointsPerWeight))) {
      throw new RangeError(`pointsPerWeight must be a finite number >= 1, got ${pointsPerWeight}`);
    }
    this.#loadFactor = loadFactor;
    this.#pointsPerWeight = pointsPerWeight;
    this.#fallback = new P2CStrategy({ random: options.random });
  }

  pick<T extends Candidate>(candidates: readonly T[], ctx: PickContext): T | null {
    const key = ctx.hashKey;
    if (key === undefined) return this.#fallback.pick(candidates, ctx);
    const exclude = ctx.exclude;
    let totalInflight = 0;
    let totalWeight = 0;
    for (let i = 0; i < candidates.length; i++) {
      const candidate = candidates[i]!;
      if (!(candidate.weight > 0) || (exclude !== undefined && exclude.has(candidate.id))) continue;
      totalInflight += candidate.inflight;
      totalWeight += candidate.weight;
    }
    if (totalWeight === 0) return null;
    const { hashes, owners } = this.#ring.get(candidates);
    const demand = this.#loadFactor * (totalInflight + 1);
    let point = lowerBound(hashes, hash32(key));
    let firstOwner = -1;
    for (let step = 0; step < hashes.length; step++) {
      if (point === hashes.length) point = 0;
      const owner = owners[point++]!;
      const candidate = candidates[owner]!;
      if (exclude !== undefined && exclude.has(candidate.id)) continue;
      if (firstOwner < 0) firstOwner = owner;
      if (candidate.inflight < Math.ceil((demand * candidate.weight) / totalWeight)) return candidate;
    }
    return firstOwner < 0 ? null : candidates[firstOwner]!;
  }

  #build(candidates: readonly Candidate[]): Ring {
    const points: { hash: number; owner: number; id: string }[] = [];
    for (let owner = 0; owner < candidates.length; owner++) {
      const { id, weight } = candidates[owner]!;
      if (!(weight > 0)) continue;
      const count = Math.max(1, Math.round(this.#pointsPerWeight * weight));
      for (let i = 0; i < count; i++) points.push({ hash: hash32(`${id}#${i}`), owner, id });
    }
    // Colliding points are ordered by id, not by array position, so the ring never depends on pool order.
    points.sort((a, b) => a.hash - b.hash || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    const hashes = new Uint32Array(points.length);
    const owners = new Uint32Array(points.length);
    for (let i = 0; i < points.length; i++) {
      hashes[i] = points[i]!.hash;
      owners[i] = points[i]!.owner;
    }
    return { hashes, owners };
  }
}

/** The first position whose hash is >= `value`; `hashes.length` when there is none (wrap to 0). */
function lowerBound(hashes: Uint32Array, value: number): number {
  let lo = 0;
  let hi = hashes.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (hashes[mid]! < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
