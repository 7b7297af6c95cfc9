/**
 * @module health/rise-fall: the pure hysteresis behind a health verdict. No I/O and no clock, so every
 * transition is tested with a table and the checker only feeds it booleans.
 */

/** Options of a {@link RiseFall}. */
export interface RiseFallOptions {
  /** Consecutive successes that turn an unhealthy verdict healthy. Integer >= 1. */
  readonly rise: number;
  /** Consecutive failures that turn a healthy verdict unhealthy. Integer >= 1. */
  readonly fall: number;
  /** The verdict before any result is recorded. */
  readonly healthy: boolean;
}

/**
 * Turns a stream of probe results into a verdict that flips only after `fall` failures in a row (when
 * healthy) or `rise` successes in a row (when unhealthy), so one lost probe does not move traffic.
 *
 * @example
 * const rf = new RiseFall({ rise: 2, fall: 3, healthy: true });
 * rf.record(false); rf.record(false); // true: two failures are not enough
 * rf.record(false);                   // false: the third one is
 */
export class RiseFall {
  readonly #rise: number;
  readonly #fall: number;
  #healthy: boolean;
  #successes = 0;
  #failures = 0;

  constructor(options: RiseFallOptions) {
    // Config validation guarantees these; a bad value here is a programming error, not a user's.
    assertCount('rise', options.rise);
    assertCount('fall', options.fall);
    this.#rise = options.rise;
    this.#fall = options.fall;
    this.#healthy = options.healthy;
  }

  /** The current verdict. */
  get healthy(): boolean {
    return this.#healthy;
  }

  /** Records one probe result and returns the (possibly new) verdict. */
  record(ok: boolean): boolean {
    if (ok) {
      this.#successes++;
      this.#failures = 0;
      if (!this.#healthy && this.#successes >= this.#rise) this.#healthy = true;
    } else {
      this.#failures++;
      this.#successes = 0;
      if (this.#healthy && this.#failures >= this.#fall) this.#healthy = false;
    }
    return this.#healthy;
  }

  /** Forces a verdict and forgets both streaks. */
  reset(healthy: boolean): void {
    this.#healthy = healthy;
    this.#successes = 0;
    this.#failures = 0;
  }
}

function assertCount(name: string, value: number): void {
  if (!Number.isInteger(value) || value < 1) {
    throw new RangeError(`RiseFall: ${name} must be an integer >= 1, got ${String(value)}`);
  }
}
