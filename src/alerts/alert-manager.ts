/**
 * @module alerts/alert-manager: the alerting front door. Takes backend transitions synchronously, damps
 * flapping, and delivers each alert to every channel in the background with retries.
 */
import { EventEmitter } from 'node:events';
import type { Logger } from '../types.js';
import { AlertError } from './alert-error.js';
import { FlapDamper, type TimerScheduler } from './flap-damper.js';
import type { AlertChannel, AlertEvent } from './types.js';

/** Retry policy of an {@link AlertManager}. Delays are ms. */
export interface AlertRetryOptions {
  /** Tries per channel and alert, the first included. Default 5. */
  readonly attempts?: number | undefined;
  /** Delay before the first retry; doubles each time. Default 1000. */
  readonly baseDelayMs?: number | undefined;
  /** Cap of any one delay. Default 30000. */
  readonly maxDelayMs?: number | undefined;
}

/** Options of an {@link AlertManager}. */
export interface AlertManagerOptions {
  /** Where alerts go. The manager closes them in `close()`. */
  readonly channels: readonly AlertChannel[];
  /** A state change is alerted once it has lasted this long (ms). Default 30000; 0 alerts at once. */
  readonly holdMs?: number | undefined;
  readonly retry?: AlertRetryOptions | undefined;
  /** How long `close()` waits for sends in flight before closing the channels under them (ms). Default 2000. */
  readonly closeTimeoutMs?: number | undefined;
  /** Narrowed with `child({ component: 'alerts' })`. */
  readonly logger?: Logger | undefined;
  /** Source of jitter in [0, 1). Default `Math.random`. */
  readonly random?: (() => number) | undefined;
  /** Timer source of the flap damper; tests may drive it by hand. */
  readonly scheduler?: TimerScheduler | undefined;
}

/** What a `sent` or `failed` event reports. */
export interface AlertDelivery {
  readonly channel: string;
  readonly event: AlertEvent;
  /** Tries made, the successful or last one included. */
  readonly attempts: number;
}

/** Events of an {@link AlertManager}. */
export interface AlertManagerEvents {
  /** A transition outlasted the hold and is being delivered to every channel. */
  alert: [event: AlertEvent];
  /** One channel delivered one alert. */
  sent: [delivery: AlertDelivery];
  /** One channel gave up on one alert; `error.message` is safe to show. */
  failed: [delivery: AlertDelivery & { readonly error: Error }];
}

/** Exponential backoff with "equal jitter": half the delay is fixed, half random, so retries spread out but never collapse to 0. */
export function retryDelayMs(retry: number, baseDelayMs: number, maxDelayMs: number, random: () => number): number {
  const exp = Math.min(maxDelayMs, baseDelayMs * 2 ** (retry - 1));
  return Math.round(exp / 2 + (random() * exp) / 2);
}

interface Sleep {
  readonly timer: NodeJS.Timeout;
  readonly wake: () => void;
}

/**
 * Alerts backend owners when a backend goes down or comes back.
 *
 * `notify()` never throws and never waits: delivery runs in the background, each channel on its own, with
 * up to `attempts` tries and exponential backoff plus jitter between them. A failed try is logged at warn,
 * the last one at error; then the alert is dropped for that channel. Log lines and events name the
 * channel and backend, never credentials or webhook URLs.
 *
 * @example
 * const alerts = new AlertManager({ channels: createAlertChannels({ email: config.email }), logger });
 * pool.on('down', (b) => alerts.notify({ kind: 'down', backend: b, at: new Date(), reason }));
 * // on shutdown
 * await alerts.close();
 */
export class AlertManager extends EventEmitter<AlertManagerEvents> {
  readonly #channels: readonly AlertChannel[];
  readonly #damper: FlapDamper;
  readonly #attempts: number;
  readonly #baseDelayMs: number;
  readonly #maxDelayMs: number;
  readonly #closeTimeoutMs: number;
  readonly #logger: Logger | undefined;
  readonly #random: () => number;
  readonly #inflight = new Set<Promise<void>>();
  readonly #sleeps = new Set<Sleep>();
  #closing: Promise<void> | undefined;

  constructor(options: AlertManagerOptions) {
    super();
    this.#channels = [...options.channels];
    this.#attempts = positiveInt(options.retry?.attempts ?? 5, 'retry.attempts');
    this.#baseDelayMs = nonNegative(options.retry?.baseDelayMs ?? 1000, 'retry.baseDelayMs');
    this.#maxDelayMs = nonNegative(options.retry?.maxDelayMs ?? 30_000, 'retry.maxDelayMs');
    this.#closeTimeoutMs = nonNegative(options.closeTimeoutMs ?? 2000, 'closeTimeoutMs');
    this.#logger = options.logger?.child({ component: 'alerts' });
    this.#random = options.random ?? Math.random;
    this.#damper = new FlapDamper((event) => this.#dispatch(event), { holdMs: options.holdMs, scheduler: options.scheduler });
  }

