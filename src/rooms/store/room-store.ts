/**
 * @module rooms/store/room-store: typed calls of the room scripts on one command connection. Each method is one
 * round trip; Redis errors come back as `StoreUnavailableError` (retry later) or `StoreScriptError` (a bug).
 * Nothing here retries or decides: `rooms/` does.
 */
import { ScriptCaller, replyArray as array, replyNumber as num, type RedisClient, type StoreScript } from '../../redis/index.js';
import type { RoomKeys } from './keys.js';
import { ROOM_SCRIPTS } from './scripts.js';

/** How a message is appended: the history's bounds and the kind of pub/sub. */
export interface AppendOptions {
  readonly historyLength: number;
  readonly historyMaxAgeMs: number;
  readonly sharded: boolean;
  /** The shared state's expiry, set again on every change (ms; 0 never). */
  readonly stateTtlMs: number;
}

export interface Appended {
  readonly seq: number;
  readonly epoch: string;
}

export interface HistoryRead {
  /** The last number given (0 for a room nothing was sent in). */
  readonly seq: number;
  /** '' for a room nothing was sent in. */
  readonly epoch: string;
  readonly messages: readonly string[];
}

export interface StateRead {
  readonly version: number;
  readonly seq: number;
  readonly epoch: string;
  /** field -> JSON text. */
  readonly fields: ReadonlyMap<string, string>;
}

export type MergeResult =
  | { readonly applied: true; readonly seq: number; readonly version: number; readonly epoch: string }
  | { readonly applied: false; readonly version: number };

export class RoomStore {
  readonly #calls: ScriptCaller;

  /** `waitMs`: how long a call waits for a connection that is not ready (ms). */
  constructor(client: RedisClient, waitMs: number) {
    this.#calls = new ScriptCaller(client, ROOM_SCRIPTS, waitMs);
  }

