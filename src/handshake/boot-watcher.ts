/**
 * @module handshake/boot-watcher: reads every tracked backend's boot handshake on a jittered schedule and
 * reports restarts (a new boot id) and settings that differ from the topology's reference.
 */
import { EventEmitter } from 'node:events';
import type { BootHandshakeConfig } from '../config/index.js';
import { BootMismatchError, GatewayStateError } from '../errors.js';
import type { Logger } from '../types.js';
import type { Upstream } from '../upstream/index.js';
import { PollLoop } from '../util/index.js';
import type { BootAnswer } from './boot-answer.js';
import { describeMismatch, diffSettings, type BootReference } from './compare.js';
import { readBootAnswer, type BootRead } from './read-boot-answer.js';

/** `unknown`: no handshake read yet, or the backend has none; `ok`: matches; `mismatch`: differs. */
export type BootState = 'unknown' | 'ok' | 'mismatch';

/** Options of a {@link BootWatcher}. */
export interface BootWatcherOptions {
  /** Narrowed with `child({ component: 'handshake' })`; logs restarts, mismatches and recoveries. */
  readonly logger?: Logger | undefined;
  /**
   * The reference for a backend when the config has no `expect` (shared state from other replicas, say).
   * Returning undefined falls back to the pool's first answer.
   */
  readonly referenceFor?: ((upstream: Upstream, pool: string) => BootReference | undefined) | undefined;
  /** Source of jitter in [0, 1). Default `Math.random`. */
  readonly random?: (() => number) | undefined;
}

/** Events of a {@link BootWatcher}. */
export interface BootWatcherEvents {
  /** The backend answered with a boot id other than the last one seen: it restarted. */
  restart: [upstream: Upstream, previousBootId: string, bootId: string];
  /** The backend's settings differ from the reference (on entering `mismatch` and whenever the names change). */
  mismatch: [upstream: Upstream, differences: string[], message: string];
  /** A backend that was `mismatch` matches again. */
  match: [upstream: Upstream];
  /** Every change of {@link BootState}, whatever the cause. */
  state: [upstream: Upstream, state: BootState, previous: BootState];
}

interface Entry {
  readonly upstream: Upstream;
  readonly pool: string;
  /** Read, apply, wait: the one jittered poller (`util/poll-loop.ts`). */
  readonly loop: PollLoop<BootRead>;
  bootId: string | undefined;
  state: BootState;
  differences: readonly string[];
  message: string | undefined;
}

/**
 * Watches the boot handshake of backends (`keyway-node/backend` on their side).
 *
 * Reference: `config.expect` when given (only the settings it names are checked); else what
 * `options.referenceFor` returns; else, per pool, the first backend that answered sets the reference:
 * in `checkAll()` that is the first in `track()` order among those that answered. The reference is kept
 * while the watcher lives, so a backend that later drifts, the reference backend included, is the one
 * flagged; it is forgotten only when the pool has no tracked backend left.
 *
 * A backend that does not answer keeps its last state (a timeout says nothing about its settings); one
 * that answers without a handshake (404, invalid JSON) becomes `unknown`, never `mismatch`.
 * Reads of one backend never overlap: the next starts `intervalMs` ± 10% after the previous one ended.
 *
 * @example
 * const watcher = new BootWatcher(config.bootHandshake, { logger });
 * for (const u of pool.all) watcher.track(u, 'default');
 * await watcher.checkAll();
 * const err = watcher.strictCheck();
 * if (err && config.strictBootHandshake) throw err;
 */
export class BootWatcher extends EventEmitter<BootWatcherEvents> {
  readonly #config: BootHandshakeConfig;
  readonly #logger: Logger | undefined;
  readonly #referenceFor: BootWatcherOptions['referenceFor'];
  readonly #random: () => number;
  readonly #entries = new Map<string, Entry>();
  /** Per pool: the first answer seen, used when there is no `expect` and no `referenceFor` answer. */
  readonly #poolReferences = new Map<string, BootReference>();
  /** Reads in flight, also those of untracked backends, so close() waits for every one. */
  readonly #inflight = new Set<Promise<unknown>>();
  #started = false;
  #closing: Promise<void> | undefined;

  constructor(config: BootHandshakeConfig, options: BootWatcherOptions = {}) {
    super();
    this.#config = config;
    this.#logger = options.logger?.child({ component: 'handshake' });
    this.#referenceFor = options.referenceFor;
    this.#random = options.random ?? Math.random;
  }

