/**
 * @module proxy/retry-budget: caps retries at a share of traffic (Envoy's and Finagle's retry budget) so that a
 * failing tier does not turn every request into two: each request deposits `percent`/100 of a token, a floor of
 * `minPerSecond` tokens accrues with time, and a retry spends one whole token.
 */

export class RetryBudget {
  readonly #perRequest: number;
  readonly #perMs: number;
  readonly #cap: number;
  readonly #now: () => number;
  #tokens: number;
  #last: number;

  /** @param percent retries allowed as a percentage of requests; @param minPerSecond retries always allowed per second. */
  constructor(percent: number, minPerSecond: number, now: () => number = Date.now) {
    this.#perRequest = percent / 100;
    this.#perMs = minPerSecond / 1000;
    // A burst may spend what ten seconds of floor (or a hundred requests' share) would earn, no more.
    this.#cap = Math.max(10 * minPerSecond, 100 * this.#perRequest, 1);
    this.#now = now;
    this.#tokens = Math.min(minPerSecond, this.#cap);
    this.#last = now();
  }

  /** Called once per request forwarded. */
  deposit(): void {
    const t = this.#tokens + this.#perRequest;
    this.#tokens = t > this.#cap ? this.#cap : t;
  }

  /** Takes one retry's worth of budget; false when the budget is spent. */
  tryWithdraw(): boolean {
    const now = this.#now();
    if (now > this.#last) {
      this.#tokens = Math.min(this.#cap, this.#tokens + (now - this.#last) * this.#perMs);
      this.#last = now;
    }
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }
}
