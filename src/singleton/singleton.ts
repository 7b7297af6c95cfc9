/**
 * @module singleton/singleton: one named singleton as seen from one instance: the owner runs its actions one at a
 * time and commits each change under its fencing token before answering; every other instance is a mirror that
 * follows the committed state and forwards calls to whoever holds the lease now.
 *
 * The rules this file keeps:
 * - a result is sent only by the commit script, after the change is committed under the current token; a stale
 *   owner's commit is refused there, and the refused owner demotes itself;
 * - the owner stops serving when its own estimate of the lease runs out (from when each renewal was SENT, so the
 *   estimate ends before Redis expires the lease) and checks it before every action;
 * - a mirror applies deltas in sequence order only; a gap, a reconnect or a doubt re-reads the snapshot;
 * - a call is retried on whoever owns the singleton until its deadline, under one idempotency key, so a retry
 *   across a failover is answered once; an owner found unreachable (nobody listens on its channel) is replaced at
 *   once instead of after its lease.
 */
import { EventEmitter } from 'node:events';
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { ErrorCodes, SingletonError, isSingletonErrorCode, type SingletonErrorCode } from '../errors.js';
import type { ClaimResult, SingletonKeys } from './store/index.js';
import { FieldState, type StateObject } from './field-state.js';
import { JobQueue } from './job-queue.js';
import { decodeEvent, decodeReply, decodeRequest, encodeDelta, encodeRequest, replyError, replyOk, type EventMessage } from './messages.js';
import type { ActionContext, ResolvedDefinition } from './singleton-options.js';
import type { GroupLink } from './group-link.js';

export type SingletonRole = 'owner' | 'mirror' | 'closed';

/** Why an owner stopped owning. */
export type LostReason = 'released' | 'superseded' | 'fenced' | 'lease-expired' | 'closed';

export interface SingletonEventMap {
  /** This instance owns the singleton under `token` (a new one also when the owner re-claimed after Redis lost its lease). */
  acquired: [{ readonly token: number }];
  /** This instance stopped owning (it serves no action of `token` any more). */
  /**
   * `servedUntil` (epoch ms): nothing was served after it: now, or when the local lease estimate ran out if that was
   * earlier (an expired or superseded lease that a blocked event loop noticed only later).
   */
  lost: [{ readonly token: number; readonly reason: LostReason; readonly servedUntil: number }];
  /** The state changed (a commit here, or a delta or snapshot applied on a mirror). */
  state: [{ readonly state: Readonly<StateObject>; readonly seq: number }];
}

export interface CallOptions {
  /** How long the call may take in all (ms). Default the definition's `deadlineMs`. */
  readonly deadlineMs?: number;
  /** Calls with the same key are applied once (within `idempotencyTtlMs`); retries across a failover included. */
  readonly idempotencyKey?: string;
}

interface Call {
  readonly id: string;
  readonly key: string;
  readonly action: string;
  readonly payload: unknown;
  readonly deadline: number;
  resolve(value: unknown): void;
  reject(err: Error): void;
  deadlineTimer: NodeJS.Timeout | undefined;
  retryTimer: NodeJS.Timeout | undefined;
  /** The token the request was last sent to (0 none yet). */
  sentToken: number;
  queued: boolean;
  /** Whether an owner ever got the call (sent to one, or queued here): at the deadline, DEADLINE rather than NO_OWNER. */
  reached: boolean;
}

interface Job {
  readonly id: string;
  readonly key: string;
  readonly action: string;
  readonly payload: unknown;
  readonly deadline: number;
  readonly caller: string;
  /** Set for a call made on this instance. */
  readonly call: Call | undefined;
}

/** Done results kept on the owner: key -> result JSON, or PENDING while queued or running. */
const PENDING = '\u0000pending';
/** A commit must land this long before the deadline, so its reply can still reach the caller in time (ms). */
const REPLY_MARGIN_MS = 2;
/** Share of the lease the owner trusts after each renewal (its clock and Redis' may run at slightly different rates). */
const LEASE_TRUST = 0.95;
const MAX_BUFFERED_DELTAS = 1000;

