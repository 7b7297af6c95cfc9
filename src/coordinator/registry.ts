/**
 * @module coordinator/registry: the coordinator's read side. Resolves a destination (tenant, session, agent) to the
 * member that owns it, claiming it on first touch and moving it when its owners die; answers from a local cache kept
 * correct across every registry by the store's pub/sub events. Drop-in for @platformatic/coordinator's `Registry`.
 */
import { channels } from '../observe/index.js';
import { EventEmitter } from 'node:events';
import { StoreUnavailableError } from '../errors.js';
import {
  createCoordinatorStore,
  type CoordinatorEvent,
  type CoordinatorStore,
  type MemberRecord,
  type ResolveOutcome,
} from './store/index.js';
import type { Logger } from '../types.js';
import { MemberList } from './member-list.js';
import { resolveRegistryOptions, type RegistryOptions } from './registry-options.js';
import { ResolutionCache, type ResolveResult } from './resolution-cache.js';
import type { AllocationContext, AllocationStrategy } from './allocation-strategies.js';

/** A member a request can be sent to. */
export interface MemberAddress {
  readonly memberId: string;
  /** The member's base URL (`http://10.0.0.7:3000`). */
  readonly address: string;
}

export interface ResolveDestinationOptions {
  /** Bind an unbound destination to a live member (the strategy's pick) instead of answering null. Default false. */
  readonly claimOnMiss?: boolean;
  /** Move a destination whose owners are all dead to a live member. Default false. */
  readonly reassignOrphans?: boolean;
  /**
   * A member the caller just failed to reach (connection refused: nothing listens there). It counts as dead for
   * this resolution, so with `reassignOrphans` a destination it owned alone moves now rather than when its record
   * expires; the new epoch fences the old owner off should it come back. Bypasses the cache. Default none.
   */
  readonly suspect?: string | null;
}

/** Payload of `destination:reassigned`. */
export interface DestinationReassignedEvent {
  readonly destinationId: string;
  readonly memberId: string;
  readonly address: string;
  /** The dead owners it was taken from. */
  readonly previous: readonly string[];
  readonly epoch: number;
}

export type MemberDownReason = 'deregistered' | 'expired';

export interface RegistryEvents {
  /** A member joined, or came back after expiring (reported again when it came back on another address). */
  'member:up': [member: MemberRecord];
  /** A member left; `expired` when it stopped heartbeating (or when a member-list refresh found it gone). */
  'member:down': [memberId: string, reason: MemberDownReason];
  /**
   * A destination's owner set changed somewhere (claim, reassignment, owner added or removed, deregistration);
   * this registry has already dropped its cached resolution. `epoch` is 0 after a deregistration.
   */
  'destination:changed': [destinationId: string, epoch: number];
  /** THIS registry moved a destination whose owners were all dead (the resolution reports `reassigned: true`). */
  'destination:reassigned': [event: DestinationReassignedEvent];
  /** A background failure nobody awaits (subscribe, member-list refresh). Emitted only when someone listens. */
  error: [error: Error];
}

/**
 * Resolves destinations to members. One Redis round trip per cache miss (one Lua script), none per hit.
 *
 * @example
 * const registry = new Registry({ redis: 'redis://127.0.0.1:6379', keyPrefix: 'chat' });
 * const owner = await registry.resolveDestination(sessionId, { claimOnMiss: true, reassignOrphans: true });
 * if (owner?.address) await proxyTo(owner.address);
 * await registry.close();
 */
export class Registry extends EventEmitter<RegistryEvents> {
  /** Upstream request timeout (ms) for proxy helpers; the registry does not use it. */
  readonly requestTimeout: number | undefined;
  readonly keyPrefix: string;
  readonly #store: CoordinatorStore;
  readonly #strategy: AllocationStrategy;
  readonly #cache: ResolutionCache | null;
  readonly #members = new MemberList();
  readonly #timer: NodeJS.Timeout;
  readonly #logger: Logger | undefined;
  /** One function for every subscribe attempt: the store keeps a set of listeners, so a retry never doubles it. */
  readonly #listener = (event: CoordinatorEvent): void => this.#onEvent(event);
  #subscribed = false;
  #starting: Promise<void> | undefined;
  #subscribing: Promise<void> | undefined;
  #refreshing = false;
  #closed = false;
  #closing: Promise<void> | undefined;

