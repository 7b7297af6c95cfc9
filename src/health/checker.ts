/**
 * @module health/checker: runs active probes for every upstream of a pool on its own jittered schedule
 * and turns their results, through rise/fall hysteresis, into `pool.setHealthy()` verdicts.
 */
import { EventEmitter } from 'node:events';
import { GatewayStateError } from '../errors.js';
import type { Logger } from '../types.js';
import type { Upstream, UpstreamPool } from '../upstream/index.js';
import { PollLoop } from '../util/index.js';
import { probe, type ProbeResult } from './probe.js';
import { RiseFall } from './rise-fall.js';

/** Options of a {@link HealthChecker}. */
export interface HealthCheckerOptions {
  /** Narrowed with `child({ component: 'health' })`; logs verdict changes and failed probes. */
  readonly logger?: Logger | undefined;
  /** Source of jitter in [0, 1). Default `Math.random`; tests inject a fixed one. */
  readonly random?: (() => number) | undefined;
  /**
   * Where a verdict goes. Default: `pool.setHealthy()`. Gateway replicas pass their shared view here, which
   * merges this replica's verdict with the others' before it reaches the pool.
   */
  readonly decide?: ((upstream: Upstream, healthy: boolean) => void) | undefined;
}

/** Events of a {@link HealthChecker}. Emitting with no listener costs next to nothing. */
export interface HealthCheckerEvents {
  /** After every probe whose result was applied, once the verdict is up to date. */
  probe: [upstream: Upstream, result: ProbeResult];
}

interface Entry {
  readonly upstream: Upstream;
  readonly riseFall: RiseFall;
  /** Probe, apply, wait: the one jittered poller (`util/poll-loop.ts`). */
  readonly loop: PollLoop<ProbeResult>;
  /** Whether a first result was applied (the first one sets the verdict outright). */
  seen: boolean;
  /** This checker's own last verdict (the pool's may differ when replicas merge verdicts). */
  verdict: boolean;
}

/**
 * Active health checks for an {@link UpstreamPool}.
 *
 * Each upstream has its own loop: probe, apply, then wait `intervalMs` ± 10% from the moment the probe
 * ENDED, so probes of one upstream never overlap however slow it answers, and the jitter keeps many
 * gateways from probing a backend in lockstep.
 *
 * The first result of an upstream sets its verdict outright instead of going through rise/fall: a
 * backend never seen alive should get no traffic, and one that answers should not wait `rise` intervals.
 * HAProxy similarly starts servers as "going up" after one check. Later results need `fall` failures or
 * `rise` successes in a row to flip the verdict.
 *
 * The pool does not announce additions and removals: call `track()` / `untrack()` when it changes.
 *
 * @example
 * const checker = new HealthChecker(pool, { logger });
 * await checker.start(); // first round done: dead backends are already down
 * server.listen(port);
 * // ... on shutdown
 * await checker.close();
 */
export class HealthChecker extends EventEmitter<HealthCheckerEvents> {
  readonly #pool: UpstreamPool;
  readonly #logger: Logger | undefined;
  readonly #random: () => number;
  readonly #decide: (upstream: Upstream, healthy: boolean) => void;
  readonly #entries = new Map<string, Entry>();
  /** Probes in flight, also those of untracked upstreams, so close() waits for every one. */
  readonly #inflight = new Set<Promise<unknown>>();
  #started: Promise<void> | undefined;
  #closing: Promise<void> | undefined;

  constructor(pool: UpstreamPool, options: HealthCheckerOptions = {}) {
    super();
    this.#pool = pool;
    this.#logger = options.logger?.child({ component: 'health' });
    this.#random = options.random ?? Math.random;
    this.#decide = options.decide ?? ((u, healthy) => pool.setHealthy(u, healthy));
  }

  /**
   * Probes every upstream of the pool (and every one tracked so far) in parallel, applies the results,
   * then schedules each upstream. Resolves when that first round is complete; idempotent.
   * Rejects with a `GatewayStateError` after `close()`.
   */
  start(): Promise<void> {
    if (this.#closing) return Promise.reject(new GatewayStateError('health checker is closed'));
    this.#started ??= this.#firstRound();
    return this.#started;
  }

  async #firstRound(): Promise<void> {
    for (const u of this.#pool.all) {
      if (!this.#entries.has(u.id)) this.#entries.set(u.id, this.#entry(u));
    }
    await Promise.all([...this.#entries.values()].map((e) => e.loop.runNow()));
  }

  /**
   * Starts checking `upstream` (one added to the pool after `start()`). Once started, its first probe
   * runs at once; the promise resolves when that result is applied. Tracking an id again replaces the
   * old entry. Until that first result the upstream keeps its current `healthy` flag, so add it to the
   * pool with `healthy = false` to keep traffic off it until it has answered.
   * @throws GatewayStateError after `close()`.
   */
  track(upstream: Upstream): Promise<void> {
    if (this.#closing) throw new GatewayStateError('health checker is closed');
    this.untrack(upstream.id);
    const entry = this.#entry(upstream);
    this.#entries.set(upstream.id, entry);
    if (!this.#started) return Promise.resolve();
    return entry.loop.runNow().then(() => undefined);
  }

  /** Stops checking the upstream with this id, aborting its probe in flight. Returns whether it was tracked. */
  untrack(id: string): boolean {
    const entry = this.#entries.get(id);
    if (!entry) return false;
    this.#stop(entry);
    this.#entries.delete(id);
    return true;
  }

  /** Stops every schedule, aborts probes in flight and resolves once they have ended. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= this.#shutdown();
    return this.#closing;
  }

  async #shutdown(): Promise<void> {
    for (const entry of this.#entries.values()) this.#stop(entry);
    this.#entries.clear();
    await Promise.all(this.#inflight);
  }

  #entry(upstream: Upstream): Entry {
    const { rise, fall } = upstream.health;
    const loop = new PollLoop<ProbeResult>({
      read: (signal) => probe(upstream, upstream.health, { signal }),
      // `entry` exists by the time a round ends: the first one starts only after this returns.
      apply: (result) => this.#apply(entry, result),
      intervalMs: () => upstream.health.intervalMs,
      random: this.#random,
      // Thrown by a 'backend:*' or 'probe' listener; the schedule must survive it.
      onError: (err) => this.#logger?.error({ err, backend: upstream.id }, 'health listener threw'),
      inflight: this.#inflight,
    });
    const entry: Entry = { upstream, riseFall: new RiseFall({ rise, fall, healthy: upstream.healthy }), loop, seen: false, verdict: upstream.healthy };
    return entry;
  }

  #stop(entry: Entry): void {
    entry.loop.stop();
  }

  #apply(entry: Entry, result: ProbeResult): void {
    const u = entry.upstream;
    u.lastChecked = new Date();
    let verdict: boolean;
    if (entry.seen) {
      verdict = entry.riseFall.record(result.ok);
    } else {
      entry.seen = true;
      entry.riseFall.reset(result.ok);
      verdict = result.ok;
    }
    if (!result.ok) this.#logger?.debug({ backend: u.id, error: result.error }, 'health probe failed');
    if (verdict !== entry.verdict) {
      const fields = { backend: u.id, error: result.error, status: result.status };
      if (verdict) this.#logger?.info(fields, 'backend is up');
      else this.#logger?.warn(fields, 'backend is down');
    }
    entry.verdict = verdict;
    this.#decide(u, verdict);
    this.emit('probe', u, result);
  }
}