export class Singleton<S extends StateObject = StateObject> extends EventEmitter<SingletonEventMap> {
  readonly name: string;
  readonly #d: ResolvedDefinition;
  readonly #g: GroupLink;
  readonly #k: SingletonKeys;
  readonly #replyChannel: string;
  #role: SingletonRole = 'mirror';
  /** The token this instance owns under (0 when a mirror). */
  #token = 0;
  /** The largest token seen anywhere. */
  #known = 0;
  /** The holder as last seen ('' for none). */
  #holder = '';
  #seq = 0;
  readonly #fields: FieldState;
  /** performance.now() after which the owner may no longer serve. */
  #validUntil = 0;
  readonly #queue: JobQueue<Job>;
  readonly #done = new Map<string, string>();
  #draining: Promise<void> | undefined;
  readonly #calls = new Map<string, Call>();
  #claiming: Promise<boolean> | undefined;
  #claimAgain = false;
  /** `release()` is waiting for the action in flight: no further job starts. */
  #releasing = false;
  #resyncing = false;
  #resyncAgain = false;
  #buffered: Extract<EventMessage, { kind: 'delta' }>[] = [];
  #tick: NodeJS.Timeout | undefined;
  /** The token this instance last released: it leaves the others a head start to claim after it. */
  #releasedToken = 0;
  #started: Promise<void> | undefined;

  constructor(name: string, definition: ResolvedDefinition, group: GroupLink) {
    super();
    this.name = name;
    this.#d = definition;
    this.#g = group;
    this.#k = group.store.keys(name);
    this.#replyChannel = this.#k.reply(group.instanceId);
    this.#fields = new FieldState(definition.initialState);
    this.#queue = new JobQueue(definition.maxQueue);
  }

  /** `owner` while this instance holds the lease, `mirror` otherwise, `closed` after `close()`. */
  get role(): SingletonRole {
    return this.#role;
  }

  /** The owner's fencing token: this instance's while it owns, else the largest one seen (0 for none yet). */
  get token(): number {
    return this.#role === 'owner' ? this.#token : this.#known;
  }

  /** The state: live on the owner, the last committed one applied on a mirror. Treat it as read-only. */
  get state(): Readonly<S> {
    return this.#fields.value as S;
  }

  /** The committed sequence number the state is at. */
  get seq(): number {
    return this.#seq;
  }

  /** The instance id of the owner as last seen ('' when nobody owns it). */
  get owner(): string {
    return this.#role === 'owner' ? this.#g.instanceId : this.#holder;
  }

  /** @internal Subscribes, reads the snapshot, and claims when eager and nobody owns it. Called by the group. */
  start(): Promise<void> {
    this.#started ??= this.#start();
    return this.#started;
  }

