/** @module balancer/round-robin: smooth weighted round robin, nginx's default balancing. */
import { SmoothWeights } from './smooth-weights.js';
import type { Candidate, PickContext, Strategy } from './strategy.js';

/**
 * Smooth weighted round robin: over any `Σ weights` consecutive picks each candidate is picked exactly
 * `weight` times, and heavy candidates are interleaved with light ones instead of picked in bursts.
 * Excluded candidates sit out the pick without gaining current weight. Ignores load (`inflight`).
 *
 * @example
 * const rr = new RoundRobinStrategy();
 * // weights a:5, b:1, c:1 -> a a b a c a a, then again
 * rr.pick(candidates, {});
 */
export class RoundRobinStrategy implements Strategy {
  readonly name = 'round-robin';
  readonly #weights = new SmoothWeights();

  pick<T extends Candidate>(candidates: readonly T[], ctx: PickContext): T | null {
    return this.#weights.pick(candidates, ctx);
  }
}
