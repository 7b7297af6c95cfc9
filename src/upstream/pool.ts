/**
 * @module upstream/pool: the set of upstreams and the cached list of those that may take new traffic,
 * combining active health, passive ejection, the operator's admin state and slow-start weights.
 * The cache is rebuilt only when one of those changes, so picking allocates nothing.
 */
import { EventEmitter } from 'node:events';
import type { BackendConfig } from '../config/index.js';
import { OutlierDetector, type OutlierOptions } from './outlier-detector.js';
import { slowStartFactor } from './slow-start.js';
import { Upstream, type AdminState } from './upstream.js';

/** What `candidates()` gives when no backend qualifies: nothing (503s), or every enabled one (panic). */
export type WhenAllDown = 'reject' | 'fail-open';

/** Options of an {@link UpstreamPool}; `new UpstreamPool(backends)` means no slow start and no panic mode. */
export interface UpstreamPoolOptions {
  /**
   * Slow-start window (ms): a backend that (re)joins ramps its effective weight linearly from 10% to 100%
   * over this long. Default 0 (off).
   */
  readonly slowStartMs?: number | undefined;
  /**
   * Passive health (outlier ejection) fed by `recordResult()`. Default: on with `OutlierDetector`'s
   * defaults; it acts only if something calls `recordResult()`. `false` turns it off. Its `now` is
   * ignored: the detector always uses the pool's clock.
   */
  readonly outlier?: OutlierOptions | false | undefined;
  /**
   * `reject` (default): with no candidate, `candidates()` is empty. `fail-open` (Envoy's panic mode):
   * then it holds every enabled backend with weight > 0, whatever health checks and ejection say, on the
   * bet that some traffic served beats none.
   */
  readonly whenAllDown?: WhenAllDown | undefined;
  /** Clock in epoch ms for ejections and ramps. Default `Date.now`. */
  readonly now?: (() => number) | undefined;
}

/** Events of an {@link UpstreamPool}. Listeners run after the candidate list is up to date. */
export interface PoolEvents {
  /** Active health checks turned it down. */
  'backend:down': [upstream: Upstream];
  /** Active health checks turned it up. */
  'backend:up': [upstream: Upstream];
  /** Passive health ejected it until `untilMs` (epoch ms). */
  'backend:ejected': [upstream: Upstream, untilMs: number];
  /** Its ejection ended (time up, or active checks saw it down and up again); a candidate again if otherwise fit. */
  'backend:returned': [upstream: Upstream];
  /** The operator changed its admin state. */
  'backend:admin': [upstream: Upstream, state: AdminState, previous: AdminState];
  /** Panic mode (`whenAllDown: 'fail-open'` with no normal candidate) began (true) or ended (false). */
  'pool:panic': [panicking: boolean];
}

const ADMIN_STATES: ReadonlySet<string> = new Set<AdminState>(['enabled', 'draining', 'disabled']);
/** Slow-start weights are refreshed every tenth of the window, but not more often than this. */
const MIN_TICK_MS = 100;
/** setTimeout's largest delay; a later return is reached by re-arming. */
const MAX_DELAY_MS = 2 ** 31 - 1;

/**
 * The upstreams of one gateway. A backend is a candidate for new traffic when it is healthy (active
 * checks), not ejected (passive checks), enabled by the operator and of effective weight > 0.
 *
 * Timers: one for the earliest return from ejection, and one ticking while some backend ramps up; both are
 * `unref()`ed and cleared by `close()`.
 *
 * @example
 * const pool = new UpstreamPool(config.backends, { slowStartMs: 30_000, whenAllDown: 'fail-open' });
 * pool.on('backend:ejected', (u, until) => log.warn({ backend: u.id, until }, 'ejected'));
 * strategy.pick(pool.candidates(), ctx);
 * pool.recordResult(upstream, response.statusCode < 500);
 */
export class UpstreamPool extends EventEmitter<PoolEvents> {
  readonly #byId = new Map<string, Upstream>();
  readonly #slowStartMs: number;
  readonly #whenAllDown: WhenAllDown;
  readonly #now: () => number;
  readonly #detector: OutlierDetector | null;
  /** Backends ramping up, with the time their ramp started. */
  readonly #ramps = new Map<Upstream, number>();
  #all: Upstream[] = [];
  #candidates: Upstream[] = [];
  #panicking = false;
  #ejected = 0;
  #returnTimer: NodeJS.Timeout | undefined;
  #rampTimer: NodeJS.Timeout | undefined;
  /** False while the constructor adds the configured backends: starting up is not (re)joining. */
  #started = false;
  #closed = false;

