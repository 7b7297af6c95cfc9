/**
 * @module gateway/reload-diff: what a hot reload changes, as pure data. Backends are matched by id: new ids
 * are added, missing ones removed, a changed URL or health setting replaces the backend, and a changed weight
 * only re-weights it. Other settings are reported as needing a restart rather than half-applied.
 */
import { isDeepStrictEqual } from 'node:util';
import type { BackendConfig, GatewayConfig, PoolConfig } from '../config/index.js';

export interface BackendDiff {
  readonly added: string[];
  readonly removed: string[];
  readonly replaced: string[];
  readonly reweighted: { id: string; weight: number }[];
  /** Top-level settings that differ and are not applied until a restart. */
  readonly restartNeeded: string[];
}

export interface ReloadSummary {
  readonly added: readonly string[];
  readonly removed: readonly string[];
  readonly replaced: readonly string[];
  readonly reweighted: readonly string[];
  readonly restartNeeded: readonly string[];
}

/** Settings applied live by a reload, so never reported as needing a restart. */
const LIVE = new Set(['backends', 'health', 'pools']);

export function diffBackends(current: GatewayConfig, next: GatewayConfig): BackendDiff {
  const before = new Map(current.backends.map((b) => [b.id, b]));
  const after = new Map(next.backends.map((b) => [b.id, b]));
  const diff: BackendDiff = { added: [], removed: [], replaced: [], reweighted: [], restartNeeded: [] };
  for (const id of before.keys()) if (!after.has(id)) diff.removed.push(id);
  for (const [id, b] of after) {
    const old = before.get(id);
    if (old === undefined) diff.added.push(id);
    else if (!sameEndpoint(old, b)) diff.replaced.push(id);
    else if (old.weight !== b.weight) diff.reweighted.push({ id, weight: b.weight });
  }
  for (const key of Object.keys(next) as (keyof GatewayConfig)[]) {
    if (!LIVE.has(key) && !isDeepStrictEqual(current[key], next[key])) diff.restartNeeded.push(key);
  }
  // Backends move between files freely; a pool's own settings (strategy, sticky, fallback) do not.
  if (!isDeepStrictEqual(current.pools.map(poolSettings), next.pools.map(poolSettings))) diff.restartNeeded.push('pools');
  return diff;
}

/** Same address, pool, owner and health settings: the live upstream object can stay. */
function sameEndpoint(a: BackendConfig, b: BackendConfig): boolean {
  return a.url === b.url && a.pool === b.pool && a.owner === b.owner && a.rawId === b.rawId && isDeepStrictEqual(a.health, b.health);
}

function poolSettings(p: PoolConfig): Omit<PoolConfig, 'backends' | 'health'> {
  const { backends: _backends, health: _health, ...rest } = p;
  return rest;
}
