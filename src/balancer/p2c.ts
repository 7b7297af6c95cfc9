/** @module balancer/p2c: power of two choices, the load-aware random strategy. */
import { DerivedCache } from './derived-cache.js';
import type { Candidate, PickContext, Strategy } from './strategy.js';
import { WeightedIndex } from './weighted-index.js';

/** Options of `P2CStrategy`. */
export interface P2CStrategyOptions {
  /** Uniform source in [0, 1). Default `Math.random`; tests inject a seeded one. */
  readonly random?: (() => number) | undefined;
}

/**
 * Power of two choices (Mitzenmacher): draw two distinct candidates, each by weight, and keep the one with
 * the lower `inflight / weight`. On a tie the first drawn wins; it was drawn by weight, so idle traffic
 * follows the weights (preferring the heavier one instead would starve the lightest backend at low load).
 * Nearly as good as least-connections at spreading load, without its herding when many balancers share stale
 * counts. One candidate is returned as is.
 *
 * @example
 * const p2c = new P2CStrategy();
 * p2c.pick(pool.candidates(), {});
 */
export class P2CStrategy implements Strategy {
  readonly name = 'p2c';
  readonly #random: () => number;
  readonly #index = new DerivedCache((candidates) => new WeightedIndex(candidates));

  constructor(options: P2CStrategyOptions = {}) {
    this.#random = options.random ?? Math.random;
  }

  pick<T extends Candidate>(candidates: readonly T[], ctx: PickContext): T | null {
    if (candidates.length === 0) return null;
    const exclude = ctx.exclude;
    let first: number;
    let second: number;
    if (exclude === undefined || exclude.size === 0) {
      const index = this.#index.get(candidates);
      first = index.draw(this.#random());
      if (first < 0) return null;
      second = index.drawExcept(this.#random(), first);
    } else {
      // Retries only: a linear scan per draw is cheaper than a structure per exclusion set.
      first = WeightedIndex.drawAmong(candidates, this.#random(), exclude, -1);
      if (first < 0) return null;
      second = WeightedIndex.drawAmong(candidates, this.#random(), exclude, first);
    }
    const a = candidates[first]!;
    if (second < 0) return a;
    const b = candidates[second]!;
    // b/wb < a/wa, cross-multiplied; weights are positive here.
    return b.inflight * a.weight < a.inflight * b.weight ? b : a;
  }
}
