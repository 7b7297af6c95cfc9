/**
 * @module rooms/room: one room as seen from this instance. Every message (events, joins and leaves, state changes)
 * is numbered and published by one script, so all members on all instances see one order; the channel is
 * subscribed only while this instance has local subscribers; presence is renewed while it has local members.
 */
import { ErrorCodes, RoomError } from '../errors.js';
import { decodeJson, encodeJson } from './json-text.js';
import type { RoomLink } from './room-link.js';
import { BodySigner, parseEnvelope, toMessage, type Envelope, type RoomMessage } from './room-messages.js';
import { RoomFeed, type HistoryPage } from './room-feed.js';
import type { ResolvedRoomOptions } from './room-options.js';
import { offer, release, type RoomHandler, type Subscriber } from './room-subscribers.js';
import type { AppendOptions, RoomKeys } from './store/index.js';

export interface SubscribeOptions {
  /**
   * The first number wanted: the history from it is delivered first (a client that reconnects with the last
   * number it saw passes that + 1). Past the history, a `resync` comes first. Default: from now on.
   */
  readonly fromSeq?: number;
  /** The epoch `fromSeq` belongs to (messages carry it); another epoch means a `resync`. */
  readonly epoch?: string;
}

export interface RoomMember {
  readonly id: string;
  readonly instanceId: string;
  readonly meta: unknown;
}

export interface RoomState<S> {
  readonly state: S;
  /** Goes up by one with every change. */
  readonly version: number;
  /** The room's position when read. */
  readonly seq: number;
  readonly epoch: string;
}

export interface StateChange {
  readonly seq: number;
  readonly version: number;
}

/** Messages per history read. */
const PAGE = 500;
/** Members expired per script call. */
const EXPIRE_BATCH = 500;

