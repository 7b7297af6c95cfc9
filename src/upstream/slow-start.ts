/**
 * @module upstream/slow-start: how much of its weight a backend that just (re)joined may use, so a cold
 * process (empty caches, JIT not warmed, pools not filled) is not handed its full share at once.
 */

/** The share a backend starts its ramp with: never 0, so it gets some traffic to warm up on. */
export const SLOW_START_MIN_FACTOR = 0.1;

/**
 * The weight factor `elapsedMs` into a slow-start window of `slowStartMs`: linear from 0.1 at the start
 * to 1 at the end, like HAProxy's `slowstart` and Envoy's linear `slow_start_config` (aggression 1.0).
 * 1 when `slowStartMs <= 0` (no slow start) or once the window is over; 0.1 for a negative elapsed time
 * (a clock that stepped back).
 *
 * @example
 * slowStartFactor(0, 60_000);      // 0.1
 * slowStartFactor(30_000, 60_000); // 0.55
 * slowStartFactor(60_000, 60_000); // 1
 */
export function slowStartFactor(elapsedMs: number, slowStartMs: number): number {
  if (!(slowStartMs > 0) || elapsedMs >= slowStartMs) return 1;
  if (!(elapsedMs > 0)) return SLOW_START_MIN_FACTOR;
  return SLOW_START_MIN_FACTOR + ((1 - SLOW_START_MIN_FACTOR) * elapsedMs) / slowStartMs;
}
