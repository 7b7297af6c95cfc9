/**
 * @module singleton/fluxstack/adapter-scripts: the drop-in's keys (the seed's names, plus one of keyway's own) and
 * its four Lua scripts (`lua/*.lua`, fenced with `store/lua/_fence.lua`), called only through the typed wrappers
 * here. Every key a script touches is in its KEYS, so on Redis Cluster a prefix with a hash tag (`{fx}:cluster:`)
 * puts them in one slot.
 */
import { StoreScriptError } from '../../errors.js';
import { defineScripts, luaScripts, runScript, type RedisClient, type StoreScript } from '../../redis/index.js';

/** Every key and channel of the adapter under `prefix` (the seed's layout, plus `singletonToken`). */
export interface ClusterKeys {
  /** `{prefix}state:{componentId}`: JSON `{componentName, state, instanceId, updatedAt}`, EX stateTtl. */
  state(componentId: string): string;
  /** `{prefix}singleton:{name}`: `<instanceId>:<componentId>`, PX singletonTtl. */
  singleton(name: string): string;
  /** `{prefix}singleton-state:{name}`: JSON `{state, updatedAt, token?}`, PX stateTtl. */
  singletonState(name: string): string;
  /** `{prefix}singleton-token:{name}`: hash, field `token` = the last fencing token handed out. Never expires. */
  singletonToken(name: string): string;
  /** `{prefix}delta`: the one channel every instance's deltas go to. */
  readonly deltaChannel: string;
  /** `{prefix}actions:{instanceId}`: action requests to, and replies for, one instance. */
  actionsChannel(instanceId: string): string;
}

export function clusterKeys(prefix: string): ClusterKeys {
  return {
    state: (componentId) => `${prefix}state:${componentId}`,
    singleton: (name) => `${prefix}singleton:${name}`,
    singletonState: (name) => `${prefix}singleton-state:${name}`,
    singletonToken: (name) => `${prefix}singleton-token:${name}`,
    deltaChannel: `${prefix}delta`,
    actionsChannel: (instanceId) => `${prefix}actions:${instanceId}`,
  };
}

const script = luaScripts(new URL('./lua/', import.meta.url), [new URL('../store/lua/', import.meta.url)]);

/** The adapter's scripts, registered under names that carry a hash of their text. */
export const ADAPTER_SCRIPTS = {
  claim: script('kwFxClaimSingleton', 'claimSingleton-3'),
  renew: script('kwFxRenewSingleton', 'renewSingleton-2'),
  release: script('kwFxReleaseSingleton', 'releaseSingleton-1'),
  saveState: script('kwFxSaveSingletonState', 'saveSingletonState-3'),
} as const satisfies Record<string, StoreScript>;

/** Registers the scripts on `client` (idempotent; a client shared by several adapters registers them once). */
export function defineAdapterScripts(client: RedisClient): void {
  defineScripts(client, ADAPTER_SCRIPTS);
}

/** A won claim: its fencing token and the raw singleton-state JSON (null when none is stored). */
export interface ClaimWon {
  readonly token: number;
  readonly stateJson: string | null;
}

/** `claimSingleton-3`: null when someone holds the claim. */
export async function claimScript(
  client: RedisClient,
  keys: ClusterKeys,
  name: string,
  value: string,
  ttlMs: number,
  knownToken: number,
): Promise<ClaimWon | null> {
  const reply = await runScript(client, ADAPTER_SCRIPTS.claim, [keys.singleton(name), keys.singletonToken(name), keys.singletonState(name)], [
    value,
    String(ttlMs),
    String(knownToken),
  ]);
  const [status, token, stateJson] = tuple(ADAPTER_SCRIPTS.claim, reply);
  if (status === 0) return null;
  return { token: tokenOf(ADAPTER_SCRIPTS.claim, token), stateJson: typeof stateJson === 'string' ? stateJson : null };
}

/** What the heartbeat found: still ours, taken back under a new token, or lost. */
export type RenewOutcome = { readonly kind: 'renewed' | 'reclaimed'; readonly token: number } | { readonly kind: 'lost' };

/** `renewSingleton-2`. */
export async function renewScript(
  client: RedisClient,
  keys: ClusterKeys,
  name: string,
  value: string,
  ttlMs: number,
  token: number,
): Promise<RenewOutcome> {
  const reply = await runScript(client, ADAPTER_SCRIPTS.renew, [keys.singleton(name), keys.singletonToken(name)], [
    value,
    String(ttlMs),
    String(token),
  ]);
  const [status, newToken] = tuple(ADAPTER_SCRIPTS.renew, reply);
  if (status === 0) return { kind: 'lost' };
  return { kind: status === 1 ? 'renewed' : 'reclaimed', token: tokenOf(ADAPTER_SCRIPTS.renew, newToken) };
}

/** `releaseSingleton-1`: true when this instance's claim was deleted. */
export async function releaseScript(client: RedisClient, keys: ClusterKeys, name: string, instanceId: string): Promise<boolean> {
  const reply = await runScript(client, ADAPTER_SCRIPTS.release, [keys.singleton(name)], [`${instanceId}:`]);
  if (reply !== 0 && reply !== 1) throw unexpected(ADAPTER_SCRIPTS.release, reply);
  return reply === 1;
}

/** Why a singleton-state write was refused, or `written`. */
export type SaveOutcome = 'written' | 'held-by-another' | 'stale-token';

/** `saveSingletonState-3`. `value` is '' and `token` 0 when the writer believes it holds no claim. */
export async function saveStateScript(
  client: RedisClient,
  keys: ClusterKeys,
  name: string,
  write: { readonly value: string; readonly token: number; readonly json: string; readonly ttlMs: number },
): Promise<SaveOutcome> {
  const reply = await runScript(
    client,
    ADAPTER_SCRIPTS.saveState,
    [keys.singleton(name), keys.singletonToken(name), keys.singletonState(name)],
    [write.value, String(write.token), write.json, String(write.ttlMs)],
  );
  if (reply === 1) return 'written';
  if (reply === 0) return 'held-by-another';
  if (reply === 2) return 'stale-token';
  throw unexpected(ADAPTER_SCRIPTS.saveState, reply);
}

/** A `{status, ...}` reply whose status is 0, 1 or 2; anything else (-1: bad arguments) is a broken invariant. */
function tuple(script: StoreScript, reply: unknown): [0 | 1 | 2, ...unknown[]] {
  if (!Array.isArray(reply) || (reply[0] !== 0 && reply[0] !== 1 && reply[0] !== 2)) throw unexpected(script, reply);
  return reply as [0 | 1 | 2, ...unknown[]];
}

function tokenOf(script: StoreScript, raw: unknown): number {
  const token = Number(raw);
  if (!Number.isSafeInteger(token) || token < 1) throw unexpected(script, raw);
  return token;
}

function unexpected(script: StoreScript, reply: unknown): StoreScriptError {
  return new StoreScriptError(`script ${script.command} answered ${JSON.stringify(reply)}`);
}
