/**
 * @module singleton/store/singleton-store: typed calls of the singleton scripts on one command connection. Each
 * method is one round trip; Redis errors come back as `StoreUnavailableError` (retry later) or `StoreScriptError`
 * (a bug). Nothing here retries or decides: `singleton/` does.
 */
import { StoreScriptError } from '../../errors.js';
import {
  ScriptCaller,
  replyArray as array,
  replyNumber as num,
  runScriptConfirmed,
  toStoreError,
  type RedisClient,
  type StoreScript,
} from '../../redis/index.js';
import { singletonKeys, type SingletonKeys } from './keys.js';
import { SINGLETON_SCRIPTS } from './scripts.js';

export type ClaimResult =
  | { readonly claimed: true; readonly token: number; readonly nowMs: number; readonly seq: number; readonly fields: Map<string, string> }
  | { readonly claimed: false; readonly token: number; readonly owner: string; readonly pttlMs: number; readonly nowMs: number };

export type RenewResult =
  | { readonly status: 'renewed'; readonly nowMs: number; readonly seq: number }
  | { readonly status: 'gone'; readonly nowMs: number }
  | { readonly status: 'taken'; readonly nowMs: number; readonly token: number; readonly owner: string };

export type ForwardResult =
  | { readonly status: 'sent'; readonly token: number; readonly owner: string }
  | { readonly status: 'no-owner' }
  | { readonly status: 'unreachable'; readonly token: number; readonly owner: string };

export interface PeekResult {
  /** 0 when nobody holds the lease. */
  readonly token: number;
  readonly owner: string;
  readonly pttlMs: number;
  readonly nowMs: number;
  readonly lastToken: number;
  readonly seq: number;
  /** Empty unless asked for. */
  readonly fields: Map<string, string>;
}

export interface CommitInput {
  readonly owner: string;
  readonly token: number;
  readonly baseSeq: number;
  readonly seq: number;
  /** Server ms; 0 for none. */
  readonly deadline: number;
  readonly leaseMs: number;
  readonly idempotencyKey: string;
  readonly result: string;
  readonly keepMs: number;
  readonly keepMax: number;
  readonly delta: string;
  readonly replyChannel: string;
  readonly reply: string;
  readonly restore: boolean;
  /** field, json, field, json, ... */
  readonly set: readonly string[];
  readonly del: readonly string[];
}

export type CommitResult =
  | { readonly status: 'committed'; readonly nowMs: number; readonly confirmed: boolean }
  | { readonly status: 'fenced'; readonly token: number }
  | { readonly status: 'behind'; readonly seq: number }
  | { readonly status: 'late'; readonly nowMs: number }
  | { readonly status: 'duplicate'; readonly result: string };

/** How long a commit waits for replicas when asked to (ms). */
const CONFIRM_TIMEOUT_MS = 100;

export class SingletonStore {
  readonly keyPrefix: string;
  readonly #client: RedisClient;
  readonly #calls: ScriptCaller;
  readonly #keys = new Map<string, SingletonKeys>();
  readonly #confirmReplicas: number;

  /** `waitMs`: how long a call waits for a connection that is not ready (ms). */
  constructor(client: RedisClient, keyPrefix: string, options: { waitMs: number; confirmReplicas: number }) {
    this.keyPrefix = keyPrefix;
    this.#client = client;
    this.#confirmReplicas = options.confirmReplicas;
    this.#calls = new ScriptCaller(client, SINGLETON_SCRIPTS, options.waitMs);
  }

  get ready(): boolean {
    return this.#calls.ready;
  }

  /** The keys of `name` (built once per name). */
  keys(name: string): SingletonKeys {
    let keys = this.#keys.get(name);
    if (keys === undefined) {
      keys = singletonKeys(this.keyPrefix, name);
      this.#keys.set(name, keys);
    }
    return keys;
  }

  async claim(k: SingletonKeys, owner: string, leaseMs: number, knownToken: number, breakToken: number): Promise<ClaimResult> {
    const s = SINGLETON_SCRIPTS.claim;
    const r = await this.#run(s, [k.lease, k.meta, k.state], [owner, String(leaseMs), int(knownToken), int(breakToken), k.events]);
    const a = array(s, r);
    if (a[0] === 1) {
      return { claimed: true, token: num(a[1]), nowMs: num(a[2]), seq: num(a[3]), fields: pairs(a[4]) };
    }
    return { claimed: false, token: num(a[1]), owner: String(a[2]), pttlMs: num(a[3]), nowMs: num(a[4]) };
  }