  async publish(k: RoomKeys, o: AppendOptions, body: string): Promise<Appended> {
    const s = ROOM_SCRIPTS.publish;
    return appended(s, await this.#run(s, [k.meta, k.history], [...head(k, o), body]));
  }

  async join(k: RoomKeys, o: AppendOptions, body: string, member: string, instance: string, meta: string, ttlMs: number): Promise<Appended & { previous: string }> {
    const s = ROOM_SCRIPTS.join;
    const a = array(s, await this.#run(s, presenceKeys(k), [...head(k, o), body, member, instance, meta, String(ttlMs)]));
    return { seq: num(a[0]), epoch: String(a[1]), previous: String(a[2]) };
  }

  /** Null when `member` is not this instance's. */
  async leave(k: RoomKeys, o: AppendOptions, body: string, member: string, instance: string): Promise<Appended | null> {
    const s = ROOM_SCRIPTS.leave;
    const r = await this.#run(s, presenceKeys(k), [...head(k, o), body, member, instance]);
    return r === 0 ? null : appended(s, r);
  }

  /** Renews this instance's liveness (when `renew`) and reads every instance's: alive-until, server ms. */
  async tick(k: RoomKeys, instance: string, ttlMs: number, renew: boolean): Promise<{ nowMs: number; alive: Map<string, number> }> {
    const s = ROOM_SCRIPTS.tick;
    const a = array(s, await this.#run(s, [k.instances], [instance, String(ttlMs), renew ? '1' : '0']));
    const alive = new Map<string, number>();
    const flat = Array.isArray(a[1]) ? (a[1] as unknown[]) : [];
    for (let i = 0; i + 1 < flat.length; i += 2) alive.set(String(flat[i]), num(flat[i + 1]));
    return { nowMs: num(a[0]), alive };
  }

  /** Instance -> members of it, for every instance whose liveness ran out. */
  async expired(k: RoomKeys, limit: number): Promise<Map<string, string[]>> {
    const s = ROOM_SCRIPTS.expired;
    const a = array(s, await this.#run(s, [k.presence, k.instances], [String(limit)]));
    const out = new Map<string, string[]>();
    for (let i = 0; i + 1 < a.length; i += 2) {
      const inst = String(a[i]);
      let list = out.get(inst);
      if (list === undefined) out.set(inst, (list = []));
      list.push(String(a[i + 1]));
    }
    return out;
  }

  /** `pairs`: member, body, member, body... Returns how many were removed. */
  async expire(k: RoomKeys, o: AppendOptions, instance: string, pairs: readonly string[]): Promise<number> {
    const s = ROOM_SCRIPTS.expire;
    return num(array(s, await this.#run(s, presenceKeys(k), [...head(k, o), instance, ...pairs]))[0]);
  }

  /** member -> `<instance>|<meta json>`, alive instances only. */
  async members(k: RoomKeys): Promise<string[]> {
    const s = ROOM_SCRIPTS.members;
    return array(s, await this.#run(s, [k.presence, k.instances], [])).map(String);
  }

  /** `set`: field, json, field, json... */
  async merge(k: RoomKeys, o: AppendOptions, body: string, expected: number | null, set: readonly string[], del: readonly string[]): Promise<MergeResult> {
    const s = ROOM_SCRIPTS.merge;
    const args = [...head(k, o), body, expected === null ? '' : String(expected), String(set.length / 2), ...set, String(del.length), ...del, String(o.stateTtlMs)];
    const a = array(s, await this.#run(s, [k.meta, k.history, k.state], args));
    if (a[0] === 1) return { applied: true, seq: num(a[1]), version: num(a[2]), epoch: String(a[3]) };
    return { applied: false, version: num(a[1]) };
  }

  /** Deletes the shared state (one DEL); whether there was one. The version goes on from where it was. */
  async deleteState(k: RoomKeys): Promise<boolean> {
    return (await this.#calls.command('DEL', (c) => c.del(k.state))) > 0;
  }

  async state(k: RoomKeys): Promise<StateRead> {
    const s = ROOM_SCRIPTS.state;
    const a = array(s, await this.#run(s, [k.meta, k.state], []));
    const fields = new Map<string, string>();
    const flat = Array.isArray(a[3]) ? (a[3] as unknown[]) : [];
    for (let i = 0; i + 1 < flat.length; i += 2) fields.set(String(flat[i]), String(flat[i + 1]));
    return { version: num(a[0]), seq: num(a[1]), epoch: String(a[2]), fields };
  }

  /** The position, and up to `count` kept messages from `from` on. */
  async history(k: RoomKeys, from: number, count: number): Promise<HistoryRead> {
    const s = ROOM_SCRIPTS.history;
    const a = array(s, await this.#run(s, [k.meta, k.history], [String(from), String(count)]));
    const messages = Array.isArray(a[2]) ? (a[2] as unknown[]).map(String) : [];
    return { seq: num(a[0]), epoch: String(a[1]), messages };
  }

  #run(script: StoreScript, keys: string[], args: string[]): Promise<unknown> {
    return this.#calls.run(script, keys, args);
  }
}

/** The append arguments of a room, built once per room (it keeps one options object), not per message. */
const HEADS = new WeakMap<AppendOptions, { readonly keys: RoomKeys; readonly head: readonly string[] }>();

function head(k: RoomKeys, o: AppendOptions): readonly string[] {
  const cached = HEADS.get(o);
  if (cached !== undefined && cached.keys === k) return cached.head;
  const built = [k.channel, String(o.historyLength), String(o.historyMaxAgeMs), o.sharded ? '1' : '0'];
  HEADS.set(o, { keys: k, head: built });
  return built;
}

function presenceKeys(k: RoomKeys): string[] {
  return [k.meta, k.history, k.presence, k.instances];
}

function appended(script: StoreScript, reply: unknown): Appended {
  const a = array(script, reply);
  return { seq: num(a[0]), epoch: String(a[1]) };
}
