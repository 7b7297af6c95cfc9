/** @module test/balancer/fixtures: candidates, a seeded random source and pick counting for strategy tests. */
import type { Candidate, PickContext, Strategy } from '../../src/balancer/index.js';

/** A candidate whose `inflight` a test can change, as the pool's Upstream does. */
export interface TestCandidate extends Candidate {
  inflight: number;
}

/** `[id, weight]` pairs -> idle candidates, in order. */
export function candidates(...specs: [id: string, weight: number][]): TestCandidate[] {
  return specs.map(([id, weight]) => ({ id, weight, inflight: 0 }));
}

/** mulberry32: a tiny seeded PRNG so random strategies give the same sequence on every run. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
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
