/**
 * @module replication/verdicts: how the health verdicts of several replicas on one backend become one
 * boolean, and the table of other replicas' verdicts with their local expiry. Pure: the clock is a parameter.
 */

/** One replica's verdict on one backend, as the merge sees it. */
export interface Opinion {
  readonly up: boolean;
  /** When that replica's verdict last changed (epoch ms). */
  readonly sinceMs: number;
}

/**
 * Merges the fresh verdicts of every replica (this one's included) on one backend.
 *
 * - `quorum` undefined: the most recent change wins (greatest `sinceMs`); on a tie, down wins, so two
 *   replicas that flip at the same millisecond agree on the safe side.
 * - `quorum` N: down when at least min(N, number of opinions) replicas see it down. The min keeps a lone
 *   replica (or one whose peers' verdicts expired) able to take a dead backend out on its own.
 *
 * Returns undefined when there is no opinion at all.
 *
 * @example
 * mergeVerdicts([{ up: true, sinceMs: 1 }, { up: false, sinceMs: 2 }], undefined); // false
 * mergeVerdicts([{ up: true, sinceMs: 1 }, { up: false, sinceMs: 2 }], 2); // true: one down of the two needed
 */
export function mergeVerdicts(opinions: readonly Opinion[], quorum: number | undefined): boolean | undefined {
  if (opinions.length === 0) return undefined;
  if (quorum === undefined) return latest(opinions);
  let down = 0;
  for (const o of opinions) if (!o.up) down++;
  return down < Math.min(quorum, opinions.length);
}

function latest(opinions: readonly Opinion[]): boolean {
  let best: Opinion | undefined;
  for (const o of opinions) {
    if (!best || o.sinceMs > best.sinceMs || (o.sinceMs === best.sinceMs && !o.up)) best = o;
  }
  return best?.up ?? true;
}

/** A verdict of another replica, with when this replica learned it and when it stops counting. */
export interface RemoteVerdict extends Opinion {
  readonly receivedAtMs: number;
  readonly expiresAtMs: number;
}

/** A verdict as read from the store or carried by an event. */
export interface VerdictInput extends Opinion {
  readonly backendId: string;
  readonly replicaId: string;
}

/**
 * Other replicas' verdicts: backend -> replica -> verdict. An entry counts for `ttlMs` after it was last
 * received (by event or by a full read); the store drops a verdict its replica stopped refreshing, so a
 * read that no longer returns it removes it here too.
 */
export class VerdictTable {
  readonly #ttlMs: number;
  readonly #byBackend = new Map<string, Map<string, RemoteVerdict>>();

  constructor(ttlMs: number) {
    this.#ttlMs = ttlMs;
  }

  /**
   * Records `v` as received at `nowMs`. A verdict older (smaller `sinceMs`) than the one held for that replica
   * is ignored: events and reads can cross, and one replica's changes only move forward in time.
   * Returns true when the replica's verdict changed (`up` or `sinceMs`), false for a refresh or a stale one.
   */
  put(v: VerdictInput, nowMs: number): boolean {
    let replicas = this.#byBackend.get(v.backendId);
    if (!replicas) this.#byBackend.set(v.backendId, (replicas = new Map()));
    const held = replicas.get(v.replicaId);
    const heldFresh = held !== undefined && held.expiresAtMs > nowMs;
    if (heldFresh && v.sinceMs < held.sinceMs) return false;
    replicas.set(v.replicaId, { up: v.up, sinceMs: v.sinceMs, receivedAtMs: nowMs, expiresAtMs: nowMs + this.#ttlMs });
    return !heldFresh || held.up !== v.up || held.sinceMs !== v.sinceMs;
  }

  /**
   * Applies a full read started at `readStartMs`: records every verdict in it, then drops the entries it
   * lacks that were received before the read started (an entry received since may be newer than the read).
   */
  replaceAll(verdicts: Iterable<VerdictInput>, readStartMs: number, nowMs: number): void {
    const seen = new Set<string>();
    for (const v of verdicts) {
      this.put(v, nowMs);
      seen.add(pairKey(v.backendId, v.replicaId));
    }
    for (const [backendId, replicas] of this.#byBackend) {
      for (const [replicaId, v] of replicas) {
        if (v.receivedAtMs < readStartMs && !seen.has(pairKey(backendId, replicaId))) replicas.delete(replicaId);
      }
    }
    this.prune(nowMs);
  }

  /** The fresh verdicts on `backendId`. */
  fresh(backendId: string, nowMs: number): RemoteVerdict[] {
    const out: RemoteVerdict[] = [];
    for (const v of this.#byBackend.get(backendId)?.values() ?? []) if (v.expiresAtMs > nowMs) out.push(v);
    return out;
  }

  /** Drops expired entries and backends left without any. */
  prune(nowMs: number): void {
    for (const [backendId, replicas] of this.#byBackend) {
      for (const [replicaId, v] of replicas) if (v.expiresAtMs <= nowMs) replicas.delete(replicaId);
      if (replicas.size === 0) this.#byBackend.delete(backendId);
    }
  }

  /** Every backend with at least one entry (call `prune` first for fresh ones only). */
  backends(): IterableIterator<string> {
    return this.#byBackend.keys();
  }

  /** The replicas with at least one fresh verdict, sorted. */
  replicas(nowMs: number): string[] {
    const out = new Set<string>();
    for (const replicas of this.#byBackend.values()) {
      for (const [replicaId, v] of replicas) if (v.expiresAtMs > nowMs) out.add(replicaId);
    }
    return [...out].sort();
  }

  /** Forgets every verdict on `backendId`. */
  forget(backendId: string): void {
    this.#byBackend.delete(backendId);
  }
}

function pairKey(backendId: string, replicaId: string): string {
  return `${backendId}\u0000${replicaId}`;
}
