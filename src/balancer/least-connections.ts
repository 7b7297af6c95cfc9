/** @module balancer/least-connections: the candidate with the fewest in-flight requests per unit of weight. */
import { SmoothWeights } from './smooth-weights.js';
import type { Candidate, PickContext, Strategy } from './strategy.js';

/**
 * Picks the candidate with the lowest `inflight / weight`. Ties (most often: several idle candidates) are
 * broken by smooth weighted round robin among the tied ones, as nginx's `least_conn` does: equal candidates
 * alternate, and at low load the traffic still follows the weights instead of piling onto one backend.
 *
 * @example
 * const lc = new LeastConnectionsStrategy();
 * lc.pick([{ id: 'a', weight: 1, inflight: 4 }, { id: 'b', weight: 2, inflight: 4 }], {}); // => b (2 < 4)
 */
export class LeastConnectionsStrategy implements Strategy {
  readonly name = 'least-connections';
  readonly #ties = new SmoothWeights();

  pick<T extends Candidate>(candidates: readonly T[], ctx: PickContext): T | null {
    const exclude = ctx.exclude;
    let best: T | null = null;
    let ties = 0;
    for (let i = 0; i < candidates.length; i++) {
      const candidate = candidates[i]!;
      if (!(candidate.weight > 0)) continue;
      if (exclude !== undefined && exclude.has(candidate.id)) continue;
      if (best === null) {
        best = candidate;
        ties = 1;
        continue;
      }
      // a/wa < b/wb without division: a*wb < b*wa (weights are positive here).
      const mine = candidate.inflight * best.weight;
      const theirs = best.inflight * candidate.weight;
      if (mine < theirs) {
        best = candidate;
        ties = 1;
      } else if (mine === theirs) {
        ties++;
      }
    }
    if (best === null || ties === 1) return best;
    // `best` is itself eligible, so the fallback never applies; it keeps the return type honest.
    return this.#ties.pick(candidates, ctx, best.inflight, best.weight) ?? best;
  }
}
