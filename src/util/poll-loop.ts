/**
 * @module util/poll-loop: the one jittered poller. One loop per target: read, apply, then wait `intervalMs` ± 10%
 * from the moment the round ENDED, so rounds of one target never overlap however slow it answers, and the jitter
 * keeps many processes from polling a target in lockstep. Health checks and boot handshakes both run on it.
 */

/** The next round starts `intervalMs` ± this fraction after the previous one ends. */
export const POLL_JITTER = 0.1;

export interface PollLoopOptions<R> {
  /** One round's I/O; `signal` aborts when the loop stops. */
  read(signal: AbortSignal): Promise<R>;
  /** Applies a result; never called once the loop stopped (a stale result could resurrect a removed target). */
  apply(result: R): void;
  /** The wait before the next round, before jitter (read each time, so a changed setting applies). */
  intervalMs(): number;
  /** Source of jitter in [0, 1); tests inject a fixed one. */
  readonly random: () => number;
  /** An `apply` (or an event listener under it) threw; the schedule goes on. */
  onError(err: unknown): void;
  /** Rounds in flight are kept here until they end, so an owner can await every one on close. */
  readonly inflight: Set<Promise<unknown>>;
}

export class PollLoop<R> {
  readonly #o: PollLoopOptions<R>;
  readonly #abort = new AbortController();
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<R> | undefined;
  #stopped = false;

  constructor(options: PollLoopOptions<R>) {
    this.#o = options;
  }

  /** The round in flight, if any. */
  get running(): Promise<R> | undefined {
    return this.#running;
  }

  /**
   * Runs a round now (the pending wait is cancelled), or returns the one in flight. Its result is applied once
   * `after` has settled (so a caller can apply a batch of rounds in order), then the next round is scheduled.
   */
  runNow(after: Promise<unknown> = Promise.resolve()): Promise<R> {
    if (this.#running) return this.#running;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const read = this.#o.read(this.#abort.signal);
    const round: Promise<R> = Promise.all([read, after.catch(() => undefined)])
      .then(([result]) => {
        if (this.#stopped) return result;
        try {
          this.#o.apply(result);
        } catch (err) {
          this.#o.onError(err);
        }
        this.#schedule();
        return result;
      })
      .finally(() => {
        this.#o.inflight.delete(round);
        if (this.#running === round) this.#running = undefined;
      });
    this.#running = round;
    this.#o.inflight.add(round);
    return round;
  }

  /** Stops the loop for good: no further round, the one in flight is aborted and its result ignored. */
  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#abort.abort();
  }

  #schedule(): void {
    const factor = 1 - POLL_JITTER + 2 * POLL_JITTER * this.#o.random();
    const timer = setTimeout(() => {
      this.#timer = undefined;
      this.runNow().catch((err: unknown) => this.#o.onError(err));
    }, Math.max(1, Math.round(this.#o.intervalMs() * factor)));
    // Background work only: it must not keep a process alive that has nothing else to do.
    timer.unref();
    this.#timer = timer;
  }
}