  async renew(k: SingletonKeys, owner: string, token: number, leaseMs: number): Promise<RenewResult> {
    const s = SINGLETON_SCRIPTS.renew;
    const a = array(s, await this.#run(s, [k.lease, k.meta], [owner, int(token), String(leaseMs)]));
    if (a[0] === 1) return { status: 'renewed', nowMs: num(a[1]), seq: num(a[2]) };
    if (a[0] === 0) return { status: 'gone', nowMs: num(a[1]) };
    return { status: 'taken', nowMs: num(a[1]), token: num(a[2]), owner: String(a[3]) };
  }

  async release(k: SingletonKeys, owner: string, token: number): Promise<boolean> {
    const s = SINGLETON_SCRIPTS.release;
    return (await this.#run(s, [k.lease, k.meta], [owner, int(token), k.events])) === 1;
  }

  async forward(k: SingletonKeys, message: string): Promise<ForwardResult> {
    const s = SINGLETON_SCRIPTS.forward;
    const a = array(s, await this.#run(s, [k.lease], [k.requests, message]));
    if (a[0] === 0) return { status: 'no-owner' };
    return { status: a[0] === 1 ? 'sent' : 'unreachable', token: num(a[1]), owner: String(a[2]) };
  }

  async peek(k: SingletonKeys, withState: boolean): Promise<PeekResult> {
    const s = SINGLETON_SCRIPTS.peek;
    const a = array(s, await this.#run(s, [k.lease, k.meta, k.state], [withState ? '1' : '0']));
    return {
      token: a[0] === '' ? 0 : num(a[0]),
      owner: String(a[1]),
      pttlMs: num(a[2]),
      nowMs: num(a[3]),
      lastToken: num(a[4]),
      seq: num(a[5]),
      fields: pairs(a[6]),
    };
  }

  /**
   * Commits `c`. With `confirmReplicas` set, the script runs without the reply, `WAIT` follows in the same round
   * trip, and the reply is published once the replicas hold the change (or their wait ran out: `confirmed: false`).
   */
  async commit(k: SingletonKeys, c: CommitInput): Promise<CommitResult> {
    const s = SINGLETON_SCRIPTS.commit;
    const confirm = this.#confirmReplicas > 0;
    const args = [
      c.owner, int(c.token), int(c.baseSeq), int(c.seq), int(c.deadline), String(c.leaseMs),
      c.idempotencyKey, c.result, String(c.keepMs), String(c.keepMax),
      k.events, c.delta, c.replyChannel, confirm ? '' : c.reply, c.restore ? '1' : '0',
      String(c.set.length / 2), ...c.set, String(c.del.length), ...c.del,
    ];
    const keys = [k.lease, k.meta, k.state, k.done, k.doneAt];
    let reply: unknown;
    let confirmed = !confirm;
    if (confirm) {
      await this.#calls.whenReady();
      try {
        const out = await runScriptConfirmed(this.#client, s, keys, args, this.#confirmReplicas, CONFIRM_TIMEOUT_MS);
        reply = out.reply;
        confirmed = out.acked >= this.#confirmReplicas;
      } catch (err) {
        throw toStoreError(err, s);
      }
    } else {
      reply = await this.#run(s, keys, args);
    }
    const a = array(s, reply);
    switch (a[0]) {
      case 1:
        if (confirm && c.reply !== '') await this.publish(c.replyChannel, c.reply);
        return { status: 'committed', nowMs: num(a[1]), confirmed };
      case -1:
        return { status: 'fenced', token: a[1] === '' ? 0 : num(a[1]) };
      case -2:
        return { status: 'behind', seq: num(a[1]) };
      case -3:
        return { status: 'late', nowMs: num(a[1]) };
      case -4:
        return { status: 'duplicate', result: String(a[1]) };
      default:
        throw new StoreScriptError(`script ${s.command} answered ${JSON.stringify(a[0])}`);
    }
  }

  /** A message outside a commit (a refusal, an error, a repeated answer). */
  async publish(channel: string, message: string): Promise<void> {
    await this.#calls.command('PUBLISH', (c) => c.publish(channel, message));
  }

  /** The Redis server's clock (ms). */
  async time(): Promise<number> {
    const [s, us] = await this.#calls.command('TIME', (c) => c.time());
    return Number(s) * 1000 + Math.floor(Number(us) / 1000);
  }

  #run(script: StoreScript, keys: string[], args: string[]): Promise<unknown> {
    return this.#calls.run(script, keys, args);
  }
}

function int(n: number): string {
  return Number.isFinite(n) ? String(Math.trunc(n)) : '0';
}

function pairs(v: unknown): Map<string, string> {
  const out = new Map<string, string>();
  if (!Array.isArray(v)) return out;
  for (let i = 0; i + 1 < v.length; i += 2) out.set(String(v[i]), String(v[i + 1]));
  return out;
}
