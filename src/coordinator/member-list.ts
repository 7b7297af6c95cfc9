/**
 * @module coordinator/member-list: one registry's local view of the live members, fed by two sources that can arrive in
 * any order: `member:up`/`member:down` events (pub/sub connection) and full snapshots (`liveMembers()` on the
 * command connection). Each change of presence is reported once, whichever source shows it first.
 */
import type { MemberRecord } from './store/index.js';

/** What a snapshot changed: members that appeared, ids that disappeared, members whose address changed. */
export interface MemberListDiff {
  readonly added: readonly MemberRecord[];
  readonly removed: readonly string[];
  readonly moved: readonly MemberRecord[];
}

/**
 * Local member list. Events apply at once; a snapshot applies only when no event arrived while it was in flight
 * (the two connections are not ordered, so such a snapshot may predate the event; the next one settles it).
 *
 * @example
 * const seq = list.snapshotStarted();
 * const diff = list.applySnapshot(await store.liveMembers(), seq);
 */
export class MemberList {
  #members = new Map<string, MemberRecord>();
  #array: readonly MemberRecord[] = [];
  #dirty = false;
  #warm = false;
  /** Incremented by every event; a snapshot started before an event is stale. */
  #seq = 0;

  /** True once a snapshot was applied: `members` is then a usable basis for a claim's candidate. */
  get warm(): boolean {
    return this.#warm;
  }

  /** The live members, in a stable order (the snapshot's, then arrivals). Rebuilt only after a change. */
  get members(): readonly MemberRecord[] {
    if (this.#dirty) {
      this.#array = [...this.#members.values()];
      this.#dirty = false;
    }
    return this.#array;
  }

  has(memberId: string): boolean {
    return this.#members.has(memberId);
  }

  /** Call before asking for a snapshot; pass the result to `applySnapshot`. */
  snapshotStarted(): number {
    return this.#seq;
  }

  /**
   * Replaces the list with `live` unless an event arrived since `seq`; returns what changed, or null when the
   * snapshot was dropped. The first snapshot is the baseline: it reports no arrival or departure (only moves).
   */
  applySnapshot(live: readonly MemberRecord[], seq: number): MemberListDiff | null {
    if (seq !== this.#seq) return null;
    const next = new Map<string, MemberRecord>();
    for (const member of live) next.set(member.memberId, member);
    const baseline = !this.#warm;
    const added: MemberRecord[] = [];
    const removed: string[] = [];
    const moved: MemberRecord[] = [];
    for (const id of this.#members.keys()) if (!next.has(id)) removed.push(id);
    for (const member of live) {
      const known = this.#members.get(member.memberId);
      if (known === undefined) added.push(member);
      else if (known.address !== member.address) moved.push(member);
    }
    this.#members = next;
    this.#dirty = true;
    this.#warm = true;
    // The baseline announces nothing, but a member that moved still invalidates what was cached for it.
    return baseline ? { added: [], removed: [], moved } : { added, removed, moved };
  }

  /** A `member:up` event: adds or refreshes the record; true when the member was not in the list or moved address. */
  up(member: MemberRecord): boolean {
    this.#seq++;
    const known = this.#members.get(member.memberId);
    this.#members.set(member.memberId, member);
    this.#dirty = true;
    return known === undefined || known.address !== member.address;
  }

  /** A `member:down` event: true when the member was in the list. */
  down(memberId: string): boolean {
    this.#seq++;
    const had = this.#members.delete(memberId);
    if (had) this.#dirty = true;
    return had;
  }

  clear(): void {
    this.#members.clear();
    this.#array = [];
    this.#dirty = false;
    this.#warm = false;
    this.#seq++;
  }
}