  /**
   * Runs `action` on the owner, wherever it is, and resolves with its result once the change is committed. Rejects
   * with a `SingletonError`: `SINGLETON_DEADLINE`, `SINGLETON_OWNERSHIP_LOST`, `SINGLETON_NO_OWNER`,
   * `SINGLETON_ACTION_FAILED` (the thrown message), `SINGLETON_UNKNOWN_ACTION`, `SINGLETON_OVERLOADED`,
   * `SINGLETON_CLOSED`.
   */
  call<R = unknown>(action: string, payload?: unknown, options: CallOptions = {}): Promise<R> {
    if (this.#role === 'closed') return Promise.reject(this.#error(ErrorCodes.SINGLETON_CLOSED, `singleton ${this.name} is closed`));
    if (!this.#d.actions.has(action)) {
      return Promise.reject(this.#error(ErrorCodes.SINGLETON_UNKNOWN_ACTION, `singleton ${this.name} has no action ${JSON.stringify(action)}`));
    }
    if (this.#calls.size >= this.#d.maxPendingCalls) {
      return Promise.reject(this.#error(ErrorCodes.SINGLETON_OVERLOADED, `singleton ${this.name}: ${this.#d.maxPendingCalls} calls already wait`));
    }
    const deadlineMs = options.deadlineMs ?? this.#d.deadlineMs;
    if (typeof deadlineMs !== 'number' || !(deadlineMs > 0)) {
      return Promise.reject(new RangeError(`deadlineMs must be a number of ms > 0, got ${String(deadlineMs)}`));
    }
    const id = randomBytes(9).toString('base64url');
    const key = options.idempotencyKey ?? id;
    if (typeof key !== 'string' || key === '' || key.length > 256) {
      return Promise.reject(new TypeError('idempotencyKey must be a string of 1-256 characters'));
    }
    return new Promise<R>((resolve, reject) => {
      const call: Call = {
        id,
        key,
        action,
        payload,
        deadline: this.#g.clock.now() + deadlineMs,
        resolve: resolve as (v: unknown) => void,
        reject,
        deadlineTimer: undefined,
        retryTimer: undefined,
        sentToken: 0,
        queued: false,
        reached: false,
      };
      call.deadlineTimer = setTimeout(() => this.#expire(call), deadlineMs);
      this.#calls.set(id, call);
      this.#dispatch(call);
    });
  }

  /**
   * Gives ownership up: the action running finishes (and is committed), queued ones go to the next owner, the lease
   * is deleted and the other instances claim at once. A mirror's `release()` does nothing.
   */
  async release(): Promise<void> {
    if (this.#role !== 'owner') return;
    const token = this.#token;
    this.#releasing = true;
    try {
      await this.#draining;
    } finally {
      this.#releasing = false;
    }
    if (this.#role !== 'owner' || this.#token !== token) return;
    // Stop serving first, then delete the lease: nobody can own it before this instance has stopped.
    this.#releasedToken = token;
    this.#demote('released');
    await this.#g.store.release(this.#k, this.#g.instanceId, token).catch((err: unknown) => this.#g.warn(err, 'release failed'));
    if (this.#holder === this.#g.instanceId) this.#holder = '';
  }

  /** Releases (when owner), rejects waiting calls with `SINGLETON_CLOSED` and unsubscribes. Idempotent. */
  async close(): Promise<void> {
    if (this.#role === 'closed') return;
    if (this.#role === 'owner') await this.release();
    this.#role = 'closed';
    clearTimeout(this.#tick);
    for (const call of [...this.#calls.values()]) this.#settle(call, this.#error(ErrorCodes.SINGLETON_CLOSED, `singleton ${this.name} closed`));
    await Promise.all([this.#g.unlisten(this.#k.events), this.#g.unlisten(this.#replyChannel), this.#g.unlisten(this.#k.requests)]);
  }

  // ---- messages (called by the group) ------------------------------------------------------------------------

  /** @internal A message on one of this singleton's channels. */
  onMessage(channel: string, raw: string): void {
    if (this.#role === 'closed') return;
    if (channel === this.#k.events) {
      const m = decodeEvent(this.#g.signer, channel, raw);
      if (typeof m === 'string') this.#g.count(m);
      else this.onEvent(m);
    }
    else if (channel === this.#replyChannel) this.#onReply(raw);
    else if (channel === this.#k.requests) this.#onRequest(raw);
  }

  /** @internal A decoded event of the events channel. */
  onEvent(m: EventMessage): void {
    if (m.kind === 'delta') return this.#onDelta(m);
    this.#see(m.token);
    if (m.kind === 'claimed') {
      if (m.owner === this.#g.instanceId) return;
      this.#holder = m.owner;
      // A hint, not proof (a script cannot sign it): the owner asks Redis instead of stepping down on it.
      if (this.#role === 'owner') this.#renewSoon();
      else this.#resendAll(m.token);
      return;
    }
    if (this.#role === 'owner') return this.#renewSoon();
    this.#holder = '';
    if (this.#d.eager) this.#claimEagerly(m.token);
    this.#resendAll(Number.MAX_SAFE_INTEGER);
  }

  /** @internal The connection came back: what was missed is read again. */
  onReconnect(): void {
    if (this.#role === 'owner') this.#renewSoon();
    else if (this.#role === 'mirror') void this.#resync();
  }

  // ---- start, ticks and the lease ---------------------------------------------------------------------------

  async #start(): Promise<void> {
    await Promise.all([this.#g.listen(this.#k.events, this), this.#g.listen(this.#replyChannel, this)]);
    await this.#resync();
    if (this.#d.eager && this.#holder === '') await this.#claim(0);
    this.#schedule();
  }

  #schedule(): void {
    clearTimeout(this.#tick);
    if (this.#role === 'closed') return;
    const base = this.#role === 'owner' ? this.#d.leaseMs / 4 : this.#d.leaseMs / 2;
    this.#tick = setTimeout(() => void this.#onTick(), Math.max(10, Math.round(base * (0.9 + 0.2 * Math.random()))));
    this.#tick.unref();
  }

  #renewSoon(): void {
    clearTimeout(this.#tick);
    this.#tick = setTimeout(() => void this.#onTick(), 0);
    this.#tick.unref();
  }

  async #onTick(): Promise<void> {
    try {
      if (this.#role === 'owner') await this.#renew();
      else if (this.#role === 'mirror') await this.#watch();
    } catch (err) {
      this.#g.warn(err, 'singleton tick failed');
    } finally {
      this.#schedule();
    }
  }

  /** Whether the owner may still serve, by its own clock. */
  #leaseValid(): boolean {
    return this.#d.testOnlyIgnoreLocalLease === true || performance.now() < this.#validUntil;
  }

  async #renew(): Promise<void> {
    if (!this.#leaseValid()) return this.#demote('lease-expired');
    const token = this.#token;
    const sentAt = performance.now();
    const wall = Date.now();
    const r = await this.#g.store.renew(this.#k, this.#g.instanceId, token, this.#d.leaseMs);
    if (this.#role !== 'owner' || this.#token !== token) return;
    this.#g.clock.sample(r.nowMs, wall);
    if (r.status === 'taken') {
      this.#see(r.token);
      this.#holder = r.owner;
      return this.#demote('superseded');
    }
    if (r.status === 'renewed') {
      this.#validUntil = Math.max(this.#validUntil, sentAt + this.#d.leaseMs * LEASE_TRUST);
      if (r.seq >= this.#seq) return;
    }
    // The lease is gone while this owner's own clock says it is valid, or Redis kept fewer commits than were made:
    // Redis lost writes (restarted empty, or failed over to a replica that missed them). Claim again under a new,
    // larger token and commit the state this owner still holds.
    if (!(await this.#claim(0, true))) this.#demote('superseded');
  }

  /** A mirror's look at the lease: claims when nobody holds it (eager), and re-sends calls to a new holder. */
  async #watch(): Promise<void> {
    const wall = Date.now();
    const r = await this.#g.store.peek(this.#k, false);
    if (this.#role !== 'mirror') return;
    this.#g.clock.sample(r.nowMs, wall);
    this.#see(Math.max(r.token, r.lastToken));
    this.#holder = r.owner;
    if (r.seq > this.#seq) void this.#resync();
    if (r.token === 0 && this.#d.eager) this.#claimEagerly(r.lastToken);
  }

  /**
   * Claims now, unless this instance is the one that released `lastToken`: then it leaves the others a head start
   * (the point of a release is a hand-off) and claims only if nobody did meanwhile.
   */
  #claimEagerly(lastToken: number): void {
    if (lastToken !== this.#releasedToken) {
      void this.#claim(0);
      return;
    }
    setTimeout(() => {
      if (this.#role === 'mirror' && this.#holder === '') void this.#claim(0);
    }, Math.min(25, this.#d.leaseMs / 10)).unref();
  }

  #see(token: number): void {
    if (token > this.#known) this.#known = token;
  }

  /**
   * Tries to take the lease (`breakToken`: the holder under that token was found unreachable). One attempt at a
   * time; resolves true when this instance owns the singleton afterwards.
   */
  #claim(breakToken: number, reclaim = false): Promise<boolean> {
    if (this.#role === 'closed') return Promise.resolve(false);
    if (this.#role === 'owner' && !reclaim) return Promise.resolve(true);
    if (this.#claiming !== undefined) {
      // The attempt in flight may have started before the reason for this one (a release it did not see): one more.
      this.#claimAgain = true;
      return this.#claiming;
    }
    this.#claiming = this.#claimOnce(breakToken).finally(() => {
      this.#claiming = undefined;
      if (!this.#claimAgain) return;
      this.#claimAgain = false;
      if (this.#role === 'mirror' && this.#holder === '') void this.#claim(0);
    });
    return this.#claiming;
  }

  async #claimOnce(breakToken: number): Promise<boolean> {
    try {
      // Listen before the lease is ours: a forward that finds nobody listening would break a fresh lease.
      await this.#g.listen(this.#k.requests, this);
      const sentAt = performance.now();
      const wall = Date.now();
      const r = await this.#g.store.claim(this.#k, this.#g.instanceId, this.#d.leaseMs, this.#known, breakToken);
      this.#g.clock.sample(r.nowMs, wall);
      if (this.#role === 'closed') return false;
      if (!r.claimed) {
        this.#see(r.token);
        this.#holder = r.owner;
        if (this.#role !== 'owner') await this.#g.unlisten(this.#k.requests);
        return false;
      }
      await this.#become(r, sentAt);
      return this.#role === 'owner';
    } catch (err) {
      this.#g.warn(err, 'claim failed');
      if (this.#role !== 'owner') await this.#g.unlisten(this.#k.requests);
      return false;
    }
  }

  async #become(r: Extract<ClaimResult, { claimed: true }>, sentAt: number): Promise<void> {
    const wasOwner = this.#role === 'owner';
    this.#token = r.token;
    this.#see(r.token);
    this.#holder = this.#g.instanceId;
    this.#validUntil = sentAt + this.#d.leaseMs * LEASE_TRUST;
    // Redis holds fewer commits than this instance has seen: it lost writes, and the copy here is the freshest.
    const restore = this.#seq > r.seq;
    if (!restore) {
      this.#fields.load(r.fields, r.seq);
      this.#seq = r.seq;
    }
    this.#role = 'owner';
    this.#schedule();
    // Also on a re-claim by the owner (Redis lost its lease): the token it serves under changed.
    this.#g.log?.info({ singleton: this.name, token: r.token, reclaim: wasOwner }, 'singleton acquired');
    this.emit('acquired', { token: r.token });
    if (restore && !(await this.#restore())) return;
    for (const call of this.#calls.values()) if (!call.queued) this.#enqueueLocal(call);
    this.#kick();
  }

  /** Commits the whole state this owner holds under its token, ahead of what Redis kept. */
  async #restore(): Promise<boolean> {
    const change = this.#fields.everything();
    const seq = this.#seq + 1;
    const token = this.#token;
    const r = await this.#g.store
      .commit(this.#k, {
        owner: this.#g.instanceId, token, baseSeq: this.#seq, seq, deadline: 0, leaseMs: this.#d.leaseMs,
        idempotencyKey: '', result: '', keepMs: this.#d.idempotencyTtlMs, keepMax: this.#d.maxIdempotencyKeys,
        delta: encodeDelta(this.#g.signer, this.#k.events, token, seq, true, change.setJson, change.del),
        replyChannel: '', reply: '', restore: true, set: change.set, del: change.del,
      })
      .catch((err: unknown) => {
        this.#g.warn(err, 'restore commit failed');
        return null;
      });
    if (r === null || this.#token !== token) return false;
    if (r.status === 'committed') {
      this.#g.log?.warn({ singleton: this.name, token, seq }, 'singleton state restored: redis had lost writes');
      this.#seq = seq;
      this.emit('state', { state: this.#fields.value, seq });
      return true;
    }
    if (r.status === 'behind') return true; // Redis is at least as far as this copy after all: nothing to restore.
    this.#demote('fenced');
    return false;
  }

  #demote(reason: LostReason): void {
    if (this.#role !== 'owner') return;
    const token = this.#token;
    this.#role = 'mirror';
    this.#token = 0;
    this.#fields.reset();
    this.#done.clear();
    for (const job of this.#queue.drain()) this.#handBack(job);
    this.#g.log?.info({ singleton: this.name, token, reason }, 'singleton lost');
    void this.#g.unlisten(this.#k.requests);
    const now = Date.now();
    // Nothing is served past the local lease estimate, whenever the loss is noticed (a blocked event loop learns late).
    const servedUntil = this.#d.testOnlyIgnoreLocalLease === true ? now : now - Math.max(0, performance.now() - this.#validUntil);
    this.emit('lost', { token, reason, servedUntil: Math.round(servedUntil) });
    this.#schedule();
    void this.#resync();
  }

  /** A job this instance will not run: a local call goes to the next owner, a remote caller is told to retry. */
  #handBack(job: Job): void {
    if (job.call !== undefined) {
      job.call.queued = false;
      if (this.#calls.has(job.call.id)) this.#retryLater(job.call, 5);
      return;
    }
    void this.#publishError(job, ErrorCodes.SINGLETON_OWNERSHIP_LOST, `singleton ${this.name} changed owner`);
  }

  // ---- the caller's side -------------------------------------------------------------------------------------

  #dispatch(call: Call): void {
    if (this.#role === 'owner') return this.#enqueueLocal(call);
    void this.#forward(call);
  }

  #enqueueLocal(call: Call): void {
    clearTimeout(call.retryTimer);
    if (this.#queue.full) {
      this.#settle(call, this.#error(ErrorCodes.SINGLETON_OVERLOADED, `singleton ${this.name}: queue full`));
      return;
    }
    call.queued = true;
    call.reached = true;
    this.#queue.push({
      id: call.id, key: call.key, action: call.action, payload: call.payload, deadline: call.deadline,
      caller: this.#g.instanceId, call,
    });
    this.#kick();
  }

  async #forward(call: Call): Promise<void> {
    if (!this.#calls.has(call.id) || this.#role === 'closed') return;
    if (this.#role === 'owner') return this.#enqueueLocal(call);
    const message = encodeRequest(this.#g.signer, this.#k.requests, {
      id: call.id, caller: this.#g.instanceId, action: call.action, payload: call.payload, deadline: call.deadline, key: call.key,
    });
    let r;
    try {
      r = await this.#g.store.forward(this.#k, message);
    } catch {
      return this.#retryLater(call, 50);
    }
    if (!this.#calls.has(call.id)) return;
    if (r.status === 'sent') {
      call.sentToken = r.token;
      call.reached = true;
      this.#see(r.token);
      this.#holder = r.owner;
      // No answer within a lease: the request or its reply was lost (a reconnect); send it again (same key).
      return this.#retryLater(call, this.#d.leaseMs);
    }
    const owned = await this.#claim(r.status === 'unreachable' ? r.token : 0);
    if (!this.#calls.has(call.id)) return;
    if (owned) this.#dispatch(call);
    else this.#retryLater(call, 10);
  }

  #retryLater(call: Call, ms: number): void {
    clearTimeout(call.retryTimer);
    const left = call.deadline - this.#g.clock.now();
    if (left <= 0) return;
    call.retryTimer = setTimeout(() => this.#dispatch(call), Math.min(ms, left));
  }

  /** A new owner appeared (token `below`): calls sent to an older one go again now. */
  #resendAll(below: number): void {
    for (const call of this.#calls.values()) {
      if (!call.queued && call.sentToken < below) this.#retryLater(call, 0);
    }
  }

  #onReply(raw: string): void {
    const m = decodeReply(this.#g.signer, this.#replyChannel, raw);
    if (typeof m === 'string') return this.#g.count(m);
    const call = this.#calls.get(m.id);
    if (call === undefined || call.queued) return; // late, repeated, or replayed
    if (m.ok) return this.#settle(call, null, m.result);
    if (m.code === ErrorCodes.SINGLETON_OWNERSHIP_LOST) return this.#retryLater(call, 5);
    const code: SingletonErrorCode = isSingletonErrorCode(m.code) ? m.code : ErrorCodes.SINGLETON_ACTION_FAILED;
    this.#settle(call, this.#error(code, m.message));
  }

  #expire(call: Call): void {
    if (!this.#calls.has(call.id)) return;
    if (!call.reached) {
      return this.#settle(call, this.#error(ErrorCodes.SINGLETON_NO_OWNER, `singleton ${this.name}: no owner could be reached or claimed`));
    }
    this.#settle(call, this.#error(ErrorCodes.SINGLETON_DEADLINE, `singleton ${this.name}: ${call.action} missed its deadline`));
  }

  #settle(call: Call, err: Error | null, value?: unknown): void {
    if (!this.#calls.delete(call.id)) return;
    clearTimeout(call.deadlineTimer);
    clearTimeout(call.retryTimer);
    if (err === null) call.resolve(value);
    else call.reject(err);
  }

  #error(code: SingletonErrorCode, message: string): SingletonError {
    return new SingletonError(code, this.name, message);
  }

  // ---- the owner's side --------------------------------------------------------------------------------------

  #onRequest(raw: string): void {
    const m = decodeRequest(this.#g.signer, this.#k.requests, raw);
    if (typeof m === 'string') return this.#g.count(m);
    // Meant for another holder or an older lease of this one: not ours to run.
    if (this.#role !== 'owner' || m.token !== this.#token || m.owner !== this.#g.instanceId) {
      this.#see(m.token);
      if (this.#role === 'owner' && m.token > this.#token) this.#renewSoon();
      return;
    }
    if (m.deadline <= this.#g.clock.now()) return this.#g.count('expired');
    const job: Job = { ...m, call: undefined };
    const done = this.#done.get(m.key);
    if (done === PENDING) return; // a re-sent request already queued or running: it is answered once
    if (done !== undefined) return void this.#publishOk(job, done);
    if (this.#queue.full) return void this.#publishError(job, ErrorCodes.SINGLETON_OVERLOADED, `singleton ${this.name}: queue full`);
    this.#remember(m.key, PENDING);
    this.#queue.push(job);
    this.#kick();
  }

  #remember(key: string, value: string): void {
    this.#done.delete(key);
    this.#done.set(key, value);
    if (this.#done.size > this.#d.maxQueue * 2) this.#done.delete(this.#done.keys().next().value as string);
  }

  #kick(): void {
    if (this.#draining !== undefined || this.#role !== 'owner' || this.#releasing) return;
    this.#draining = this.#drain().finally(() => {
      this.#draining = undefined;
      if (this.#queue.length > 0) this.#kick();
    });
  }

  async #drain(): Promise<void> {
    while (this.#role === 'owner' && !this.#releasing) {
      const job = this.#queue.shift();
      if (job === undefined) return;
      if (!this.#leaseValid()) {
        this.#queue.unshift(job);
        return this.#demote('lease-expired');
      }
      const again = await this.#runJob(job);
      if (again) {
        if (this.#role === 'owner') this.#queue.unshift(job);
        else this.#handBack(job);
        await new Promise((r) => setTimeout(r, 20));
      }
    }
  }

  /** Runs one job; true when it must run again (Redis could not be reached, or the snapshot had to be re-read). */
  async #runJob(job: Job): Promise<boolean> {
    if (job.call !== undefined && !this.#calls.has(job.call.id)) return false; // its caller gave up
    if (job.deadline <= this.#g.clock.now()) {
      this.#g.count('expired');
      return this.#fail(job, ErrorCodes.SINGLETON_DEADLINE, `${job.action} missed its deadline`), false;
    }
    const fn = this.#d.actions.get(job.action);
    if (fn === undefined) return this.#fail(job, ErrorCodes.SINGLETON_UNKNOWN_ACTION, `no action ${JSON.stringify(job.action)}`), false;
    const token = this.#token;
    const context: ActionContext = { name: this.name, token, caller: job.caller, deadline: job.deadline, key: job.key };
    let result: unknown;
    try {
      result = fn(this.#fields.value, job.payload as never, context);
      if (isThenable(result)) result = await this.#bounded(result, job.deadline);
    } catch (err) {
      this.#fields.reset();
      if (err === LATE) return this.#fail(job, ErrorCodes.SINGLETON_DEADLINE, `${job.action} missed its deadline`), false;
      return this.#fail(job, ErrorCodes.SINGLETON_ACTION_FAILED, err instanceof Error ? err.message : String(err)), false;
    }
    if (this.#role !== 'owner' || this.#token !== token) {
      this.#fields.reset();
      return true;
    }
    let change;
    let resultJson: string;
    try {
      change = this.#fields.diff();
      resultJson = JSON.stringify(result) ?? 'null';
    } catch (err) {
      this.#fields.reset();
      return this.#fail(job, ErrorCodes.SINGLETON_ACTION_FAILED, `not JSON: ${(err as Error).message}`), false;
    }
    return this.#commit(job, token, change, resultJson, result);
  }

  async #commit(job: Job, token: number, change: ReturnType<FieldState['diff']>, resultJson: string, result: unknown): Promise<boolean> {
    const seq = change === null ? this.#seq : this.#seq + 1;
    const replyChannel = job.call === undefined ? this.#k.reply(job.caller) : '';
    const sentAt = performance.now();
    let r;
    try {
      r = await this.#g.store.commit(this.#k, {
        owner: this.#g.instanceId, token, baseSeq: this.#seq, seq, deadline: job.deadline - REPLY_MARGIN_MS,
        leaseMs: this.#d.leaseMs, idempotencyKey: job.key, result: resultJson,
        keepMs: this.#d.idempotencyTtlMs, keepMax: this.#d.maxIdempotencyKeys,
        delta: change === null ? '' : encodeDelta(this.#g.signer, this.#k.events, token, seq, false, change.setJson, change.del),
        replyChannel, reply: replyChannel === '' ? '' : replyOk(this.#g.signer, replyChannel, job.id, resultJson, token),
        restore: false, set: change?.set ?? [], del: change?.del ?? [],
      });
    } catch (err) {
      // Unknown whether it landed: undo here, and let the snapshot and the idempotency key decide on the retry.
      this.#fields.reset();
      this.#g.warn(err, 'commit failed');
      await this.#resync(true);
      return true;
    }
    switch (r.status) {
      case 'committed':
        if (change !== null) this.#fields.accept(change);
        this.#seq = seq;
        this.#validUntil = Math.max(this.#validUntil, sentAt + this.#d.leaseMs * LEASE_TRUST);
        this.#remember(job.key, resultJson);
        if (job.call !== undefined) this.#settle(job.call, null, result);
        if (change !== null) this.emit('state', { state: this.#fields.value, seq });
        return false;
      case 'duplicate':
        this.#fields.reset();
        this.#remember(job.key, r.result);
        if (job.call !== undefined) this.#settle(job.call, null, JSON.parse(r.result));
        else void this.#publishOk(job, r.result);
        return false;
      case 'late':
        this.#fields.reset();
        this.#g.count('expired');
        this.#fail(job, ErrorCodes.SINGLETON_DEADLINE, `${job.action} missed its deadline`);
        return false;
      case 'behind':
        this.#fields.reset();
        await this.#resync(true);
        return true;
      case 'fenced':
        this.#fields.reset();
        this.#g.count('fenced');
        if (this.#token !== token) return true; // re-claimed meanwhile under a newer token of this instance
        this.#see(r.token);
        this.#demote('fenced');
        return true;
    }
  }

  /** Resolves with the action's promise, or rejects with LATE at the deadline (the action's late writes are detached). */
  #bounded(p: PromiseLike<unknown>, deadline: number): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(LATE), Math.max(0, deadline - this.#g.clock.now()));
      p.then(
        (v) => {
          clearTimeout(timer);
          resolve(v);
        },
        (e: unknown) => {
          clearTimeout(timer);
          reject(e);
        },
      );
    });
  }

  #fail(job: Job, code: SingletonErrorCode, message: string): void {
    this.#done.delete(job.key);
    if (job.call !== undefined) this.#settle(job.call, this.#error(code, `singleton ${this.name}: ${message}`));
    else void this.#publishError(job, code, `singleton ${this.name}: ${message}`);
  }

  async #publishOk(job: Job, resultJson: string): Promise<void> {
    const channel = this.#k.reply(job.caller);
    await this.#g.store.publish(channel, replyOk(this.#g.signer, channel, job.id, resultJson, this.#token)).catch(() => undefined);
  }

  async #publishError(job: Job, code: SingletonErrorCode, message: string): Promise<void> {
    const channel = this.#k.reply(job.caller);
    await this.#g.store.publish(channel, replyError(this.#g.signer, channel, job.id, code, message, this.#token)).catch(() => undefined);
  }

  // ---- the mirror's side -------------------------------------------------------------------------------------

  #onDelta(m: Extract<EventMessage, { kind: 'delta' }>): void {
    this.#see(m.token);
    if (this.#role === 'owner') {
      if (m.token > this.#token) this.#renewSoon();
      return;
    }
    if (this.#resyncing) {
      if (this.#buffered.length < MAX_BUFFERED_DELTAS) this.#buffered.push(m);
      else this.#resyncAgain = true;
      return;
    }
    this.#applyDelta(m);
  }

  #applyDelta(m: Extract<EventMessage, { kind: 'delta' }>): void {
    if (m.seq <= this.#seq) return;
    if (m.seq !== this.#seq + 1 && !m.restore) return void this.#resync();
    const state = this.#fields.apply(m.set, m.del, m.restore);
    this.#seq = m.seq;
    this.emit('state', { state, seq: m.seq });
  }

  /**
   * Reads the lease and the committed snapshot. A mirror takes the snapshot unless it is behind this copy (Redis
   * lost writes: the next owner restores this copy); `owner` set: the owner re-reads after a doubtful commit.
   */
  async #resync(owner = false): Promise<void> {
    if (this.#resyncing) {
      this.#resyncAgain = true;
      return;
    }
    this.#resyncing = true;
    this.#buffered = [];
    try {
      do {
        this.#resyncAgain = false;
        const wall = Date.now();
        const r = await this.#g.store.peek(this.#k, true).catch(() => null);
        if (r === null) {
          if (!owner) setTimeout(() => void this.#resync(), 100).unref();
          return;
        }
        this.#g.clock.sample(r.nowMs, wall);
        this.#see(Math.max(r.token, r.lastToken));
        if (this.#role === 'mirror') this.#holder = r.owner;
        if (this.#role === 'closed' || (this.#role === 'owner') !== owner) return;
        if (owner && r.seq < this.#seq) {
          // Redis holds fewer commits than this owner made: claim again under a newer token and restore them.
          await this.#claim(0, true);
          return;
        }
        if (r.seq >= this.#seq) {
          this.#fields.load(r.fields, r.seq);
          const changed = r.seq !== this.#seq || !owner;
          this.#seq = r.seq;
          if (changed) this.emit('state', { state: this.#fields.value, seq: r.seq });
        }
        if (!owner) {
          const buffered = this.#buffered.sort((a, b) => a.seq - b.seq);
          this.#buffered = [];
          for (const d of buffered) this.#applyDelta(d);
        }
      } while (this.#resyncAgain);
    } finally {
      this.#resyncing = false;
    }
  }
}

const LATE = Symbol('late');

function isThenable(v: unknown): v is PromiseLike<unknown> {
  return typeof v === 'object' && v !== null && typeof (v as { then?: unknown }).then === 'function';
}
