/**
 * @module coordinator/store/types: what the destination coordinator keeps in Redis, and the one typed interface the
 * registry layer calls. Each method is ONE Redis command (one Lua script, or one plain read), so a cold resolve and
 * a claim each cost one round trip.
 *
 * Key schema (every key inside one hash tag, so every script works on Redis Cluster; the price is that one
 * coordinator prefix lives in one slot):
 * - `{p}:co:members`                   ZSET  memberId -> expiry (epoch ms): the index, pruned of expired members
 * - `{p}:co:member:<memberId>`         HASH  address, load, metadata; PEXPIRE ttl, refreshed by heartbeat
 * - `{p}:co:member-locks:<memberId>`   SET   lock ids owned by the member (removed with it; not under `member:` so a
 *                                     member id ending in `:locks` cannot collide with it)
 * - `{p}:co:dest:<destinationId>`      SET   owning member ids (no TTL: outlives its owners, so orphans are seen)
 * - `{p}:co:epochs`                    HASH  destinationId -> fencing epoch: max(last + 1, server ms) on claim and
 *                                     reassignment, so it never goes back, even after a lost write
 * - `{p}:co:lock:<lockId>`             HASH  memberId, destinationId, metadata; PEXPIRE lock ttl
 * - channel `{p}:co:events`            JSON CoordinatorEvent messages (cache invalidation, member up/down)
 */

/** A live member as the registry sees it. */
export interface MemberRecord {
  readonly memberId: string;
  readonly address: string;
  /** The member's load figure from its last heartbeat (0 without `getLoad`). */
  readonly load: number;
}

/** The outcome of one resolution script. */
export type ResolveOutcome =
  /** A live owner (dead owners in the set were removed by the same script). */
  | { readonly kind: 'owner'; readonly member: MemberRecord; readonly epoch: number }
  /**
   * The set was empty and `candidate` (or, if it was dead, another live member) was bound: a new epoch.
   * `confirmed: false` when fewer replicas than asked hold it (see `confirmReplicas`).
   */
  | { readonly kind: 'claimed'; readonly member: MemberRecord; readonly epoch: number; readonly confirmed?: false }
  /** Every owner was dead and a live member replaced them: a new epoch (`confirmed` as for a claim). */
  | {
      readonly kind: 'reassigned';
      readonly member: MemberRecord;
      readonly epoch: number;
      readonly previous: readonly string[];
      readonly confirmed?: false;
    }
  /** Every owner is dead and no reassignment was asked (or no live member exists). */
  | { readonly kind: 'orphaned'; readonly owners: readonly string[]; readonly epoch: number }
  /** No binding, and no claim asked (or no live member to claim with). */
  | { readonly kind: 'unbound' };

export interface ResolveRequest {
  readonly destinationId: string;
  /** Bind when the set is empty. */
  readonly claimOnMiss: boolean;
  /** Replace owners that are all dead. */
  readonly reassignOrphans: boolean;
  /**
   * The member the caller's strategy would pick (from its local member list), used for a claim or reassignment
   * when alive; if it is not, the script takes the least-loaded live member itself.
   */
  readonly candidate: string | null;
  /**
   * A member the caller just failed to reach (connection refused: nothing listens there). It counts as dead for
   * this resolution only: its record and set entry stay, but it is neither returned nor picked, so a destination
   * it owned alone is reassigned (with `reassignOrphans`) before its record expires. The new epoch fences it off
   * should it come back. Default none.
   */
  readonly suspect?: string | null | undefined;
}

/** Published on `{p}:co:events`; every registry applies them to its cache and member list. */
export type CoordinatorEvent =
  | { readonly type: 'member:up'; readonly member: MemberRecord }
  | { readonly type: 'member:down'; readonly memberId: string; readonly reason: 'deregistered' | 'expired' }
  /** The owner set of a destination changed (claim, reassignment, add, remove, deregistration). */
  | { readonly type: 'binding'; readonly destinationId: string; readonly epoch: number }
  | { readonly type: 'lock'; readonly lockId: string };

export interface LockRecord {
  readonly lockId: string;
  readonly memberId: string;
  readonly destinationId: string;
  readonly metadata: Readonly<Record<string, unknown>>;
}

/**
 * Typed wrappers over the coordinator scripts. Implemented in `store/` (the only code that imports ioredis);
 * the registry layer above never sees Redis. All methods reject with `StoreUnavailableError` when Redis cannot be
 * reached and `StoreScriptError` on a broken invariant.
 */
export interface CoordinatorStore {
  /** Whether the command connection is ready now: a call made now is sent at once instead of waiting. */
  readonly available: boolean;
  /** Writes the full member record (address, load), PEXPIREs it, adds it to the index; publishes `member:up` when it was absent. */
  putMember(member: MemberRecord, ttlMs: number): Promise<void>;
  /** Same script as `putMember`, plus refreshing the TTL of the member's locks (heartbeat after expiry restores the member). */
  heartbeat(member: MemberRecord, ttlMs: number, lockTtlMs: number): Promise<void>;
  /** Removes the record, its index entry and its locks; publishes `member:down` (deregistered). */
  removeMember(memberId: string): Promise<void>;
  /** Live members (expired index entries pruned, a `member:down` (expired) published for each). One script. */
  liveMembers(): Promise<MemberRecord[]>;
  /** The resolution script: read the owner set and the owners' records together, decide, write, publish `binding` on change. */
  resolve(request: ResolveRequest): Promise<ResolveOutcome>;
  /** Adds a member to a destination's owner set (fan-out); publishes `binding`. True when confirmed (see `resolve`). */
  addOwner(destinationId: string, memberId: string): Promise<boolean>;
  /** Removes a member from a destination's owner set; publishes `binding`. */
  removeOwner(destinationId: string, memberId: string): Promise<void>;
  /** Whether the destination has an owner set. */
  hasBinding(destinationId: string): Promise<boolean>;
  /** Deletes the owner set (and its epoch); publishes `binding`. */
  removeBinding(destinationId: string): Promise<void>;
  /** Writes a lock owned by `memberId` (metadata cannot override it), TTL `ttlMs`; tracked in the member's lock set. */
  putLock(lock: LockRecord, ttlMs: number): Promise<void>;
  /** Removes a lock (only when owned by `memberId`); publishes `lock`. */
  removeLock(lockId: string, memberId: string): Promise<void>;
  /** The lock and its owner's record when the owner is alive; `owner: null` when the lock exists but its owner is dead. */
  resolveLock(lockId: string): Promise<{ lock: LockRecord; owner: MemberRecord | null } | null>;
  /** Subscribes `listener` to the coordinator channel (a separate subscriber connection). */
  subscribe(listener: (event: CoordinatorEvent) => void): Promise<void>;
  /** Idempotent; an injected ioredis client is not closed. */
  close(): Promise<void>;
}
