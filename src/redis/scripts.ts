/**
 * @module redis/scripts: the Lua scripts, registered with ioredis `defineCommand` under names that carry a hash of
 * their text, and called only through `runScript`. A script's integer status maps to a result or an error in one place.
 */
import { createHash } from 'node:crypto';
import { StoreScriptError } from '../errors.js';
import type { RedisClient } from './redis-client.js';

export interface StoreScript {
  /** The ioredis command name: `<name>_<first 12 hex digits of the text's SHA-1>`. */
  readonly command: string;
  readonly numberOfKeys: number;
  readonly lua: string;
}

/**
 * A script whose registered name carries a hash of its text, so a changed script can never run under an old name
 * (a client defined with the old text, a stale cached SHA) and no version number has to be remembered.
 */
export function defineScript(name: string, numberOfKeys: number, lua: string): StoreScript {
  return { command: `${name}_${createHash('sha1').update(lua).digest('hex').slice(0, 12)}`, numberOfKeys, lua };
}


type ScriptCall = (...args: string[]) => Promise<unknown>;

/** Registers every script of `scripts` on `client` (ioredis runs EVALSHA and falls back to EVAL after a restart). */
export function defineScripts(client: RedisClient, scripts: Readonly<Record<string, StoreScript>>): void {
  for (const script of Object.values(scripts)) {
    if (commandOf(client, script) === undefined) {
      client.defineCommand(script.command, { numberOfKeys: script.numberOfKeys, lua: script.lua });
    }
  }
}

/** Runs `script` with `keys` then `args`; `defineScripts(client)` must have run. */
export function runScript(client: RedisClient, script: StoreScript, keys: string[], args: string[]): Promise<unknown> {
  const call = commandOf(client, script);
  if (call === undefined) throw new StoreScriptError(`script ${script.command} is not defined on this client`);
  if (keys.length !== script.numberOfKeys) {
    throw new StoreScriptError(`script ${script.command} takes ${script.numberOfKeys} keys, got ${keys.length}`);
  }
  return call.apply(client, [...keys, ...args]);
}

/**
 * Runs `script`, then `WAIT replicas timeoutMs` in the same pipeline: one round trip, on the same connection (on a
 * Cluster, the node of the script's keys), so the count is of the replicas that hold this script's write (a WAIT
 * sent later could land on a new connection to a new master and count nothing of it). WAIT cannot run inside a
 * script or a transaction. `acked` is 0 when the WAIT itself failed.
 */
export async function runScriptConfirmed(
  client: RedisClient,
  script: StoreScript,
  keys: string[],
  args: string[],
  replicas: number,
  timeoutMs: number,
): Promise<{ readonly reply: unknown; readonly acked: number }> {
  if (commandOf(client, script) === undefined) throw new StoreScriptError(`script ${script.command} is not defined on this client`);
  if (keys.length !== script.numberOfKeys) {
    throw new StoreScriptError(`script ${script.command} takes ${script.numberOfKeys} keys, got ${keys.length}`);
  }
  const pipeline = client.pipeline() as unknown as Record<string, (...a: string[]) => unknown> & {
    call(...a: string[]): unknown;
    exec(): Promise<[Error | null, unknown][] | null>;
  };
  (pipeline[script.command] as (...a: string[]) => unknown).apply(pipeline, [...keys, ...args]);
  pipeline.call('WAIT', String(replicas), String(timeoutMs));
  const results = await pipeline.exec();
  const [scriptResult, waitResult] = results ?? [];
  if (scriptResult === undefined) throw new StoreScriptError(`script ${script.command} answered nothing`);
  if (scriptResult[0] !== null) throw scriptResult[0];
  const acked = waitResult !== undefined && waitResult[0] === null && typeof waitResult[1] === 'number' ? waitResult[1] : 0;
  return { reply: scriptResult[1], acked };
}

/**
 * Maps a write script's status: 1 -> true (applied/published), 0 -> false, -1 (bad arguments) or anything
 * else -> `StoreScriptError`.
 */
export function scriptStatus(script: StoreScript, reply: unknown): boolean {
  if (reply === 1) return true;
  if (reply === 0) return false;
  const what = reply === -1 ? 'rejected its arguments' : `answered ${JSON.stringify(reply)}`;
  throw new StoreScriptError(`script ${script.command} ${what}`);
}

function commandOf(client: RedisClient, script: StoreScript): ScriptCall | undefined {
  const value = (client as unknown as Record<string, unknown>)[script.command];
  return typeof value === 'function' ? (value as ScriptCall) : undefined;
}