  /** @throws RangeError for an invalid option. */
  constructor(backends: readonly BackendConfig[], options: UpstreamPoolOptions = {}) {
    super();
    const slowStartMs = options.slowStartMs ?? 0;
    const whenAllDown = options.whenAllDown ?? 'reject';
    if (!(slowStartMs >= 0 && Number.isFinite(slowStartMs))) {
      throw new RangeError(`slowStartMs must be a finite number >= 0, got ${slowStartMs}`);
    }
    if (whenAllDown !== 'reject' && whenAllDown !== 'fail-open') {
      throw new RangeError(`whenAllDown must be 'reject' or 'fail-open', got ${JSON.stringify(whenAllDown)}`);
    }
    this.#slowStartMs = slowStartMs;
    this.#whenAllDown = whenAllDown;
    this.#now = options.now ?? Date.now;
    this.#detector = options.outlier === false ? null : new OutlierDetector({ ...options.outlier, now: this.#now });
    for (const b of backends) this.add(new Upstream(b));
    this.#started = true;
  }

  /** Every upstream, in configuration order. Do not mutate. */
  get all(): readonly Upstream[] {
    return this.#all;
  }

  /**
   * Upstreams that may take new traffic (in panic mode: every enabled one). The same array object until
   * something changes, so strategies can cache what they derive from it. Do not mutate.
   */
  candidates(): readonly Upstream[] {
    return this.#candidates;
  }

  /** True while `candidates()` is the fail-open list because no backend qualifies normally. */
  get panicking(): boolean {
    return this.#panicking;
  }

  get(id: string): Upstream | undefined {
    return this.#byId.get(id);
  }