  /** Alerts whose hold has not passed yet (one per backend at most). */
  get pending(): number {
    return this.#damper.pending;
  }

  /** Sends in progress or waiting for a retry. */
  get inflight(): number {
    return this.#inflight.size;
  }

  /** Reports a backend transition. Returns at once; never throws. Ignored after `close()`. */
  notify(event: AlertEvent): void {
    if (this.#closing) return;
    try {
      this.#damper.push(event);
    } catch (err) {
      // The damper calls #dispatch synchronously when holdMs is 0; a throwing listener must not reach the caller.
      this.#logger?.error({ err: messageOf(err) }, 'alert could not be queued');
    }
  }

  /**
   * Stops alerting: drops pending holds and retry waits, gives sends in flight up to `closeTimeoutMs`,
   * then closes every channel (which aborts what is still running). Idempotent.
   */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    this.#damper.close();
    for (const sleep of this.#sleeps) {
      clearTimeout(sleep.timer);
      sleep.wake();
    }
    this.#sleeps.clear();
    if (this.#inflight.size > 0) {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, this.#closeTimeoutMs).unref();
      });
      await Promise.race([Promise.allSettled(this.#inflight), timeout]);
      clearTimeout(timer);
    }
    await Promise.allSettled(this.#channels.map((channel) => channel.close()));
    // Closing the channels aborted whatever was left; let those deliveries record themselves.
    await Promise.allSettled(this.#inflight);
  }

  #dispatch(event: AlertEvent): void {
    this.#logger?.info({ backend: event.backend.id, kind: event.kind }, 'backend alert');
    this.emit('alert', event);
    for (const channel of this.#channels) {
      const delivery = this.#deliver(channel, event)
        // Only a throwing 'sent'/'failed' listener gets here; it must not become an unhandled rejection.
        .catch((err: unknown) => this.#logger?.error({ channel: channel.name, err: messageOf(err) }, 'alert listener threw'))
        .finally(() => this.#inflight.delete(delivery));
      this.#inflight.add(delivery);
    }
  }

  /** Tries one channel until it succeeds, says retrying is pointless, runs out of attempts, or close(). Never rejects. */
  async #deliver(channel: AlertChannel, event: AlertEvent): Promise<void> {
    const log = { channel: channel.name, backend: event.backend.id, kind: event.kind };
    for (let attempt = 1; ; attempt++) {
      const error = await attemptSend(channel, event);
      if (!error) {
        this.#logger?.debug({ ...log, attempt }, 'alert delivered');
        this.emit('sent', { channel: channel.name, event, attempts: attempt });
        return;
      }
      const retryable = !(error instanceof AlertError && !error.retryable);
      let why = !retryable
        ? 'not retryable'
        : attempt >= this.#attempts
          ? 'out of attempts'
          : this.#closing
            ? 'shutting down'
            : undefined;
      if (!why) {
        const delayMs = retryDelayMs(attempt, this.#baseDelayMs, this.#maxDelayMs, this.#random);
        this.#logger?.warn({ ...log, attempt, retryInMs: delayMs, err: error.message }, 'alert delivery failed; will retry');
        await this.#sleep(delayMs);
        if (!this.#closing) continue;
        why = 'shutting down';
      }
      this.#logger?.error({ ...log, attempt, err: error.message }, `alert dropped (${why})`);
      this.emit('failed', { channel: channel.name, event, attempts: attempt, error });
      return;
    }
  }

  /** An unref'd wait that close() can cut short. */
  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const sleep: Sleep = {
        timer: setTimeout(() => {
          this.#sleeps.delete(sleep);
          resolve();
        }, ms).unref(),
        wake: resolve,
      };
      this.#sleeps.add(sleep);
    });
  }
}

/** One try; the error, if any, as an Error. */
async function attemptSend(channel: AlertChannel, event: AlertEvent): Promise<Error | undefined> {
  try {
    await channel.send(event);
    return undefined;
  } catch (err) {
    return err instanceof Error ? err : new Error(String(err));
  }
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function positiveInt(value: number, name: string): number {
  if (!Number.isInteger(value) || value < 1) throw new RangeError(`${name} must be an integer >= 1, got ${value}`);
  return value;
}

function nonNegative(value: number, name: string): number {
  if (!Number.isFinite(value) || value < 0) throw new RangeError(`${name} must be a number >= 0, got ${value}`);
  return value;
}
