/**
 * @module replication/shared-view: one replica's side of the view all gateway replicas share through a
 * `GatewayStore`: its own health verdicts out, everyone's verdicts merged in, admin and runtime-backend
 * registers applied once each, and a periodic re-read that heals missed messages and store outages.
 */
import { EventEmitter } from 'node:events';
import { GatewayStateError, StoreUnavailableError } from '../errors.js';
import type { GatewayStore, Register, RegisterKind, SharedState, StoreEvent } from './store/index.js';
import type { Logger } from '../types.js';
import { decodeFact, encodeFact, type AdminFact, type BackendFact, type FactByKind } from './facts.js';
import { RegisterBook } from './register-book.js';
import type { ReplicaTarget, SharedViewEvents, SharedViewOptions, SharedViewStatus } from './types.js';
import { mergeVerdicts, VerdictTable, type Opinion } from './verdicts.js';

/**
 * Keeps this replica's view in step with the others.
 *
 * Own verdicts are written only when they change (and refreshed each sync tick); facts learned from
 * others are applied and never written back, so messages cannot loop. While the store is unreachable the
 * view keeps its last state plus this replica's own probes; once it is back, own verdicts and every known
 * register are written again (the store's `(atMs, by)` rule keeps a newer fact) and the store re-read. Every
 * read also heals the other way: a fact this replica holds that the store lacks (lost in a failover that no
 * outage announced) is written again and logged.
 * Other replicas' verdicts still expire `verdictTtlMs` after they were last heard, outage or not: one nobody
 * can refresh is stale, and this replica's own probes are then the freshest word on a backend.
 *
 * @example
 * const view = new SharedView(store, gatewayTarget, { replicaId, verdictTtlMs: 6000, stateTtlMs: 86_400_000,
 *   syncIntervalMs: 2000, healthQuorum: undefined, required: false, logger });
 * await view.start();
 * view.localVerdict('api-1', false); // merged, applied, published
 * await view.close();
 */
export class SharedView extends EventEmitter<SharedViewEvents> {
  readonly #store: GatewayStore;
  readonly #target: ReplicaTarget;
  readonly #options: SharedViewOptions;
  readonly #logger: Logger | undefined;
  readonly #own = new Map<string, Opinion>();
  readonly #remote: VerdictTable;
  /** The merged verdict last applied per backend. */
  readonly #merged = new Map<string, boolean>();
  readonly #book = new RegisterBook();
  #started: Promise<void> | undefined;
  #closed = false;
  #timer: NodeJS.Timeout | undefined;
  /** store.start() resolved: writes may go out. */
  #subscribed = false;
  /** The store is (or was seen) unreachable; cleared by a successful resync. */
  #outage = false;
  /** Own verdicts and registers must be written again before the next read. */
  #resyncWanted = false;
  /** Counts failures, so a sync that raced with one does not declare the store back. */
  #failures = 0;
  #busy: Promise<void> | undefined;
  #again = false;
  #lastSyncAt: number | null = null;
  /** A store `error` was logged since the last successful sync. */
  #errorLogged = false;
  readonly #onEvent = (event: StoreEvent): void => this.#receive(event);
  readonly #onUp = (): void => this.#storeUp();
  readonly #onDown = (err: Error): void => this.#fail(err);
  readonly #onError = (err: Error): void => this.#storeError(err);

  constructor(store: GatewayStore, target: ReplicaTarget, options: SharedViewOptions) {
    super();
    checkOptions(options);
    this.#store = store;
    this.#target = target;
    this.#options = { ...options };
    this.#logger = options.logger?.child({ component: 'replication' });
    this.#remote = new VerdictTable(options.verdictTtlMs);
  }

