/**
 * @module upstream/outlier-detector: passive health: which backends to eject for a while because real
 * traffic to them keeps failing (Envoy's consecutive-failure outlier detection). Pure: no timers, no I/O;
 * the caller owns the clock's consequences (the pool schedules the return).
 */

/** Options of an {@link OutlierDetector}; every field is optional. */
export interface OutlierOptions {
  /** Failures in a row that eject a backend. Integer >= 1. Default 5 (Envoy's `consecutive_5xx`). */
  readonly consecutiveFailures?: number | undefined;
  /** First ejection's length (ms); the n-th ejection lasts n times this. Default 30000. */
  readonly baseEjectionMs?: number | undefined;
  /**
   * Cap on one ejection's length (ms), >= `baseEjectionMs`. Also the quiet period after which a returned
   * backend's ejection count starts again from 0. Default 300000.
   */
  readonly maxEjectionMs?: number | undefined;
  /** Most backends (percent of all) ejected at once, 0..100. Default 50. */
  readonly maxEjectionPercent?: number | undefined;
  /** Clock in epoch ms. Default `Date.now`; tests inject their own. */
  readonly now?: (() => number) | undefined;
}

/** Per-backend memory. Created on the first failure: backends that never fail cost nothing. */
interface State {
  /** Current failure streak. */
  failures: number;
  /** Ejections so far (the duration multiplier); decays to 0 after a quiet `maxEjectionMs`. */
  times: number;
  /** When the current ejection ends; 0 when not ejected. */
  until: number;
  /** When the backend last came back (its probation started); 0 if never ejected. */
  returnedAt: number;
}

/**
 * Counts consecutive failures per backend id and decides ejections, as Envoy's outlier detection does:
 *
 * - `consecutiveFailures` failures in a row eject the backend for `baseEjectionMs × n` (n = how many times
 *   it has been ejected, this one included), capped at `maxEjectionMs`. A success ends the streak.
 * - An ejection that would leave more than `maxEjectionPercent` of `total` backends ejected is refused
 *   (Envoy: `100 × (ejected + 1) / total <= max`). The streak is kept, so every further failure tries again
 *   and the backend is ejected as soon as there is room. With one backend, or two at a 49% limit, nothing
 *   is ever ejected: passive health must not empty a pool by itself.
 * - Results reported while a backend is ejected (requests already in flight when it was ejected) are ignored.
 * - After `release()` the backend is on probation: it needs a full new streak to be ejected again, but the
 *   next ejection lasts longer. Once it has stayed un-ejected for `maxEjectionMs`, the multiplier resets.
 *
 * @example
 * const detector = new OutlierDetector({ consecutiveFailures: 3, baseEjectionMs: 10_000 });
 * if (detector.record('b1', false, pool.all.length, ejectedCount) === 'eject') scheduleReturn(detector.due('b1'));
 */
export class OutlierDetector {
  readonly consecutiveFailures: number;
  readonly baseEjectionMs: number;
  readonly maxEjectionMs: number;
  readonly maxEjectionPercent: number;
  readonly #now: () => number;
  readonly #states = new Map<string, State>();

  /** @throws RangeError for an out-of-range option (never falls back silently). */
  constructor(options: OutlierOptions = {}) {
    this.consecutiveFailures = options.consecutiveFailures ?? 5;
    this.baseEjectionMs = options.baseEjectionMs ?? 30_000;
    this.maxEjectionMs = options.maxEjectionMs ?? 300_000;
    this.maxEjectionPercent = options.maxEjectionPercent ?? 50;
    this.#now = options.now ?? Date.now;
    if (!(Number.isInteger(this.consecutiveFailures) && this.consecutiveFailures >= 1)) {
      throw new RangeError(`consecutiveFailures must be an integer >= 1, got ${this.consecutiveFailures}`);
    }
    if (!(this.baseEjectionMs > 0 && Number.isFinite(this.baseEjectionMs))) {
      throw new RangeError(`baseEjectionMs must be a finite number > 0, got ${this.baseEjectionMs}`);
    }
    if (!(this.maxEjectionMs >= this.baseEjectionMs && Number.isFinite(this.maxEjectionMs))) {
      throw new RangeError(`maxEjectionMs must be finite and >= baseEjectionMs, got ${this.maxEjectionMs}`);
    }
    if (!(this.maxEjectionPercent >= 0 && this.maxEjectionPercent <= 100)) {
      throw new RangeError(`maxEjectionPercent must be within 0..100, got ${this.maxEjectionPercent}`);
    }
  }

  /**
   * Records one result of real traffic to backend `id`. Returns `'eject'` when this result ejects it (then
   * `due(id)` says until when), else null.
   * @param total how many backends the percentage limit is taken of (all of the pool's)
   * @param ejectedNow how many of them are ejected right now, not counting this one
   */
  record(id: string, ok: boolean, total: number, ejectedNow: number): 'eject' | null {
    let state = this.#states.get(id);
    if (ok) {
      // The common case allocates nothing: unknown ids stay unknown.
      if (state !== undefined && state.until === 0) state.failures = 0;
      return null;
    }
    if (state === undefined) {
      state = { failures: 0, times: 0, until: 0, returnedAt: 0 };
      this.#states.set(id, state);
    }
    if (state.until !== 0) return null;
    const now = this.#now();
    this.#decay(state, now);
    state.failures++;
    if (state.failures < this.consecutiveFailures) return null;
    if (total <= 0 || (100 * (ejectedNow + 1)) / total > this.maxEjectionPercent) return null;
    state.times++;
    state.failures = 0;
    state.until = now + Math.min(this.baseEjectionMs * state.times, this.maxEjectionMs);
    return 'eject';
  }

  /** When the ejection of `id` ends (epoch ms), or undefined when it is not ejected. */
  due(id: string): number | undefined {
    const until = this.#states.get(id)?.until ?? 0;
    return until === 0 ? undefined : until;
  }

  /**
   * Ends the ejection of `id` (its time is up) and starts its probation. The caller decides when: the pool
   * calls it from the timer it set for `due(id)`. Returns whether `id` was ejected.
   */
  release(id: string): boolean {
    const state = this.#states.get(id);
    if (state === undefined || state.until === 0) return false;
    state.until = 0;
    state.failures = 0;
    state.returnedAt = this.#now();
    return true;
  }

  /** How many times `id` has been ejected since its multiplier last reset (0 for an unknown id). */
  ejections(id: string): number {
    const state = this.#states.get(id);
    if (state === undefined) return 0;
    if (state.until === 0) this.#decay(state, this.#now());
    return state.times;
  }

  /** Drops everything known about `id` (a backend removed from the pool). */
  forget(id: string): void {
    this.#states.delete(id);
  }

  /** A backend that has stayed in for `maxEjectionMs` since it returned starts its multiplier over. */
  #decay(state: State, now: number): void {
    if (state.times > 0 && now - state.returnedAt >= this.maxEjectionMs) state.times = 0;
  }
}
