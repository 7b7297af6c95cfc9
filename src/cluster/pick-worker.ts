/**
 * @module cluster/pick-worker: where the next connection goes. Pure. Power of two choices over the workers in
 * rotation, compared on their last figures: event-loop utilisation and delay first (a worker burning CPU or blocked
 * is busy whatever it holds), then work in hand. Two random candidates, not the global least: figures are a
 * sampling interval old, and every primary decision until the next sample would otherwise pile onto one worker.
 */
import type { WorkerStats } from './messages.js';

export interface Candidate {
  readonly slot: number;
  readonly stats: WorkerStats | null;
  /** Connections handed to it since its last stats (they are not in its figures yet). */
  readonly sentSinceStats: number;
}

/** Lower is less busy. */
export function busyness(c: Candidate): number {
  const s = c.stats;
  if (s === null) return c.sentSinceStats;
  // ELU (0..1) dominates: 0.1 of ELU outweighs 10 connections. A delay p99 past 50 ms counts as saturated.
  return s.elu * 100 + Math.min(s.delayP99Ms, 50) + s.connections + s.inflight + c.sentSinceStats;
}

/** The less busy of two random candidates (the only one, for one); null for none. */
export function pickWorker(candidates: readonly Candidate[], random: () => number = Math.random): Candidate | null {
  const n = candidates.length;
  if (n === 0) return null;
  if (n === 1) return candidates[0] as Candidate;
  const i = Math.floor(random() * n);
  let j = Math.floor(random() * (n - 1));
  if (j >= i) j++;
  const a = candidates[i] as Candidate;
  const b = candidates[j] as Candidate;
  return busyness(b) < busyness(a) ? b : a;
}