  /**
   * Subscribes, writes what was set before, reads and applies the shared state, then syncs every
   * `syncIntervalMs`. When the store cannot start: rejects with `StoreUnavailableError` if `required`, else
   * warns once and resolves, serving local state until the store comes `up`. Idempotent.
   */
  start(): Promise<void> {
    if (this.#closed) return Promise.reject(new GatewayStateError('shared view is closed'));
    this.#started ??= this.#start();
    return this.#started;
  }

  async #start(): Promise<void> {
    this.#store.on('event', this.#onEvent).on('down', this.#onDown).on('error', this.#onError);
    try {
      await this.#store.start();
      this.#subscribed = true;
    } catch (err) {
      if (this.#options.required) {
        this.#detach();
        throw new StoreUnavailableError(
          `shared state store (${this.#store.kind}) unreachable at startup, and redis.required is true: ${message(err)}`,
          err,
        );
      }
      this.#outage = true;
      this.#failures++;
      this.#logger?.warn({ err }, 'shared state store unreachable at startup: serving from local state; will sync when Redis is reachable');
      this.emit('outage', toError(err));
    }
    if (this.#closed) {
      this.#detach(); // closed while the store was starting
      return;
    }
    // Attached after start() so the `up` of a first connect does not race the initial sync below.
    this.#store.on('up', this.#onUp);
    if (this.#subscribed) {
      this.#resyncWanted = true; // writes made before start() (own verdicts, registers) go out now
      await this.#kick(true);
    }
    if (!this.#closed) this.#timer = setInterval(() => void this.#kick(false), this.#options.syncIntervalMs).unref();
  }

  /** This replica's probe verdict on `backendId`; cheap to call with an unchanged verdict. Never throws. */
  localVerdict(backendId: string, up: boolean): void {
    if (this.#closed) return;
    const held = this.#own.get(backendId);
    if (!held || held.up !== up) {
      const opinion = { up, sinceMs: Date.now() };
      this.#own.set(backendId, opinion);
      const verdict = { backendId, replicaId: this.#options.replicaId, ...opinion };
      if (this.#subscribed) this.#send(() => this.#store.putVerdict(verdict, this.#options.verdictTtlMs));
    }
    this.#recompute(backendId, Date.now());
  }

  /** Publishes an admin fact the gateway already applied locally. */
  setAdmin(backendId: string, fact: AdminFact): void {
    this.#write('admin', backendId, fact);
  }

  /** Publishes a backend the gateway added or removed locally. */
  setBackend(backendId: string, fact: BackendFact): void {
    this.#write('backend', backendId, fact);
  }

  /** The backend was removed here: drop its verdicts (its own one is no longer refreshed and expires). */
  forget(backendId: string): void {
    this.#own.delete(backendId);
    this.#remote.forget(backendId);
    this.#merged.delete(backendId);
  }

  /** The merged verdict last applied for `backendId`, undefined when none is known. */
  mergedVerdict(backendId: string): boolean | undefined {
    return this.#merged.get(backendId);
  }

  status(): SharedViewStatus {
    return {
      store: this.#store.kind,
      available: this.#store.available && !this.#outage,
      replicaId: this.#options.replicaId,
      peers: this.#remote.replicas(Date.now()),
      lastSyncAt: this.#lastSyncAt === null ? null : new Date(this.#lastSyncAt).toISOString(),
    };
  }

  /**
   * Stops the sync timer and listening. A sync in flight is not awaited (a store call may hang while the store
   * is unreachable); its results are dropped. Does not close the store. Idempotent.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#timer);
    this.#detach();
  }

  #write<K extends RegisterKind>(kind: K, id: string, fact: FactByKind[K]): void {
    if (this.#closed) return;
    const register = { id, value: encodeFact(kind, fact), atMs: this.#book.nextAtMs(kind, id, Date.now()), by: this.#options.replicaId };
    this.#book.remember(kind, register);
    if (!this.#subscribed) return; // written by the resync once the store is reachable
    this.#send(() => this.#store.putRegister(kind, register, this.#options.stateTtlMs));
  }

  /** Fire-and-forget write: a failure (thrown or rejected) counts as an outage, healed by the resync. */
  #send(write: () => Promise<unknown>): void {
    try {
      write().catch((err: unknown) => this.#fail(err));
    } catch (err) {
      this.#fail(err);
    }
  }

  #receive(event: StoreEvent): void {
    if (this.#closed || event.from === this.#options.replicaId) return;
    if (event.type === 'register') {
      this.#learn(event.kind, event.register);
      return;
    }
    const v = event.verdict;
    if (v.replicaId === this.#options.replicaId) return;
    const now = Date.now();
    if (this.#remote.put(v, now)) this.#recompute(v.backendId, now);
  }

  /** Applies `register` when it is newer than the last write seen for its id. Never writes. */
  #learn(kind: RegisterKind, register: Register): void {
    if (!this.#book.isNew(kind, register)) return;
    const decoded = decodeFact(kind, register.value);
    this.#book.remember(kind, register, decoded.ok);
    if (!decoded.ok) {
      this.#logger?.warn({ kind, id: register.id, by: register.by, reason: decoded.reason }, 'skipped a malformed shared fact');
      return;
    }
    if (kind === 'admin') this.#safely(() => this.#target.applyAdmin(register.id, decoded.fact as AdminFact));
    else this.#safely(() => this.#target.applyBackend(register.id, decoded.fact as BackendFact));
  }

  #recompute(backendId: string, nowMs: number): void {
    const opinions: Opinion[] = this.#remote.fresh(backendId, nowMs);
    const own = this.#own.get(backendId);
    if (own) opinions.push(own);
    const merged = mergeVerdicts(opinions, this.#options.healthQuorum);
    if (merged === undefined) {
      this.#merged.delete(backendId);
      return;
    }
    if (this.#merged.get(backendId) === merged) return;
    this.#merged.set(backendId, merged);
    this.#safely(() => this.#target.applyHealth(backendId, merged));
  }

  #recomputeAll(): void {
    const now = Date.now();
    this.#remote.prune(now);
    const ids = new Set([...this.#own.keys(), ...this.#remote.backends(), ...this.#merged.keys()]);
    for (const id of ids) this.#recompute(id, now);
  }

  #storeUp(): void {
    this.#resyncWanted = true;
    void this.#kick(true);
  }

  /**
   * Runs one sync unless one is in flight; with `again`, a sync in flight runs once more when done (an `up`
   * must not be lost to a tick that started before it).
   */
  #kick(again: boolean): Promise<void> {
    if (this.#closed) return Promise.resolve();
    if (this.#busy) {
      this.#again ||= again;
      return this.#busy;
    }
    this.#busy = (async () => {
      try {
        do {
          this.#again = false;
          await this.#syncOnce();
        } while (this.#again && !this.#closed);
      } finally {
        this.#busy = undefined;
      }
    })();
    return this.#busy;
  }

  async #syncOnce(): Promise<void> {
    const failures = this.#failures;
    try {
      if (!this.#store.available) throw new StoreUnavailableError(`shared state store (${this.#store.kind}) unavailable`);
      // Cleared before the writes: a request made while they run is kept for the next sync; a failure sets
      // #outage, which asks for a resync again.
      const resync = this.#outage || this.#resyncWanted;
      this.#resyncWanted = false;
      if (resync) await this.#resync();
      else await this.#putOwnVerdicts();
      await this.#readAndApply();
      if (this.#failures === failures && !this.#closed) this.#synced();
    } catch (err) {
      this.#fail(err);
    }
    if (!this.#closed) this.#recomputeAll();
  }

  /** Subscribes if startup could not, then writes own verdicts and every known register again. */
  async #resync(): Promise<void> {
    if (!this.#subscribed) {
      await this.#store.start();
      this.#subscribed = true;
    }
    const ttlMs = this.#options.stateTtlMs;
    const reseeds = [...this.#book.reseeds(ttlMs, Date.now())].map((r) => this.#store.putRegister(r.kind, r.register, r.ttlMs));
    await Promise.all([this.#putOwnVerdicts(), ...reseeds]);
  }

  async #putOwnVerdicts(): Promise<void> {
    const { replicaId, verdictTtlMs } = this.#options;
    const puts = [...this.#own].map(([backendId, o]) => this.#store.putVerdict({ backendId, replicaId, ...o }, verdictTtlMs));
    await Promise.all(puts);
  }

  async #readAndApply(): Promise<void> {
    const readStartMs = Date.now();
    const known = this.#book.mark();
    const state = await this.#store.read();
    if (this.#closed) return;
    const self = this.#options.replicaId;
    this.#remote.replaceAll(state.verdicts.filter((v) => v.replicaId !== self), readStartMs, Date.now());
    // Backends first, so an admin fact on a backend added elsewhere finds it.
    for (const r of state.backend) this.#learn('backend', r);
    for (const r of state.admin) this.#learn('admin', r);
    await this.#heal(state, known);
  }

  /**
   * Writes again every fact this replica holds that the store lacks or holds older: a write that landed on a master
   * which then lost it (demoted after a failover, restarted empty) is put back, whoever wrote it first, and the
   * next read checks that it stayed. Every replica holding the fact may do so: the `(atMs, by)` rule applies one.
   */
  async #heal(state: SharedState, known: number): Promise<void> {
    const ttlMs = this.#options.stateTtlMs;
    const lost = this.#book.lacking(state, ttlMs, Date.now(), known);
    if (lost.length === 0 || this.#closed) return;
    await Promise.all(lost.map((r) => this.#store.putRegister(r.kind, r.register, r.ttlMs)));
    const facts = lost.map((r) => `${r.kind} ${r.register.id}`);
    this.#logger?.warn({ facts, count: lost.length }, 'shared state store lacked facts this replica holds: wrote them again');
    this.emit('healed', lost.length);
  }

  #synced(): void {
    const wasOut = this.#outage;
    this.#outage = false;
    this.#errorLogged = false;
    this.#lastSyncAt = Date.now();
    if (wasOut) this.#logger?.info('shared state store reachable again: resynchronised');
    this.emit('synced');
  }

  /** A store call failed or the store went down: log and announce once per outage; resync when back. */
  #fail(err: unknown): void {
    this.#failures++;
    if (this.#outage || this.#closed) return;
    this.#outage = true;
    const error = toError(err);
    this.#logger?.warn({ err: error }, 'shared state store unreachable: serving from the last known view');
    this.emit('outage', error);
  }

  /**
   * A background failure of a store that still counts itself up (a refresh that failed, say): some write may
   * be lost, so the next sync writes everything again. Logged once until a sync succeeds.
   */
  #storeError(err: Error): void {
    this.#resyncWanted = true;
    if (this.#errorLogged || this.#outage || this.#closed) return;
    this.#errorLogged = true;
    this.#logger?.warn({ err }, 'shared state store error; will resynchronise on the next sync');
  }

  /** The gateway's callbacks must not break the store's event delivery or a sync. */
  #safely(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.#logger?.error({ err }, 'applying a shared fact failed');
    }
  }

  #detach(): void {
    this.#store
      .off('event', this.#onEvent)
      .off('up', this.#onUp)
      .off('down', this.#onDown)
      .off('error', this.#onError);
  }
}

function checkOptions(o: SharedViewOptions): void {
  for (const name of ['verdictTtlMs', 'stateTtlMs', 'syncIntervalMs'] as const) {
    if (!(Number.isFinite(o[name]) && o[name] > 0)) throw new RangeError(`${name}: must be a number > 0, got ${o[name]}`);
  }
  const q = o.healthQuorum;
  if (q !== undefined && !(Number.isInteger(q) && q >= 1)) throw new RangeError(`healthQuorum: must be an integer >= 1, got ${q}`);
  if (o.replicaId === '') throw new RangeError('replicaId: must not be empty');
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function toError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}
