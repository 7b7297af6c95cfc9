/**
 * @module balancer/strategy: the one decision a balancer makes, behind a tiny interface. Queueing, draining,
 * health and counters live in the pool; a strategy only picks.
 */
import type { Candidate, PickContext } from '../config/index.js';

export type { Candidate, PickContext };

/**
 * Picks one candidate. `candidates` holds only backends that may take new traffic (healthy, weight > 0);
 * strategies still skip ids in `ctx.exclude`. Returns null only when nothing is left to pick.
 */
export interface Strategy {
  readonly name: string;
  pick<T extends Candidate>(candidates: readonly T[], ctx: PickContext): T | null;
}