  /**
   * Starts watching `upstream` as a member of `pool`. After `checkAll()` its first read runs at once and the
   * promise resolves when it is applied; before, it waits for `checkAll()`. Tracking an id again replaces it.
   * @throws GatewayStateError after `close()`.
   */
  track(upstream: Upstream, pool: string): Promise<void> {
    if (this.#closing) throw new GatewayStateError('boot watcher is closed');
    this.#remove(upstream.id);
    const entry = this.#newEntry(upstream, pool);
    this.#entries.set(upstream.id, entry);
    return this.#started ? entry.loop.runNow().then(() => undefined) : Promise.resolve();
  }

  /** Stops watching the backend with this id, aborting its read in flight. Returns whether it was tracked. */
  untrack(id: string): boolean {
    const entry = this.#remove(id);
    if (!entry) return false;
    if (![...this.#entries.values()].some((e) => e.pool === entry.pool)) this.#poolReferences.delete(entry.pool);
    return true;
  }

  /**
   * Reads every tracked backend once, in parallel, applies the answers in `track()` order, then keeps each
   * on its schedule. Meant to run before the gateway listens. A read already in flight is awaited, not
   * repeated. Rejects with a `GatewayStateError` after `close()`.
   */
  async checkAll(): Promise<void> {
    if (this.#closing) throw new GatewayStateError('boot watcher is closed');
    this.#started = true;
    let previous: Promise<unknown> = Promise.resolve();
    const rounds: Promise<unknown>[] = [];
    for (const entry of this.#entries.values()) {
      const running = entry.loop.running;
      if (running) {
        rounds.push(running);
        continue;
      }
      previous = entry.loop.runNow(previous);
      rounds.push(previous);
    }
    await Promise.all(rounds);
  }

  /** The last boot id read from this backend, or undefined. */
  bootIdOf(id: string): string | undefined {
    return this.#entries.get(id)?.bootId;
  }

  /** The backend's handshake state; `unknown` for an id not tracked. */
  stateOf(id: string): BootState {
    return this.#entries.get(id)?.state ?? 'unknown';
  }

  /** The settings in which the backend differs (empty unless `mismatch`). */
  differencesOf(id: string): readonly string[] {
    return this.#entries.get(id)?.differences ?? [];
  }

  /**
   * A `BootMismatchError` naming every backend in `mismatch` and the settings in which it differs, or
   * undefined when there is none. The gateway throws it after `checkAll()` under `strictBootHandshake`.
   */
  strictCheck(): BootMismatchError | undefined {
    const lines = [...this.#entries.values()].filter((e) => e.state === 'mismatch').map((e) => `  ${e.message ?? ''}`);
    if (lines.length === 0) return undefined;
    const what = lines.length === 1 ? '1 backend differs' : `${lines.length} backends differ`;
    return new BootMismatchError(`boot handshake: ${what} from the topology (strictBootHandshake):\n${lines.join('\n')}`);
  }

  /** Stops every schedule, aborts reads in flight and resolves once they have ended. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= this.#shutdown();
    return this.#closing;
  }

  async #shutdown(): Promise<void> {
    for (const entry of this.#entries.values()) entry.loop.stop();
    this.#entries.clear();
    await Promise.all(this.#inflight);
  }

  #remove(id: string): Entry | undefined {
    const entry = this.#entries.get(id);
    if (entry) {
      entry.loop.stop();
      this.#entries.delete(id);
    }
    return entry;
  }

  #newEntry(upstream: Upstream, pool: string): Entry {
    const { path, timeoutMs } = this.#config;
    const loop = new PollLoop<BootRead>({
      read: (signal) => readBootAnswer(upstream.target, { path, timeoutMs, signal }),
      // `entry` exists by the time a round ends: the first one starts only after this returns.
      apply: (read) => this.#apply(entry, read),
      intervalMs: () => this.#config.intervalMs ?? upstream.health.intervalMs,
      random: this.#random,
      // Thrown by an event listener; the schedule must survive it.
      onError: (err) => this.#logger?.error({ err, backend: upstream.id }, 'boot handshake listener threw'),
      inflight: this.#inflight,
    });
    const entry: Entry = { upstream, pool, loop, bootId: undefined, state: 'unknown', differences: [], message: undefined };
    return entry;
  }

  #apply(entry: Entry, read: BootRead): void {
    const u = entry.upstream;
    if (read.kind === 'unreachable') {
      this.#logger?.debug({ backend: u.id, reason: read.reason }, 'boot handshake not read');
      return;
    }
    if (read.kind === 'invalid') {
      this.#logger?.debug({ backend: u.id, reason: read.reason }, 'backend has no boot handshake');
      this.#setState(entry, 'unknown', [], undefined);
      return;
    }
    const previous = entry.bootId;
    entry.bootId = read.answer.bootId;
    if (previous !== undefined && previous !== read.answer.bootId) {
      this.#logger?.info({ backend: u.id, previousBootId: previous, bootId: read.answer.bootId }, 'backend restarted');
      this.emit('restart', u, previous, read.answer.bootId);
    }
    this.#compare(entry, read.answer);
  }

  #compare(entry: Entry, answer: BootAnswer): void {
    const reference = this.#referenceOf(entry, answer);
    const differences = diffSettings(reference, answer.settings);
    if (differences.length === 0) {
      this.#setState(entry, 'ok', [], undefined);
      return;
    }
    const message = describeMismatch(entry.upstream, differences, reference.source);
    this.#setState(entry, 'mismatch', differences.map((d) => d.name), message);
  }

  #referenceOf(entry: Entry, answer: BootAnswer): BootReference {
    const { expect } = this.#config;
    if (expect) return { settings: expect, source: 'bootHandshake.expect', exact: false };
    const given = this.#referenceFor?.(entry.upstream, entry.pool);
    if (given) return given;
    let reference = this.#poolReferences.get(entry.pool);
    if (!reference) {
      reference = { settings: answer.settings, source: `backend "${entry.upstream.id}" of pool "${entry.pool}"` };
      this.#poolReferences.set(entry.pool, reference);
    }
    return reference;
  }

  #setState(entry: Entry, state: BootState, differences: readonly string[], message: string | undefined): void {
    const u = entry.upstream;
    const previous = entry.state;
    const changedNames = differences.join('\n') !== entry.differences.join('\n');
    entry.state = state;
    entry.differences = differences;
    entry.message = message;
    if (state === 'mismatch' && (previous !== 'mismatch' || changedNames)) {
      this.#logger?.warn({ backend: u.id, differences }, message);
      this.emit('mismatch', u, [...differences], message ?? '');
    }
    if (state === previous) return;
    if (previous === 'mismatch' && state === 'ok') {
      this.#logger?.info({ backend: u.id }, 'backend settings match the topology again');
      this.emit('match', u);
    }
    this.emit('state', u, state, previous);
  }
}
