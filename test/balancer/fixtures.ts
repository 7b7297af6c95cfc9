/** @module test/balancer/fixtures: candidates, a seeded random source and pick counting for strategy tests. */
import type { Candidate, PickContext, Strategy } from '../../src/balancer/index.js';

export { seededRandom } from '../helpers/random.js';

/** A candidate whose `inflight` a test can change, as the pool's Upstream does. */
export interface TestCandidate extends Candidate {
  inflight: number;
}

/** `[id, weight]` pairs -> idle candidates, in order. */
export function candidates(...specs: [id: string, weight: number][]): TestCandidate[] {
  return specs.map(([id, weight]) => ({ id, weight, inflight: 0 }));
}

/** Picks `n` times (context from `ctxOf(i)`) and counts picks per id; a null pick counts under `null`. */
export function countPicks(
  strategy: Strategy,
  list: readonly Candidate[],
  n: number,
  ctxOf: (i: number) => PickContext = () => ({}),
): Map<string, number> {
  const counts = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const id = strategy.pick(list, ctxOf(i))?.id ?? 'null';
    counts.set(id, (counts.get(id) ?? 0) + 1);
  }
  return counts;
}

/**
 * Picks `n` times while every pick holds its candidate's inflight for the next `hold` picks (a steady state
 * with `hold` requests in flight, each lasting as long as the others). Returns the pick counts per id.
 */
export function countPicksUnderLoad(
  strategy: Strategy,
  list: readonly TestCandidate[],
  n: number,
  hold: number,
  ctxOf: (i: number) => PickContext = () => ({}),
): Map<string, number> {
  const counts = new Map<string, number>();
  const held: TestCandidate[] = [];
  for (let i = 0; i < n; i++) {
    if (held.length === hold) held.shift()!.inflight--;
    const picked = strategy.pick(list, ctxOf(i));
    if (picked === null) throw new Error(`pick ${i} returned null`);
    picked.inflight++;
    held.push(picked);
    counts.set(picked.id, (counts.get(picked.id) ?? 0) + 1);
  }
  for (const candidate of held) candidate.inflight--;
  return counts;
}
