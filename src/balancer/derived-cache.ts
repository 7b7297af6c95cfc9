/**
 * @module balancer/derived-cache: holds a structure a strategy derives from a candidate array (prefix sums,
 * a hash ring, per-id state aligned by index) and rebuilds it only when that array changes. The pool hands
 * out the same array object until its membership or weights change, so the identity check is the common case.
 */
import type { Candidate } from './strategy.js';

/** Builds the derived structure; `previous` is the last one built, for carrying state over. */
export type DeriveFn<D> = (candidates: readonly Candidate[], previous: D | undefined) => D;

/**
 * A one-entry cache keyed on the candidate array. It rebuilds when the array object, its length or
 * (when `watchWeights`) its weights differ from the last call. Weights are compared through a position-weighted
 * sum, which changes when any weight changes or two weights swap: the pool already swaps arrays on a weight
 * change, so this is a guard for callers that mutate candidates in place, not the main mechanism.
 */
export class DerivedCache<D> {
  readonly #derive: DeriveFn<D>;
  readonly #watchWeights: boolean;
  #array: readonly Candidate[] | undefined;
  #length = 0;
  #signature = 0;
  #value: D | undefined;

  /**
   * @param derive builds the structure from the candidates
   * @param watchWeights also rebuild when weights change in place (default true); a structure that depends
   *   only on ids passes false and saves a pass over the array per pick
   */
  constructor(derive: DeriveFn<D>, watchWeights = true) {
    this.#derive = derive;
    this.#watchWeights = watchWeights;
  }

  /** The structure for `candidates`, rebuilt first if they changed since the last call. */
  get(candidates: readonly Candidate[]): D {
    const signature = this.#watchWeights ? weightSignature(candidates) : 0;
    if (
      this.#value === undefined ||
      candidates !== this.#array ||
      candidates.length !== this.#length ||
      signature !== this.#signature
    ) {
      this.#value = this.#derive(candidates, this.#value);
      this.#array = candidates;
      this.#length = candidates.length;
      this.#signature = signature;
    }
    return this.#value;
  }
}

/** Σ weight·(index+1) over pickable weights; non-positive and NaN weights count as 0, as they do when picking. */
function weightSignature(candidates: readonly Candidate[]): number {
  let signature = 0;
  for (let i = 0; i < candidates.length; i++) {
    const weight = candidates[i]!.weight;
    if (weight > 0) signature += weight * (i + 1);
  }
  return signature;
}