export class Room {
  readonly name: string;
  readonly keys: RoomKeys;
  readonly options: ResolvedRoomOptions;
  readonly #link: RoomLink;
  readonly #append: AppendOptions;
  readonly #body: BodySigner;
  readonly #subs = new Set<Subscriber>();
  /** Local members: id -> meta JSON (kept to rejoin one that another instance expired while this one was paused). */
  readonly #members = new Map<string, string>();
  #feed: RoomFeed | null = null;
  #opening: Promise<RoomFeed> | null = null;
  #timer: NodeJS.Timeout | undefined;
  #renewedAt = 0;
  /** Every instance's alive-until (server ms) at this instance's last look, and when that was. */
  #alive: { until: ReadonlyMap<string, number>; serverMs: number; localMs: number } | null = null;
  #closed = false;
  readonly #onClose: (room: Room) => void;
  readonly #call = (sub: Subscriber, m: RoomMessage): void => {
    try {
      sub.handler(m);
    } catch (err) {
      this.#link.count('handlerErrors');
      this.#link.warn(err, `room ${this.name}: a subscriber threw`);
    }
  };

  constructor(name: string, keys: RoomKeys, options: ResolvedRoomOptions, link: RoomLink, onClose: (room: Room) => void) {
    this.name = name;
    this.keys = keys;
    this.options = options;
    this.#link = link;
    this.#onClose = onClose;
    this.#append = {
      historyLength: options.historyLength,
      historyMaxAgeMs: options.historyMaxAgeMs,
      sharded: link.sharded,
      stateTtlMs: options.stateTtlMs,
    };
    this.#body = new BodySigner(link.signer, keys.channel, link.instanceId);
  }

  /** Local subscribers now. */
  get subscribers(): number {
    return this.#subs.size;
  }

  /** Members that joined through this instance. */
  get localMembers(): readonly string[] {
    return [...this.#members.keys()];
  }

  /** Publishes `event` to every subscriber of the room on every instance (this one too); resolves with its number. */
  async publish(event: string, data?: unknown): Promise<number> {
    this.#open();
    if (typeof event !== 'string') throw new TypeError('room event name must be a string');
    return (await this.#link.store.publish(this.keys, this.#append, this.#body.event(event, data))).seq;
  }

  /**
   * Delivers every message of the room to `handler`, in order, once. Resolves once it follows the room (after the
   * history it asked for); the function it resolves with unsubscribes.
   */
  async subscribe(handler: RoomHandler, options: SubscribeOptions = {}): Promise<() => Promise<void>> {
    this.#open();
    if (typeof handler !== 'function') throw new TypeError('room subscriber must be a function');
    if (this.#subs.size >= this.#link.maxPerRoom) {
      throw new RoomError(ErrorCodes.ROOM_LIMIT, this.name, `room ${this.name} has ${this.#subs.size} local subscribers (maxPerRoom)`);
    }
    const from = options.fromSeq;
    if (from !== undefined && (!Number.isSafeInteger(from) || from < 1)) throw new TypeError(`fromSeq must be a whole number >= 1, got ${String(from)}`);
    const feed = await this.#listen();
    const sub: Subscriber = { handler, next: feed.next, queue: null, overflowed: false };
    const otherEpoch = options.epoch !== undefined && options.epoch !== feed.epoch;
    if (from !== undefined && !otherEpoch && from > feed.next) {
      // Ahead of this instance's feed: the feed is a moment behind (the number exists in Redis: the feed brings it),
      // or the position is from a numbering Redis lost. The subscriber is held meanwhile, so nothing is missed.
      sub.queue = [];
      this.#subs.add(sub);
      const head = await this.#read(0, 0);
      if (head.epoch === feed.epoch && from <= head.seq + 1) {
        sub.next = from;
        release(sub, this.#call);
      } else {
        await this.#catchUp(sub, feed, null, from);
      }
    } else if (from !== undefined && (from < feed.next || otherEpoch)) {
      sub.queue = [];
      this.#subs.add(sub);
      await this.#catchUp(sub, feed, otherEpoch ? null : from, from);
    } else {
      this.#subs.add(sub);
    }
    let done = false;
    return async () => {
      if (done) return;
      done = true;
      this.#subs.delete(sub);
      if (this.#subs.size === 0) await this.#unlisten();
    };
  }

  /** `member` joins (or joins again, or moves here); every subscriber gets a `join`. Resolves with its number. */
  async join(member: string, meta?: unknown): Promise<number> {
    this.#open();
    checkMember(member);
    if (!this.#members.has(member) && this.#members.size >= this.#link.maxPerRoom) {
      throw new RoomError(ErrorCodes.ROOM_LIMIT, this.name, `room ${this.name} has ${this.#members.size} local members (maxPerRoom)`);
    }
    const metaJson = meta === undefined ? 'null' : JSON.stringify(meta);
    this.#members.set(member, metaJson);
    this.#arm();
    const sent = Date.now();
    const r = await this.#link.store.join(this.keys, this.#append, this.#body.join(member, metaJson), member, this.#link.instanceId, metaJson, this.options.presenceTtlMs);
    this.#renewedAt = sent;
    return r.seq;
  }

  /** `member` leaves; resolves with the `leave`'s number, or null when it is not a member through this instance. */
  async leave(member: string): Promise<number | null> {
    this.#open();
    checkMember(member);
    this.#members.delete(member);
    const r = await this.#link.store.leave(this.keys, this.#append, this.#body.leave(member, 'left'), member, this.#link.instanceId);
    this.#disarmIfIdle();
    return r === null ? null : r.seq;
  }

  /** Every member on every live instance, in one Redis call. */
  async members(): Promise<RoomMember[]> {
    this.#open();
    const flat = await this.#link.store.members(this.keys);
    const out: RoomMember[] = [];
    for (let i = 0; i + 1 < flat.length; i += 2) {
      const value = flat[i + 1] as string;
      const bar = value.indexOf('|');
      let meta: unknown = null;
      try {
        meta = JSON.parse(value.slice(bar + 1));
      } catch {
        this.#link.count('malformed');
      }
      out.push({ id: flat[i] as string, instanceId: value.slice(0, bar), meta });
    }
    return out;
  }

  /**
   * Sets the top-level fields of `patch` (null deletes one), bumps the version and tells every subscriber, in one
   * script. Values are stored as their JSON text: arrays, nested objects and BigInts come back as written.
   */
  async mergeState(patch: Readonly<Record<string, unknown>>): Promise<StateChange> {
    this.#open();
    const { set, del } = splitPatch(patch);
    const r = await this.#link.store.merge(this.keys, this.#append, this.#body.state(set, del), null, set, del);
    if (!r.applied) throw new RoomError(ErrorCodes.ROOM_CONFLICT, this.name, 'unexpected version refusal');
    return { seq: r.seq, version: r.version };
  }

  /** Deletes the shared state; whether there was one (no message: subscribers learn it from the next read). */
  async deleteState(): Promise<boolean> {
    this.#open();
    return this.#link.store.deleteState(this.keys);
  }

  /** The shared state, its version and the room's position, read together. */
  async getState<S extends Record<string, unknown> = Record<string, unknown>>(): Promise<RoomState<S>> {
    this.#open();
    const r = await this.#link.store.state(this.keys);
    return { state: this.#decode(r.fields) as S, version: r.version, seq: r.seq, epoch: r.epoch };
  }

  /**
   * Optimistic update: `fn` gets the state and returns the next one (or changes it in place; it may be async); the fields that
   * differ are written only if nobody changed the state meanwhile, else `fn` runs again on the newer state, up to
   * `maxAttempts` times (then `ROOM_CONFLICT`). Resolves with the state written.
   */
  async updateState<S extends Record<string, unknown>>(
    fn: (state: S) => S | void | Promise<S | void>,
    options: { maxAttempts?: number } = {},
  ): Promise<RoomState<S>> {
    this.#open();
    const attempts = options.maxAttempts ?? 10;
    for (let i = 0; i < attempts; i++) {
      const read = await this.#link.store.state(this.keys);
      const state = this.#decode(read.fields) as S;
      const next = ((await fn(state)) ?? state) as Record<string, unknown>;
      const { set, del } = diffFields(read.fields, next);
      if (set.length === 0 && del.length === 0) return { state: next as S, version: read.version, seq: read.seq, epoch: read.epoch };
      const r = await this.#link.store.merge(this.keys, this.#append, this.#body.state(set, del), read.version, set, del);
      if (r.applied) return { state: next as S, version: r.version, seq: r.seq, epoch: r.epoch };
    }
    throw new RoomError(ErrorCodes.ROOM_CONFLICT, this.name, `room ${this.name}: the state changed under every one of ${attempts} attempts`);
  }

  /** After the subscriber connection came back: what was published meanwhile is read from the history. */
  onResubscribed(): void {
    this.#feed?.catchUp();
  }

  /** Local members leave (announced), subscribers are dropped and the channel unsubscribed. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#timer);
    const members = [...this.#members.keys()];
    this.#members.clear();
    await Promise.all(
      members.map((m) => this.#link.store.leave(this.keys, this.#append, this.#body.leave(m, 'left'), m, this.#link.instanceId).catch(() => null)),
    );
    this.#subs.clear();
    await this.#unlisten();
    this.#onClose(this);
  }

  // ---- subscription ----------------------------------------------------------------------------------------

  #listen(): Promise<RoomFeed> {
    if (this.#feed !== null) return Promise.resolve(this.#feed);
    this.#opening ??= this.#startFeed().finally(() => {
      this.#opening = null;
    });
    return this.#opening;
  }

  async #startFeed(): Promise<RoomFeed> {
    const feed = new RoomFeed(
      {
        read: (from, count) => this.#read(from, count),
        deliver: (env) => this.#deliver(env),
        resync: (epoch, missedFrom, resume) => this.#resync(epoch, missedFrom, resume),
        failed: (err) => this.#link.warn(err, `room ${this.name}: history read failed`),
      },
      { maxPending: this.#link.maxPending, pageSize: PAGE },
    );
    try {
      await this.#link.listen(this.keys.channel, (raw) => this.#onRaw(feed, raw));
      await feed.start();
    } catch (err) {
      feed.close();
      await this.#link.unlisten(this.keys.channel).catch(() => undefined);
      throw err;
    }
    this.#feed = feed;
    this.#arm();
    return feed;
  }

  async #unlisten(): Promise<void> {
    const feed = this.#feed;
    if (feed === null) return;
    this.#feed = null;
    feed.close();
    this.#link.count('duplicates', feed.duplicates);
    this.#disarmIfIdle();
    await this.#link.unlisten(this.keys.channel).catch((err: unknown) => this.#link.warn(err, `room ${this.name}: unsubscribe failed`));
  }

  #onRaw(feed: RoomFeed, raw: string): void {
    const env = this.#verified(raw);
    if (env !== null) feed.onLive(env);
  }

  #verified(raw: string): Envelope | null {
    const env = parseEnvelope(raw);
    if (env === null) {
      this.#link.count('malformed');
      return null;
    }
    if (!this.#body.verify(env)) {
      this.#link.count('forged');
      return null;
    }
    return env;
  }

  async #read(from: number, count: number): Promise<HistoryPage> {
    const r = await this.#link.store.history(this.keys, from, count);
    const messages: Envelope[] = [];
    for (const raw of r.messages) {
      const env = this.#verified(raw);
      if (env !== null) messages.push(env);
    }
    return { seq: r.seq, epoch: r.epoch, messages };
  }

  #deliver(env: Envelope): void {
    const m = toMessage(this.name, env);
    if (m === null) {
      this.#link.count('malformed');
      return;
    }
    if (m.type === 'leave' && m.reason === 'expired' && this.#members.has(m.member) && m.origin !== this.#link.instanceId) {
      // Another instance expired a member still connected here (this one was paused or cut off): it joins again.
      const meta = this.#members.get(m.member) as string;
      this.#link.store
        .join(this.keys, this.#append, this.#body.join(m.member, meta), m.member, this.#link.instanceId, meta, this.options.presenceTtlMs)
        .catch((err: unknown) => this.#link.warn(err, `room ${this.name}: rejoin failed`));
    }
    const max = this.#link.maxPending;
    for (const sub of this.#subs) offer(sub, m, max, this.#call);
  }

  #resync(epoch: string, missedFrom: number, resume: number): void {
    this.#link.count('resyncs');
    const m: RoomMessage = { type: 'resync', room: this.name, epoch, seq: resume, missedFrom };
    for (const sub of this.#subs) offer(sub, m, this.#link.maxPending, this.#call);
  }

  /**
   * Delivers the history from `from` up to where the room's feed was when `sub` joined, then what `sub` queued.
   * `from` null: its epoch is not the room's, so it starts with a `resync`.
   */
  async #catchUp(sub: Subscriber, feed: RoomFeed, from: number | null, asked: number): Promise<void> {
    const target = feed.next - 1;
    let at = from ?? target + 1;
    if (from === null) this.#call(sub, { type: 'resync', room: this.name, epoch: feed.epoch, seq: at, missedFrom: asked });
    try {
      while (at <= target && !this.#closed) {
        const page = await this.#read(at, PAGE);
        if (page.epoch !== feed.epoch) break;
        const first = page.messages[0];
        if (first === undefined || first.seq > at) {
          const resume = first === undefined ? target + 1 : Math.min(first.seq, target + 1);
          this.#link.count('resyncs');
          this.#call(sub, { type: 'resync', room: this.name, epoch: feed.epoch, seq: resume, missedFrom: at });
          at = resume;
        }
        for (const env of page.messages) {
          if (env.seq < at || env.seq > target) continue;
          const m = toMessage(this.name, env);
          at = env.seq + 1;
          if (m !== null) this.#call(sub, m);
        }
        if (page.messages.length < PAGE) break;
      }
    } finally {
      sub.next = Math.max(at, target + 1);
      release(sub, this.#call);
    }
  }

  // ---- presence ----------------------------------------------------------------------------------------------

  /** One timer while there are local members or subscribers: renews presence and expires dead instances. */
  #arm(): void {
    if (this.#timer !== undefined || this.#closed) return;
    this.#timer = setInterval(() => void this.#tick(), tickEvery(this.options.presenceTtlMs));
    this.#timer.unref();
  }

  #disarmIfIdle(): void {
    if (this.#members.size > 0 || this.#feed !== null || this.#timer === undefined) return;
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /**
   * A renewal when one is due, and a look at every instance's liveness when this instance is the room's sweeper (the
   * lowest id among those alive at its last look, itself included) or one it saw should have run out by now. So a
   * room costs about one script per tick whatever the number of instances, and an expiry is still seen within a
   * tick of the TTL, by the sweeper or, if it is the one that died, by the others.
   */
  async #tick(): Promise<void> {
    try {
      const ttl = this.options.presenceTtlMs;
      const now = Date.now();
      // Renewed now unless the next tick still comes within a third of the TTL of the last renewal (counted from
      // when it was sent): a pause of up to two thirds of the TTL expires nobody.
      const renew = this.#members.size > 0 && now - this.#renewedAt + tickEvery(ttl) > ttl / 3;
      if (!renew && !this.#mustLook(now)) return;
      const r = await this.#link.store.tick(this.keys, this.#link.instanceId, ttl, renew);
      if (renew) this.#renewedAt = now;
      this.#alive = { until: r.alive, serverMs: r.nowMs, localMs: now };
      for (const [instance, until] of r.alive) {
        if (instance !== this.#link.instanceId && until < r.nowMs) {
          await this.#sweep();
          break;
        }
      }
    } catch (err) {
      this.#link.warn(err, `room ${this.name}: presence renewal failed`);
    }
  }

  #mustLook(now: number): boolean {
    const seen = this.#alive;
    if (seen === null) return true;
    const server = seen.serverMs + (now - seen.localMs);
    const self = this.#link.instanceId;
    let lowest = self;
    for (const [instance, until] of seen.until) {
      if (instance === self) continue;
      if (until < server) return true;
      if (instance < lowest) lowest = instance;
    }
    return lowest === self;
  }

  /** Members of instances whose liveness ran out leave, each announced as `expired` (by any instance; once). */
  async #sweep(): Promise<void> {
    const dead = await this.#link.store.expired(this.keys, 10_000);
    for (const [instance, members] of dead) {
      if (instance === this.#link.instanceId) continue;
      for (let i = 0; i < members.length; i += EXPIRE_BATCH) {
        const pairs: string[] = [];
        for (const m of members.slice(i, i + EXPIRE_BATCH)) pairs.push(m, this.#body.leave(m, 'expired'));
        this.#link.count('expired', await this.#link.store.expire(this.keys, this.#append, instance, pairs));
      }
    }
  }

  #open(): void {
    if (this.#closed) throw new RoomError(ErrorCodes.ROOM_CLOSED, this.name, `room ${this.name} is closed`);
  }

  #decode(fields: ReadonlyMap<string, string>): Record<string, unknown> {
    const state: Record<string, unknown> = {};
    for (const [field, text] of fields) {
      try {
        state[field] = decodeJson(text);
      } catch {
        this.#link.count('malformed');
      }
    }
    return state;
  }
}

/** How often a room's presence timer ticks (ms): a third of the TTL, at most a second (the sweep's pace). */
function tickEvery(ttlMs: number): number {
  return Math.min(Math.floor(ttlMs / 3), 1000);
}

function checkMember(member: unknown): asserts member is string {
  if (typeof member !== 'string' || member === '' || member.length > 256) {
    throw new TypeError(`room member id must be a string of 1-256 characters, got ${JSON.stringify(member)}`);
  }
}

/** The patch as (field, JSON text) pairs to set and fields to delete (null or undefined). */
export function splitPatch(patch: Readonly<Record<string, unknown>>): { set: string[]; del: string[] } {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) throw new TypeError('room state patch must be an object');
  const set: string[] = [];
  const del: string[] = [];
  for (const field of Object.keys(patch)) {
    const v = patch[field];
    if (v === null || v === undefined) del.push(field);
    else set.push(field, encodeJson(v));
  }
  return { set, del };
}

/** The fields of `next` whose JSON differs from `stored`, and the stored fields `next` no longer has. */
function diffFields(stored: ReadonlyMap<string, string>, next: Record<string, unknown>): { set: string[]; del: string[] } {
  if (next === null || typeof next !== 'object' || Array.isArray(next)) throw new TypeError('updateState must return an object');
  const set: string[] = [];
  const del: string[] = [];
  for (const field of Object.keys(next)) {
    const v = next[field];
    if (v === null || v === undefined) {
      if (stored.has(field)) del.push(field);
      continue;
    }
    const text = encodeJson(v);
    if (stored.get(field) !== text) set.push(field, text);
  }
  for (const field of stored.keys()) if (!(field in next)) del.push(field);
  return { set, del };
}