  constructor(options: RegistryOptions) {
    super();
    const o = resolveRegistryOptions(options);
    this.requestTimeout = o.requestTimeout;
    this.keyPrefix = o.keyPrefix;
    this.#strategy = o.strategy;
    this.#cache = o.cache === false ? null : new ResolutionCache(o.cache);
    this.#logger = o.logger?.child({ component: 'registry' });
    this.#store = createCoordinatorStore(o.redis, {
      keyPrefix: o.keyPrefix,
      ...(this.#logger === undefined ? {} : { logger: this.#logger }),
      ...(o.connectTimeoutMs === undefined ? {} : { connectTimeoutMs: o.connectTimeoutMs }),
      ...(o.callTimeoutMs === undefined ? {} : { callTimeoutMs: o.callTimeoutMs }),
      ...(o.confirmReplicas === undefined ? {} : { confirmReplicas: o.confirmReplicas }),
      ...(o.layout === undefined ? {} : { layout: o.layout }),
    });
    this.#timer = setInterval(() => this.#tick(), o.memberListRefreshMs);
    this.#timer.unref();
    this.ready().catch((err: unknown) => this.#backgroundError(err));
  }

  /**
   * Resolves once this registry receives the coordinator's events and has read the member list. Not needed before
   * use: until then resolutions are simply not cached, and a claim lets Redis choose the member.
   */
  ready(): Promise<void> {
    if (this.#closed) return Promise.reject(closedError());
    this.#starting ??= this.#start().catch((err: unknown) => {
      this.#starting = undefined;
      throw err;
    });
    return this.#starting;
  }

  /** The live members with their load figures (one script, which also prunes expired members). */
  listLiveMembers(): Promise<MemberRecord[]> {
    return this.#liveMembers();
  }

  /** The strategy's pick among the live members (read from Redis), or null when none is alive. */
  async pickMember(context: AllocationContext = {}): Promise<MemberRecord | null> {
    const live = await this.#liveMembers();
    return this.#strategy.pick(live, context);
  }

  /**
   * The live member that owns `destinationId`, as @platformatic/coordinator answers:
   * - unbound: null, or with `claimOnMiss` the claimed member (null when no member is alive);
   * - a live owner: its address;
   * - every owner dead: null, or with `reassignOrphans` the new owner with `reassigned: true` (and
   *   `destination:reassigned` emitted); null when no member is alive to take it.
   * {@link resolveBinding} tells a dead binding apart from none.
   *
   * A cached live owner is answered with no Redis command and no allocation (the same frozen object each time,
   * `reassigned: false`). Only live owners are cached.
   */
  resolveDestination(destinationId: string, options?: ResolveDestinationOptions): Promise<ResolveResult | null> {
    const hit = options?.suspect == null ? this.#cache?.hit(destinationId) : undefined;
    if (hit !== undefined) return hit;
    return this.#resolveMiss(destinationId, options?.claimOnMiss === true, options?.reassignOrphans === true, options?.suspect ?? null).then(
      liveOnly,
    );
  }

  /**
   * {@link resolveDestination}, except that a destination whose owners are all dead (and not replaced) answers
   * `{ address: null, memberId: <first dead owner>, reassigned: false, epoch }` instead of null, so a caller can
   * tell "bound to a dead pod" from "unknown" in the same round trip.
   */
  resolveBinding(destinationId: string, options?: ResolveDestinationOptions): Promise<ResolveResult | null> {
    const hit = options?.suspect == null ? this.#cache?.hit(destinationId) : undefined;
    if (hit !== undefined) return hit;
    return this.#resolveMiss(destinationId, options?.claimOnMiss === true, options?.reassignOrphans === true, options?.suspect ?? null);
  }

  /** The live owner of a lock, or null when the lock is unknown or its owner is dead. Not cached. */
  async resolveLock(lockId: string): Promise<MemberAddress | null> {
    this.#assertOpen();
    const found = await this.#store.resolveLock(lockId);
    if (found === null || found.owner === null) return null;
    return { memberId: found.owner.memberId, address: found.owner.address };
  }

  /** Adds `memberId` to the destination's owners (fan-out); every registry drops its cached resolution. */
  async addPodToDestination(destinationId: string, memberId: string): Promise<void> {
    this.#assertOpen();
    await this.#store.addOwner(destinationId, memberId);
    this.#cache?.evictDestination(destinationId);
  }

  /** Removes `memberId` from the destination's owners; every registry drops its cached resolution. */
  async removePodFromDestination(destinationId: string, memberId: string): Promise<void> {
    this.#assertOpen();
    await this.#store.removeOwner(destinationId, memberId);
    this.#cache?.evictDestination(destinationId);
  }

  /** Whether the destination has owners, dead or alive. */
  async hasBinding(destinationId: string): Promise<boolean> {
    this.#assertOpen();
    return this.#store.hasBinding(destinationId);
  }

  /** Forgets the destination (owners and epoch); every registry drops its cached resolution. */
  async deregisterDestination(destinationId: string): Promise<void> {
    this.#assertOpen();
    await this.#store.removeBinding(destinationId);
    this.#cache?.evictDestination(destinationId);
  }

  /** Drops this registry's cached resolution of `destinationId`, so the next one reads Redis. */
  invalidateCache(destinationId: string): void {
    this.#cache?.evictDestination(destinationId);
  }

  /**
   * A request to `memberId` for `destinationId` failed (connection refused, reset): drops the cached resolution if
   * it still names that member, so the caller's single retry resolves afresh in Redis, where a dead owner is seen
   * once its record expires. Returns true when an entry was dropped.
   *
   * @example
   * const target = await registry.resolveDestination(id);
   * try { return await send(target.address); } catch (err) {
   *   if (!registry.reportFailure(id, target.memberId)) throw err;
   *   const fresh = await registry.resolveDestination(id, { reassignOrphans: true });
   *   if (fresh?.address == null) throw err;
   *   return await send(fresh.address); // once; never loop
   * }
   */
  reportFailure(destinationId: string, memberId: string): boolean {
    return this.#cache?.evictIfOwner(destinationId, memberId) ?? false;
  }

  /** Stops the refresh timer and closes the store (an injected Redis client stays open). Idempotent. */
  close(): Promise<void> {
    this.#closing ??= this.#shutdown();
    return this.#closing;
  }

  async #shutdown(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#timer);
    this.#cache?.clear();
    this.#members.clear();
    await this.#store.close();
  }

  async #start(): Promise<void> {
    if (!this.#subscribed) await this.#subscribe();
    // A snapshot is dropped when an event crossed it; events are rare, so a few tries settle it.
    for (let attempt = 0; attempt < 3 && !this.#members.warm; attempt++) await this.#liveMembers();
  }

  /** Subscribes once (a failed attempt may be made again by the next caller). */
  #subscribe(): Promise<void> {
    this.#subscribing ??= this.#store.subscribe(this.#listener).then(
      () => {
        this.#subscribed = true;
      },
      (err: unknown) => {
        this.#subscribing = undefined;
        throw err;
      },
    );
    return this.#subscribing;
  }

  async #resolveMiss(destinationId: string, claimOnMiss: boolean, reassignOrphans: boolean, suspect: string | null): Promise<ResolveResult | null> {
    this.#assertOpen();
    // A resolution made before the events flow cannot be cached (it could miss the event that invalidates it), so
    // the first calls of a new registry wait for its subscription, once; a subscription that fails is not waited on.
    if (!this.#subscribed && this.#cache !== null) await this.#subscribe().catch(() => undefined);
    const candidate = claimOnMiss || reassignOrphans ? this.#candidate(destinationId) : null;
    // Events reach us only once subscribed; a resolution started earlier may have missed one, so it is not cached.
    const cacheable = this.#subscribed;
    const mark = this.#cache?.begin(destinationId);
    // Redis unreachable (a failover under way): the last live owner seen is answered, marked stale, rather than
    // making the caller wait for a reply it may not get. A suspect asks for a fresh decision, so it never is.
    const known = suspect === null ? this.#cache?.lastKnown(destinationId) : undefined;
    if (known !== undefined && !this.#store.available) return known;
    let outcome: ResolveOutcome;
    try {
      outcome = await this.#store.resolve({ destinationId, claimOnMiss, reassignOrphans, candidate, suspect });
    } catch (err) {
      if (known !== undefined && err instanceof StoreUnavailableError && !this.#closed) return known;
      throw err;
    } finally {
      if (mark !== undefined) this.#cache?.end(destinationId, mark);
    }
    const result = toResult(outcome);
    const ownChange = outcome.kind === 'claimed' || outcome.kind === 'reassigned';
    if (result !== null && mark !== undefined && cacheable && !this.#closed) this.#cache?.fill(destinationId, result, mark, ownChange);
    if ((outcome.kind === 'claimed' || outcome.kind === 'reassigned') && channels.ownership.hasSubscribers) {
      const previous = outcome.kind === 'reassigned' ? outcome.previous : [];
      channels.ownership.publish({ destinationId, memberId: outcome.member.memberId, epoch: outcome.epoch, change: outcome.kind, previous });
    }
    if (outcome.kind === 'reassigned') {
      const { member, epoch, previous } = outcome;
      this.#emitSafely('destination:reassigned', { destinationId, memberId: member.memberId, address: member.address, previous, epoch });
    }
    return result;
  }

  /** The strategy's pick from the local member list, or null when the list is cold (the script then chooses). */
  #candidate(destinationId: string): string | null {
    if (!this.#members.warm) return null;
    const members = this.#members.members;
    if (members.length === 0) return null;
    try {
      return this.#strategy.pick(members, { destinationId })?.memberId ?? null;
    } catch (err) {
      // The candidate is advice: a throwing custom strategy must not fail the resolution.
      this.#backgroundError(err);
      return null;
    }
  }

  async #liveMembers(): Promise<MemberRecord[]> {
    this.#assertOpen();
    const seq = this.#members.snapshotStarted();
    const live = await this.#store.liveMembers();
    if (!this.#closed) this.#applySnapshot(live, seq);
    return live;
  }

  #applySnapshot(live: readonly MemberRecord[], seq: number): void {
    const baseline = !this.#members.warm;
    const diff = this.#members.applySnapshot(live, seq);
    if (diff === null) return;
    // Events we missed (a subscriber reconnect, or a member pruned by another registry whose event is still on its way).
    for (const memberId of diff.removed) {
      this.#cache?.evictMember(memberId);
      this.#emitSafely('member:down', memberId, 'expired');
    }
    for (const member of diff.moved) this.#cache?.evictMember(member.memberId);
    if (baseline) return;
    for (const member of diff.moved) this.#emitSafely('member:up', member);
    for (const member of diff.added) this.#emitSafely('member:up', member);
  }

  #onEvent(event: CoordinatorEvent): void {
    if (this.#closed) return;
    switch (event.type) {
      case 'binding':
        this.#cache?.evictDestination(event.destinationId, event.epoch);
        this.#emitSafely('destination:changed', event.destinationId, event.epoch);
        return;
      case 'member:up':
        // Published when the record was absent: the member may be back on another address. Rare, so drop its entries.
        this.#cache?.evictMember(event.member.memberId);
        if (this.#members.up(event.member)) this.#emitSafely('member:up', event.member);
        return;
      case 'member:down':
        this.#cache?.evictMember(event.memberId);
        if (this.#members.down(event.memberId)) this.#emitSafely('member:down', event.memberId, event.reason);
        return;
      case 'lock':
        return;
    }
  }

  #tick(): void {
    if (this.#refreshing || this.#closed) return;
    this.#refreshing = true;
    // Also how expired members are noticed: the script prunes them and publishes `member:down` to every registry.
    const work = this.#subscribed ? this.#liveMembers() : this.ready();
    work
      .catch((err: unknown) => this.#backgroundError(err))
      .finally(() => {
        this.#refreshing = false;
      });
  }

  /** Emits without letting a throwing listener break the event or resolution path that emitted. */
  #emitSafely<K extends keyof RegistryEvents>(name: K, ...args: RegistryEvents[K]): void {
    try {
      (this.emit as (name: K, ...args: RegistryEvents[K]) => boolean)(name, ...args);
    } catch (err) {
      this.#backgroundError(err);
    }
  }

  #backgroundError(err: unknown): void {
    if (this.#closed) return;
    const error = err instanceof Error ? err : new Error(String(err));
    this.#logger?.warn({ err: error }, 'registry background task failed');
    if (this.listenerCount('error') > 0) this.emit('error', error);
  }

  #assertOpen(): void {
    if (this.#closed) throw closedError();
  }
}

function closedError(): StoreUnavailableError {
  return new StoreUnavailableError('the registry is closed');
}

/** The store's outcome as platformatic's result shape (null for an unbound destination), frozen. */
function toResult(outcome: ResolveOutcome): ResolveResult | null {
  switch (outcome.kind) {
    case 'owner':
    case 'claimed':
    case 'reassigned': {
      const { member, epoch } = outcome;
      const result = { address: member.address, memberId: member.memberId, reassigned: outcome.kind === 'reassigned', epoch };
      return Object.freeze(outcome.kind !== 'owner' && outcome.confirmed === false ? { ...result, confirmed: false as const } : result);
    }
    case 'orphaned':
      return Object.freeze({ address: null, memberId: outcome.owners[0] ?? '', reassigned: false, epoch: outcome.epoch });
    case 'unbound':
      return null;
  }
}

/** A resolution with a live owner, or null (platformatic's answer for a destination whose owners are all dead). */
function liveOnly(result: ResolveResult | null): ResolveResult | null {
  return result === null || result.address === null ? null : result;
}
