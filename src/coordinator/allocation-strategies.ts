/**
 * @module coordinator/allocation-strategies: which live member takes a new destination. One tiny interface (the same shape as
 * @platformatic/coordinator's `AllocationStrategy`) and the three built-in strategies. Pure: no Redis, no clock.
 */
import type { MemberRecord } from './store/index.js';

/** @platformatic/coordinator's name for a live member with its load figure. */
export type MemberInfo = MemberRecord;

/** What a strategy may look at besides the members; every field is optional. */
export interface AllocationContext {
  /** The destination being placed (absent for a plain `pickMember()`). */
  readonly destinationId?: string;
}

/**
 * Picks the member for a new destination from the live members, or null when there is none. Called on the
 * hot path of a first touch: keep it synchronous and cheap.
 */
export interface AllocationStrategy {
  pick(members: readonly MemberRecord[], ctx: AllocationContext): MemberRecord | null;
}

/** The names `createStrategy` accepts. */
export const ALLOCATION_STRATEGY_NAMES = ['round-robin', 'least-loaded', 'random'] as const;
export type AllocationStrategyName = (typeof ALLOCATION_STRATEGY_NAMES)[number];

/**
 * Cycles through the list in order, ignoring load. The position survives a list that grows or shrinks.
 *
 * @example
 * const rr = new RoundRobinStrategy();
 * rr.pick([a, b, c], {}); // a, then b, then c, then a
 */
export class RoundRobinStrategy implements AllocationStrategy {
  #next = 0;

  pick(members: readonly MemberRecord[], _ctx?: AllocationContext): MemberRecord | null {
    if (members.length === 0) return null;
    const index = this.#next % members.length;
    this.#next = (index + 1) % members.length;
    return members[index] ?? null;
  }
}

/**
 * The member with the lowest `load`; several at the minimum take turns (round robin among the tied).
 * Two passes over the list, no allocation.
 */
export class LeastLoadedStrategy implements AllocationStrategy {
  #tieBreaker = 0;

  pick(members: readonly MemberRecord[], _ctx?: AllocationContext): MemberRecord | null {
    if (members.length === 0) return null;
    let min = Infinity;
    let tied = 0;
    for (const member of members) {
      if (member.load < min) {
        min = member.load;
        tied = 1;
      } else if (member.load === min) {
        tied++;
      }
    }
    // Every load was NaN (a broken heartbeat): no minimum exists, so fall back to the plain order.
    if (tied === 0) return members[0] ?? null;
    const turn = this.#tieBreaker % tied;
    this.#tieBreaker = (turn + 1) % tied;
    let seen = 0;
    for (const member of members) {
      if (member.load === min && seen++ === turn) return member;
    }
    return null;
  }
}

export interface RandomStrategyOptions {
  /** Uniform source in [0, 1). Default `Math.random`. */
  readonly random?: () => number;
}

/** A uniformly random member: no shared state at all. */
export class RandomStrategy implements AllocationStrategy {
  readonly #random: () => number;

  constructor(options: RandomStrategyOptions = {}) {
    this.#random = options.random ?? Math.random;
  }

  pick(members: readonly MemberRecord[], _ctx?: AllocationContext): MemberRecord | null {
    if (members.length === 0) return null;
    const index = Math.min(members.length - 1, Math.floor(this.#random() * members.length));
    return members[index] ?? null;
  }
}

const FACTORIES: Readonly<Record<AllocationStrategyName, () => AllocationStrategy>> = {
  'round-robin': () => new RoundRobinStrategy(),
  'least-loaded': () => new LeastLoadedStrategy(),
  random: () => new RandomStrategy(),
};

/**
 * The strategy a name stands for, or the given object when it has a `pick` method. Unlike
 * @platformatic/coordinator, an unknown name throws a TypeError naming the accepted values instead of
 * silently falling back to round robin.
 *
 * @example
 * createStrategy('least-loaded').pick(members, { destinationId: 'tenant-1' });
 */
export function createStrategy(spec: AllocationStrategyName | AllocationStrategy): AllocationStrategy {
  if (typeof spec === 'string' && Object.hasOwn(FACTORIES, spec)) return FACTORIES[spec]();
  if (typeof spec === 'object' && spec !== null && typeof (spec as { pick?: unknown }).pick === 'function') {
    return spec;
  }
  const got = typeof spec === 'string' ? JSON.stringify(spec) : String(spec);
  throw new TypeError(
    `unknown strategy ${got} (expected one of ${ALLOCATION_STRATEGY_NAMES.join(', ')}, or an object with a pick() method)`,
  );
}
