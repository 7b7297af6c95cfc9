/**
 * @module redis/script-caller: a feature store's scripts on one command connection. Each call waits for a connection
 * that is not ready (each caller on its own deadline, through `ReadyGate`), and a Redis error comes back as
 * `StoreUnavailableError` (retry later) or `StoreScriptError` (a bug). The singleton and room stores build on it.
 */
import { StoreScriptError } from '../errors.js';
import { toStoreError } from './errors.js';
import { ReadyGate } from './ready-gate.js';
import type { RedisClient } from './redis-client.js';
import { defineScripts, runScript, type StoreScript } from './scripts.js';

export class ScriptCaller {
  readonly client: RedisClient;
  readonly #gate: ReadyGate;
  readonly #waitMs: number;

  /** Registers `scripts` on `client`; `waitMs`: how long a call waits for a connection that is not ready. */
  constructor(client: RedisClient, scripts: Readonly<Record<string, StoreScript>>, waitMs: number) {
    this.client = client;
    this.#waitMs = waitMs;
    defineScripts(client, scripts);
    this.#gate = new ReadyGate(client);
  }

  /** True when a command sent now would be written at once. */
  get ready(): boolean {
    return this.#gate.ready;
  }

  /** Resolves once the connection is ready, or rejects with `StoreUnavailableError` after the wait. */
  whenReady(): Promise<void> {
    return this.#gate.ready ? Promise.resolve() : this.#gate.wait(Date.now() + this.#waitMs);
  }

  async run(script: StoreScript, keys: string[], args: string[]): Promise<unknown> {
    await this.whenReady();
    try {
      return await runScript(this.client, script, keys, args);
    } catch (err) {
      throw toStoreError(err, script);
    }
  }

  /** A plain command (`name` for errors), with the same wait and error mapping. */
  async command<T>(name: string, send: (client: RedisClient) => Promise<T>): Promise<T> {
    await this.whenReady();
    try {
      return await send(this.client);
    } catch (err) {
      throw toStoreError(err, { command: name, numberOfKeys: 0, lua: '' });
    }
  }
}

/** `reply` as an array, or `StoreScriptError` naming the script. */
export function replyArray(script: StoreScript, reply: unknown): unknown[] {
  if (Array.isArray(reply)) return reply;
  throw new StoreScriptError(`script ${script.command} answered ${JSON.stringify(reply)}`);
}

/** `v` as a finite number (0 otherwise). */
export function replyNumber(v: unknown): number {
  const n = typeof v === 'number' ? v : Number(v);
  return Number.isFinite(n) ? n : 0;
}
