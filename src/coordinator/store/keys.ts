/**
 * @module coordinator/store/keys: the destination coordinator's key schema. Every key is `{<keyPrefix>}:co:<name>`:
 * the prefix is the hash tag, so every coordinator key shares one Redis Cluster slot and a script may build keys at
 * run time (the records of each owner in a set, each lock of a member) from `base` without leaving that slot.
 *
 * Ids (member, destination, lock) are arbitrary non-empty strings placed after the tag: Redis hashes the FIRST
 * `{...}` of a key, which is always the prefix tag, so braces or colons inside an id change nothing. For the same
 * reason no key of one kind may be a key of another kind with a longer id: a member's lock set is
 * `member-locks:<id>`, not `member:<id>:locks` (which member `a:locks` would collide with).
 */
import { keyBase } from '../../redis/index.js';

/** Every key and channel of one coordinator prefix (see `coordinator-types.ts` for what each holds). */
export interface CoordinatorKeys {
  /** `{p}:co:`, what scripts prepend to build keys at run time; mirrors the functions below. */
  readonly base: string;
  /** ZSET memberId -> expiry (epoch ms). */
  readonly members: string;
  /** HASH destinationId -> fencing epoch. */
  readonly epochs: string;
  /** Pub/sub channel carrying `CoordinatorEvent` JSON. */
  readonly events: string;
  /** HASH address, load (PEXPIRE ttl). */
  member(memberId: string): string;
  /** SET of the lock ids a member owns. */
  memberLocks(memberId: string): string;
  /** SET of the member ids owning a destination. */
  destination(destinationId: string): string;
  /** HASH memberId, destinationId, metadata (PEXPIRE lock ttl). */
  lock(lockId: string): string;
}

/**
 * Where the coordinator's records live:
 * - `keyway`: `{<prefix>}:co:...`, every key in one hash tag, so the scripts work on Redis Cluster;
 * - `platformatic`: @platformatic/coordinator's documented layout, `<prefix>:members` (SET), `<prefix>:member:<id>`
 *   (HASH address, load; TTL), `<prefix>:destination:<id>` (SET), `<prefix>:lock:<id>` (HASH podId, destinationId,
 *   metadata fields), plus keys of keyway's own its readers never look at (`<prefix>:epochs`, `<prefix>:events`,
 *   `<prefix>:member-locks:<id>`). Standalone Redis/Valkey and Sentinel only, as platformatic's.
 */
export type CoordinatorLayout = 'keyway' | 'platformatic';

/**
 * Keys for `keyPrefix` (non-empty; no braces for keyway's layout) in `layout`. The Lua scripts build the same names
 * from `base`: keep `lua/_coordinator.lua` in step with the functions here.
 *
 * @example
 * coordinatorKeys('coordinator').destination('tenant-1') // '{coordinator}:co:dest:tenant-1'
 * coordinatorKeys('coordinator', 'platformatic').destination('tenant-1') // 'coordinator:destination:tenant-1'
 */
export function coordinatorKeys(keyPrefix: string, layout: CoordinatorLayout = 'keyway'): CoordinatorKeys {
  // The two layouts differ in their base (a hash tag or none) and in the name of a destination's owner set.
  const platformatic = layout === 'platformatic';
  const base = platformatic ? `${checkId('keyPrefix', keyPrefix)}:` : keyBase(keyPrefix, 'co');
  const dest = platformatic ? 'destination' : 'dest';
  return Object.freeze({
    base,
    members: `${base}members`,
    epochs: `${base}epochs`,
    events: `${base}events`,
    member: (memberId: string) => `${base}member:${checkId('memberId', memberId)}`,
    memberLocks: (memberId: string) => `${base}member-locks:${checkId('memberId', memberId)}`,
    destination: (destinationId: string) => `${base}${dest}:${checkId('destinationId', destinationId)}`,
    lock: (lockId: string) => `${base}lock:${checkId('lockId', lockId)}`,
  });
}

/** `id` when it is a non-empty string, else a `TypeError` naming `what`. */
export function checkId(what: string, id: unknown): string {
  if (typeof id !== 'string' || id === '') throw new TypeError(`${what} must be a non-empty string`);
  return id;
}
