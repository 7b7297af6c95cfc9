/**
 * @module cluster/respawn-policy: when a worker that exited is started again. Pure. The delay doubles from
 * `initialMs` to `maxMs` with every crash in a row (a worker that lived past `stableMs` resets it), and after
 * `maxCrashes` crashes within `windowMs` the slot is given up: a worker that cannot boot is not restarted in a loop.
 */

export interface RespawnOptions {
  readonly initialMs: number;
  readonly maxMs: number;
  readonly maxCrashes: number;
  readonly windowMs: number;
  /** A worker up this long before it exited was healthy: the next delay starts from `initialMs` again. */
  readonly stableMs: number;
}

export type RespawnDecision = { readonly respawn: true; readonly delayMs: number } | { readonly respawn: false; readonly crashes: number };

export class RespawnPolicy {
  readonly #o: RespawnOptions;
  #crashes: number[] = [];
  #streak = 0;

  constructor(options: RespawnOptions) {
    this.#o = options;
  }

  /** A worker of this slot exited unasked after `uptimeMs`, at `now`. */
  exited(uptimeMs: number, now: number): RespawnDecision {
    if (uptimeMs >= this.#o.stableMs) this.#streak = 0;
    this.#crashes = this.#crashes.filter((t) => now - t < this.#o.windowMs);
    this.#crashes.push(now);
    if (this.#crashes.length >= this.#o.maxCrashes) return { respawn: false, crashes: this.#crashes.length };
    const delayMs = Math.min(this.#o.initialMs * 2 ** this.#streak, this.#o.maxMs);
    this.#streak++;
    return { respawn: true, delayMs };
  }
}
