/**
 * @module alerts/flap-damper: turns a stream of backend up/down transitions into at most one alert per
 * state change that lasts at least `holdMs`, so a flapping backend does not flood its owner.
 */
import type { AlertEvent } from './types.js';

/** Schedules and cancels one-shot callbacks; injected by tests that want to drive time by hand. */
export interface TimerScheduler {
  set(callback: () => void, ms: number): unknown;
  clear(handle: unknown): void;
}

/** Options of a {@link FlapDamper}. */
export interface FlapDamperOptions {
  /** How long a new state must last before it is alerted (ms). Default 30000; `0` alerts at once. */
  readonly holdMs?: number | undefined;
  /** Default: `setTimeout`/`clearTimeout`, unref'd so a pending alert never keeps the process alive. */
  readonly scheduler?: TimerScheduler | undefined;
}

/** The hold used when none is given (ms). */
export const DEFAULT_HOLD_MS = 30_000;

const realScheduler: TimerScheduler = {
  set: (callback, ms) => setTimeout(callback, ms).unref(),
  clear: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

interface BackendState {
  /**
   * The state last alerted. Starts as `up`: a backend is assumed fine until a `down` was alerted, which is
   * also what keeps an `up` from ever being sent for a `down` nobody was told about.
   */
  alerted: AlertEvent['kind'];
  pending: { readonly event: AlertEvent; readonly handle: unknown } | undefined;
}

/**
 * Debounces state changes per backend (keyed by `String(backend.id)`).
 *
 * A change opposite to the last alerted state starts a hold timer; when the timer fires the change is
 * alerted with its original event (so `at` is when it happened). A change back to the alerted state
 * before then cancels the timer: down -> up -> down within the hold yields nothing until the last down
 * has itself lasted `holdMs`. Repeats of the pending state keep the first timer.
 *
 * @example
 * const damper = new FlapDamper((event) => deliver(event), { holdMs: 30_000 });
 * damper.push({ kind: 'down', backend, at: new Date() });
 */
export class FlapDamper {
  readonly #onAlert: (event: AlertEvent) => void;
  readonly #holdMs: number;
  readonly #scheduler: TimerScheduler;
  readonly #states = new Map<string, BackendState>();
  #closed = false;

  constructor(onAlert: (event: AlertEvent) => void, options: FlapDamperOptions = {}) {
    const holdMs = options.holdMs ?? DEFAULT_HOLD_MS;
    if (!Number.isFinite(holdMs) || holdMs < 0) throw new RangeError(`holdMs must be a number >= 0, got ${holdMs}`);
    this.#onAlert = onAlert;
    this.#holdMs = holdMs;
    this.#scheduler = options.scheduler ?? realScheduler;
  }

  /** How many backends have a change waiting for its hold to pass. */
  get pending(): number {
    let n = 0;
    for (const state of this.#states.values()) if (state.pending) n++;
    return n;
  }

  /** Feeds one observed transition. Ignored after `close()`. */
  push(event: AlertEvent): void {
    if (this.#closed) return;
    const key = String(event.backend.id);
    let state = this.#states.get(key);
    if (!state) {
      state = { alerted: 'up', pending: undefined };
      this.#states.set(key, state);
    }
    if (event.kind === state.alerted) {
      // Back to what the owner already knows: whatever was pending turned out to be a blip.
      this.#cancel(state);
      return;
    }
    if (state.pending) return;
    if (this.#holdMs === 0) {
      this.#fire(state, event);
      return;
    }
    const handle = this.#scheduler.set(() => this.#fire(state, event), this.#holdMs);
    state.pending = { event, handle };
  }

  /** Cancels every pending change; later pushes are ignored. Idempotent. */
  close(): void {
    this.#closed = true;
    for (const state of this.#states.values()) this.#cancel(state);
  }

  #fire(state: BackendState, event: AlertEvent): void {
    state.pending = undefined;
    state.alerted = event.kind;
    this.#onAlert(event);
  }

  #cancel(state: BackendState): void {
    if (!state.pending) return;
    this.#scheduler.clear(state.pending.handle);
    state.pending = undefined;
  }
}