  /**
   * Whether a client pinned (sticky) to `upstream` may stay there: it is in the pool, healthy, not ejected
   * and not disabled. Weight 0 and `draining` keep pinned clients; they only refuse new ones. In panic
   * mode health and ejection are ignored here too, so pinned clients are not reshuffled among backends
   * that are all failing.
   */
  mayServeSticky(upstream: Upstream): boolean {
    if (this.#byId.get(upstream.id) !== upstream || upstream.adminState === 'disabled' || upstream.mismatch) return false;
    return this.#panicking || (upstream.healthy && upstream.ejectedUntil === 0);
  }

  /**
   * Adds `upstream`, replacing one with the same id. Added after construction and healthy, it slow-starts
   * (an upstream added with `healthy = false` slow-starts when it turns healthy instead).
   */
  add(upstream: Upstream): void {
    if (this.#byId.has(upstream.id)) this.remove(upstream.id);
    upstream.ejectedUntil = 0;
    upstream.weight = upstream.configuredWeight;
    this.#byId.set(upstream.id, upstream);
    this.#all = [...this.#all, upstream];
    if (this.#started) this.#startRamp(upstream, this.#now());
    this.#announcePanic(this.#rebuild());
  }

  /** Removes the upstream with this id, dropping its ejection, ramp and outlier history. */
  remove(id: string): Upstream | undefined {
    const u = this.#byId.get(id);
    if (!u) return undefined;
    this.#byId.delete(id);
    this.#all = this.#all.filter((x) => x !== u);
    this.#detector?.forget(id);
    this.#ramps.delete(u);
    if (this.#ramps.size === 0) this.#stopRamps();
    u.weight = u.configuredWeight;
    if (u.ejectedUntil !== 0) {
      u.ejectedUntil = 0;
      this.#ejected--;
      this.#scheduleReturn();
    }
    this.#announcePanic(this.#rebuild());
    return u;
  }

  /**
   * Records an active health verdict; emits `backend:up`/`backend:down` only on a change. Turning healthy
   * starts slow start, and ends an ejection still running (`backend:returned` first): active checks saw the
   * backend down and up again, so the failures that ejected it are behind it. Without this a backend killed
   * and restarted stays out for the rest of its ejection (30 s by default) after its probes pass. Envoy does
   * the same (`successful_active_health_check_uneject_host`), though on every passing probe; only a down -> up
   * change does it here, so a backend whose probes pass while its real traffic fails stays ejected.
   */
  setHealthy(upstream: Upstream, healthy: boolean): void {
    if (upstream.healthy === healthy) return;
    upstream.healthy = healthy;
    const owned = this.#owns(upstream);
    const returned = healthy && owned && upstream.ejectedUntil !== 0 && !this.#closed;
    if (returned) {
      this.#release(upstream);
      this.#scheduleReturn();
    }
    if (healthy && owned) this.#startRamp(upstream, this.#now());
    const panicChanged = this.#rebuild();
    if (returned) this.emit('backend:returned', upstream);
    this.emit(healthy ? 'backend:up' : 'backend:down', upstream);
    this.#announcePanic(panicChanged);
  }

  /**
   * Sets the configured weight (a number >= 0); the effective `weight` follows, scaled while it ramps up.
   * @throws RangeError for a negative or non-finite weight.
   */
  setWeight(upstream: Upstream, weight: number): void {
    if (!(weight >= 0 && Number.isFinite(weight))) throw new RangeError(`weight must be a finite number >= 0, got ${weight}`);
    if (upstream.configuredWeight === weight) return;
    upstream.configuredWeight = weight;
    this.#applyRamp(upstream, this.#now());
    this.#announcePanic(this.#rebuild());
  }

  /**
   * Sets what the operator allows; emits `backend:admin` on a change. Going from `disabled` to `enabled`
   * starts slow start (HAProxy does so when a server leaves maintenance); leaving `draining` does not,
   * as a draining backend kept serving its pinned clients and is warm.
   * @throws RangeError for an unknown state (it may come from an admin request).
   */
  setAdminState(upstream: Upstream, state: AdminState): void {
    if (!ADMIN_STATES.has(state)) throw new RangeError(`unknown admin state ${JSON.stringify(state)}`);
    const previous = upstream.adminState;
    if (previous === state) return;
    upstream.adminState = state;
    if (previous === 'disabled' && state === 'enabled' && this.#owns(upstream)) this.#startRamp(upstream, this.#now());
    const panicChanged = this.#rebuild();
    this.emit('backend:admin', upstream, state, previous);
    this.#announcePanic(panicChanged);
  }

  /** Marks `upstream` as failing the boot handshake (no traffic at all) or clears it. */
  setMismatch(upstream: Upstream, mismatch: boolean): void {
    if (upstream.mismatch === mismatch) return;
    upstream.mismatch = mismatch;
    this.#announcePanic(this.#rebuild());
  }

  /**
   * The backend restarted (a new boot id): its passive-health history belongs to the old process, so the
   * failure count is dropped and an ejection still running ends now.
   */
  restarted(upstream: Upstream): void {
    if (upstream.ejectedUntil === 0 || !this.#owns(upstream) || this.#closed) {
      this.#detector?.forget(upstream.id);
      return;
    }
    this.#release(upstream);
    this.#detector?.forget(upstream.id);
    this.#scheduleReturn();
    const panicChanged = this.#rebuild();
    this.emit('backend:returned', upstream);
    this.#announcePanic(panicChanged);
  }

  /**
   * Feeds one result of real traffic to `upstream` (`ok` false for a connect error, timeout or 5xx) to
   * passive health. Enough failures in a row eject it: `backend:ejected` now, `backend:returned` when its
   * time is up. Cheap for successes; a no-op when outlier detection is off or after `close()`.
   */
  recordResult(upstream: Upstream, ok: boolean): void {
    const detector = this.#detector;
    if (detector === null || this.#closed) return;
    if (ok) {
      detector.record(upstream.id, true, 0, 0);
      return;
    }
    if (!this.#owns(upstream)) return;
    if (detector.record(upstream.id, false, this.#all.length, this.#ejected) !== 'eject') return;
    const until = detector.due(upstream.id) ?? this.#now();
    upstream.ejectedUntil = until;
    this.#ejected++;
    // An ejected backend takes no traffic; it ramps again from the start when it returns.
    this.#ramps.delete(upstream);
    upstream.weight = upstream.configuredWeight;
    this.#scheduleReturn();
    const panicChanged = this.#rebuild();
    this.emit('backend:ejected', upstream, until);
    this.#announcePanic(panicChanged);
  }

  /** Stops the ejection and slow-start timers; ramping backends get their full weight. Idempotent. */
  close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      clearTimeout(this.#returnTimer);
      this.#returnTimer = undefined;
      for (const u of this.#ramps.keys()) u.weight = u.configuredWeight;
      this.#ramps.clear();
      this.#stopRamps();
      this.#rebuild();
    }
    return Promise.resolve();
  }

  #owns(upstream: Upstream): boolean {
    return this.#byId.get(upstream.id) === upstream;
  }

  /** Arms the one return timer for the earliest ejection end, replacing any earlier one. */
  #scheduleReturn(): void {
    clearTimeout(this.#returnTimer);
    this.#returnTimer = undefined;
    if (this.#ejected === 0 || this.#closed) return;
    let earliest = Infinity;
    for (const u of this.#all) if (u.ejectedUntil !== 0 && u.ejectedUntil < earliest) earliest = u.ejectedUntil;
    if (earliest === Infinity) return;
    // At least 1 ms: a timer may fire a hair before the clock says so; #returnDue then re-arms.
    const delay = Math.min(MAX_DELAY_MS, Math.max(1, earliest - this.#now()));
    this.#returnTimer = setTimeout(() => this.#returnDue(), delay);
    this.#returnTimer.unref();
  }

  /** Ends every ejection that is due, then re-arms for the next one. */
  #returnDue(): void {
    this.#returnTimer = undefined;
    const now = this.#now();
    let returned: Upstream[] | undefined;
    for (const u of this.#all) {
      if (u.ejectedUntil === 0 || u.ejectedUntil > now) continue;
      this.#release(u);
      this.#startRamp(u, now);
      (returned ??= []).push(u);
    }
    this.#scheduleReturn();
    if (returned === undefined) return;
    const panicChanged = this.#rebuild();
    for (const u of returned) this.emit('backend:returned', u);
    this.#announcePanic(panicChanged);
  }

  /** Ends `upstream`'s ejection (its probation starts); the caller re-arms the return timer and rebuilds. */
  #release(upstream: Upstream): void {
    this.#detector?.release(upstream.id);
    upstream.ejectedUntil = 0;
    this.#ejected--;
  }

  /**
   * Starts (or restarts) `upstream`'s ramp at 10% of its weight, and the ticker if it is not running.
   * Skipped while something else keeps it out (down, ejected, disabled): lifting that starts the ramp.
   */
  #startRamp(upstream: Upstream, now: number): void {
    if (this.#slowStartMs <= 0 || this.#closed) return;
    if (!upstream.healthy || upstream.ejectedUntil !== 0 || upstream.adminState === 'disabled') return;
    this.#ramps.set(upstream, now);
    this.#applyRamp(upstream, now);
    if (this.#rampTimer !== undefined) return;
    const tickMs = Math.max(MIN_TICK_MS, this.#slowStartMs / 10);
    this.#rampTimer = setInterval(() => this.#tick(), tickMs);
    this.#rampTimer.unref();
  }

  /** Sets the effective weight from the configured one and the ramp; a finished ramp is dropped. */
  #applyRamp(upstream: Upstream, now: number): void {
    const start = this.#ramps.get(upstream);
    if (start === undefined) {
      upstream.weight = upstream.configuredWeight;
      return;
    }
    const factor = slowStartFactor(now - start, this.#slowStartMs);
    if (factor >= 1) this.#ramps.delete(upstream);
    upstream.weight = upstream.configuredWeight * factor;
  }

  #tick(): void {
    const now = this.#now();
    // Deleting the current key while iterating a Map is safe.
    for (const u of this.#ramps.keys()) this.#applyRamp(u, now);
    if (this.#ramps.size === 0) this.#stopRamps();
    // A new array even if only weights changed: strategies key their caches on its identity.
    this.#announcePanic(this.#rebuild());
  }

  #stopRamps(): void {
    clearInterval(this.#rampTimer);
    this.#rampTimer = undefined;
  }

  /** Recomputes the candidate list; returns whether panic mode began or ended. */
  #rebuild(): boolean {
    let list = this.#all.filter(isCandidate);
    let panicking = false;
    if (list.length === 0 && this.#whenAllDown === 'fail-open') {
      const open = this.#all.filter(isPanicCandidate);
      if (open.length > 0) {
        list = open;
        panicking = true;
      }
    }
    this.#candidates = list;
    const changed = panicking !== this.#panicking;
    this.#panicking = panicking;
    return changed;
  }

  /** Emitted after the event that caused it, so listeners see the cause first. */
  #announcePanic(changed: boolean): void {
    if (changed) this.emit('pool:panic', this.#panicking);
  }
}

function isCandidate(u: Upstream): boolean {
  return u.healthy && u.ejectedUntil === 0 && u.adminState === 'enabled' && u.weight > 0 && !u.mismatch;
}

/** Panic ignores the automatic verdicts (health, ejection), never the operator's (admin state, weight 0). */
function isPanicCandidate(u: Upstream): boolean {
  return u.adminState === 'enabled' && u.weight > 0 && !u.mismatch;
}
