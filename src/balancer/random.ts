/** @module balancer/random: weighted random choice. */
import { DerivedCache } from './derived-cache.js';
import type { Candidate, PickContext, Strategy } from './strategy.js';
import { WeightedIndex } from './weighted-index.js';

/** Options of `RandomStrategy`. */
export interface RandomStrategyOptions {
  /** Uniform source in [0, 1). Default `Math.random`; tests inject a seeded one. */
  readonly random?: (() => number) | undefined;
}

/**
 * Picks a candidate with probability `weight / Σ weights`, in O(log n) from prefix sums cached per candidate
 * array. With exclusions, a first draw that lands on an excluded candidate is redrawn among the rest by a
 * linear scan; the result is still exactly weighted among the non-excluded ones.
 *
 * @example
 * const random = new RandomStrategy({ random: seededRandom });
 */
export class RandomStrategy implements Strategy {
  readonly name = 'random';
  readonly #random: () => number;
  readonly #index = new DerivedCache((candidates) => new WeightedIndex(candidates));

  constructor(options: RandomStrategyOptions = {}) {
    this.#random = options.random ?? Math.random;
  }

  pick<T extends Candidate>(candidates: readonly T[], ctx: PickContext): T | null {
    if (candidates.length === 0) return null;
    const exclude = ctx.exclude;
    const drawn = this.#index.get(candidates).draw(this.#random());
    if (drawn < 0) return null;
    const candidate = candidates[drawn]!;
    if (exclude === undefined || !exclude.has(candidate.id)) return candidate;
    const redrawn = WeightedIndex.drawAmong(candidates, this.#random(), exclude, -1);
    return redrawn < 0 ? null : candidates[redrawn]!;
  }
}
