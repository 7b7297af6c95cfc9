/**
 * @module balancer/weighted-index: weighted random draws over a candidate array in O(log n), from prefix
 * sums built once per array. Shared by the random and p2c strategies.
 */
import type { Candidate } from './strategy.js';

/**
 * Prefix sums of the candidates' weights, with non-positive weights counting as 0 so they own an empty
 * interval and are never drawn. Draws take a uniform `u` in [0, 1) so callers control the randomness.
 */
export class WeightedIndex {
  /** `prefix[i]` = sum of the weights of candidates 0..i. */
  readonly #prefix: Float64Array;
  /** Sum of all positive weights; 0 when nothing is pickable. */
  readonly total: number;
  /** The last index with a positive weight, or -1. */
  readonly #last: number;

  constructor(candidates: readonly Candidate[]) {
    const prefix = new Float64Array(candidates.length);
    let sum = 0;
    let last = -1;
    for (let i = 0; i < candidates.length; i++) {
      const weight = candidates[i]!.weight;
      if (weight > 0) {
        sum += weight;
        last = i;
      }
      prefix[i] = sum;
    }
    this.#prefix = prefix;
    this.total = sum;
    this.#last = last;
  }

  /** The index owning `u * total`, or -1 when nothing is pickable. */
  draw(u: number): number {
    if (this.#last < 0) return -1;
    return this.#search(u * this.total);
  }

  /**
   * Like `draw`, over every candidate but `skip` (which must have a positive weight): the interval of
   * `skip` is cut out and the rest is drawn by weight. -1 when `skip` is the only pickable candidate.
   */
  drawExcept(u: number, skip: number): number {
    const prefix = this.#prefix;
    const end = prefix[skip]!;
    const start = skip === 0 ? 0 : prefix[skip - 1]!;
    const rest = this.total - (end - start);
    if (!(rest > 0)) return -1;
    let target = u * rest;
    if (target >= start) target += end - start;
    const found = this.#search(target);
    // Float rounding can land the shifted target back inside `skip`'s interval; take a neighbour then.
    return found === skip ? this.#neighbour(skip) : found;
  }

  /**
   * A weighted draw by linear scan over candidates that have a positive weight, are not in `exclude` and
   * are not at index `skip`: for the rare pick with exclusions (retries). -1 when none qualifies.
   */
  static drawAmong(candidates: readonly Candidate[], u: number, exclude: ReadonlySet<string>, skip: number): number {
    let total = 0;
    for (let i = 0; i < candidates.length; i++) {
      if (i !== skip && eligible(candidates[i]!, exclude)) total += candidates[i]!.weight;
    }
    if (!(total > 0)) return -1;
    const target = u * total;
    let sum = 0;
    let lastEligible = -1;
    for (let i = 0; i < candidates.length; i++) {
      const candidate = candidates[i]!;
      if (i === skip || !eligible(candidate, exclude)) continue;
      sum += candidate.weight;
      lastEligible = i;
      if (sum > target) return i;
    }
    return lastEligible;
  }

  /** The first index whose prefix sum exceeds `target`: never an empty (weight 0) interval. */
  #search(target: number): number {
    const prefix = this.#prefix;
    let lo = 0;
    let hi = prefix.length - 1;
    // `u` < 1, but `u * total` may round up to `total`; the last positive weight owns that point.
    if (!(prefix[hi]! > target)) return this.#last;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (prefix[mid]! > target) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }

  /** The nearest index other than `skip` with a positive weight (there is one: `rest` > 0). */
  #neighbour(skip: number): number {
    const prefix = this.#prefix;
    for (let i = skip + 1; i < prefix.length; i++) if (prefix[i]! > prefix[i - 1]!) return i;
    for (let i = skip - 1; i >= 0; i--) if (prefix[i]! > (i === 0 ? 0 : prefix[i - 1]!)) return i;
    return -1;
  }
}

function eligible(candidate: Candidate, exclude: ReadonlySet<string>): boolean {
  return candidate.weight > 0 && !exclude.has(candidate.id);
}
