/**
 * @module balancer/smooth-weights: nginx's smooth weighted round robin, shared by the round-robin strategy
 * and by least-connections' tie-break. Each pick adds every eligible candidate's weight to its current
 * weight, takes the highest, and subtracts the eligible total from the winner: picks follow the weights
 * exactly over a cycle and spread evenly within it (5:1:1 gives `a a b a c a a`).
 * See nginx `src/http/ngx_http_upstream_round_robin.c`, `ngx_http_upstream_get_peer()`.
 */
import { DerivedCache } from './derived-cache.js';
import type { Candidate, PickContext } from './strategy.js';

/** One candidate's running current weight; an object so the index-aligned array and the Map share it. */
interface Current {
  value: number;
}

/**
 * Per-id current weights. State lives in a Map keyed by id, so it survives a new candidate array (a backend
 * turning unhealthy does not reset the others' positions in the cycle); ids that vanish are forgotten. Picks
 * read an array of the same state objects aligned with the candidate array, so a pick does no Map lookups.
 */
export class SmoothWeights {
  readonly #byId = new Map<string, Current>();
  readonly #aligned = new DerivedCache<Current[]>((candidates) => this.#align(candidates), false);

  /**
   * The next candidate in the smooth weighted cycle among eligible ones: weight > 0, not in `ctx.exclude`,
   * and, when `tieWeight > 0`, with `inflight / weight` equal to `tieInflight / tieWeight` (least-connections
   * passes its best ratio here; round robin passes 0, 0). Null when none is eligible.
   */
  pick<T extends Candidate>(candidates: readonly T[], ctx: PickContext, tieInflight = 0, tieWeight = 0): T | null {
    const states = this.#aligned.get(candidates);
    const exclude = ctx.exclude;
    let total = 0;
    let best = -1;
    let bestValue = -Infinity;
    for (let i = 0; i < candidates.length; i++) {
      const candidate = candidates[i]!;
      const weight = candidate.weight;
      if (!(weight > 0)) continue;
      if (exclude !== undefined && exclude.has(candidate.id)) continue;
      // Cross-multiplied so ratios compare without division; exact for integer counts and weights.
      if (tieWeight > 0 && candidate.inflight * tieWeight !== tieInflight * weight) continue;
      const state = states[i]!;
      state.value += weight;
      total += weight;
      // Strictly greater: ties go to the earlier candidate, as in nginx.
      if (state.value > bestValue) {
        bestValue = state.value;
        best = i;
      }
    }
    if (best < 0) return null;
    states[best]!.value -= total;
    return candidates[best]!;
  }

  #align(candidates: readonly Candidate[]): Current[] {
    const states: Current[] = new Array<Current>(candidates.length);
    const live = new Set<string>();
    for (let i = 0; i < candidates.length; i++) {
      const id = candidates[i]!.id;
      let state = this.#byId.get(id);
      if (state === undefined) {
        state = { value: 0 };
        this.#byId.set(id, state);
      }
      states[i] = state;
      live.add(id);
    }
    for (const id of this.#byId.keys()) if (!live.has(id)) this.#byId.delete(id);
    return states;
  }
}
