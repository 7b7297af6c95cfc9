/**
 * @module replication/register-book: the registers this replica knows (its own writes and those learned from
 * others), so it applies each write once, stamps its own writes after everything it has seen, and can
 * re-seed a store that lost its data. Pure: the clock is a parameter.
 */
import type { Register, RegisterKind } from './store/index.js';
import { isNewerStamp } from './store/write-stamp.js';

interface Entry {
  readonly kind: RegisterKind;
  readonly register: Register;
  /** False for a value that failed to decode: remembered (so it is reported once), never re-seeded. */
  readonly reseed: boolean;
  /** When it was remembered, in the book's own count of writes (see {@link RegisterBook.mark}). */
  readonly seq: number;
}

/** The last write seen per `(kind, id)`. */
export class RegisterBook {
  readonly #entries = new Map<string, Entry>();
  #seq = 0;

  /** A mark of now: registers remembered after it are left out of {@link lacking} given it. */
  mark(): number {
    return this.#seq;
  }

  /** True when `register` is ordered after the last write seen for its `(kind, id)`, or none was. */
  isNew(kind: RegisterKind, register: Register): boolean {
    return isNewerStamp(register, this.#entries.get(key(kind, register.id))?.register);
  }

  /** Records `register` as the last write seen for its `(kind, id)`. */
  remember(kind: RegisterKind, register: Register, reseed = true): void {
    this.#entries.set(key(kind, register.id), { kind, register, reseed, seq: ++this.#seq });
  }

  /**
   * The `atMs` for a new write by this replica: now, or just after the last write seen when that one is
   * stamped later (another replica's clock ahead of ours), so an operator's latest action always wins.
   */
  nextAtMs(kind: RegisterKind, id: string, nowMs: number): number {
    const held = this.#entries.get(key(kind, id))?.register;
    return held && held.atMs >= nowMs ? held.atMs + 1 : nowMs;
  }

  /**
   * The registers this replica knows that `held` (a full read of the store) lacks or holds older: facts a failover
   * or a restart lost, which must be written again (with what is left of their TTL). Only registers remembered by
   * `before` (a {@link mark} taken when the read was sent) count: a later one may simply postdate the read. Pure.
   */
  lacking(held: HeldRegisters, ttlMs: number, nowMs: number, before: number): { kind: RegisterKind; register: Register; ttlMs: number }[] {
    const stored = new Map<string, Register>();
    for (const r of held.admin) stored.set(key('admin', r.id), r);
    for (const r of held.backend) stored.set(key('backend', r.id), r);
    const out: { kind: RegisterKind; register: Register; ttlMs: number }[] = [];
    for (const seed of this.reseeds(ttlMs, nowMs, before)) {
      if (isNewerStamp(seed.register, stored.get(key(seed.kind, seed.register.id)))) out.push(seed);
    }
    return out;
  }

  /**
   * The registers to write back after the store came back, each with the TTL it has left (`ttlMs` after its
   * `atMs`, capped at `ttlMs`); expired ones are skipped.
   */
  *reseeds(ttlMs: number, nowMs: number, before = Infinity): Generator<{ kind: RegisterKind; register: Register; ttlMs: number }> {
    for (const { kind, register, reseed, seq } of this.#entries.values()) {
      const left = Math.min(ttlMs, register.atMs + ttlMs - nowMs);
      if (reseed && left > 0 && seq <= before) yield { kind, register, ttlMs: left };
    }
  }
}

/** What a store holds, as {@link RegisterBook.lacking} compares it. */
export interface HeldRegisters {
  readonly admin: readonly Register[];
  readonly backend: readonly Register[];
}

function key(kind: RegisterKind, id: string): string {
  return `${kind}\u0000${id}`;
}
