/**
 * @module config/topology-checks: checks across fields of the topology: backend ids unique across pools, pool
 * references that resolve, no fallback loops, no shadowed routes, one sticky cookie per pool, Redis prerequisites.
 */
import type { ConfigIssue } from '../errors.js';
import { isRecord } from './plain-data.js';
import { at, defaultBackendId, orderPools, poolEntries, type PoolEntry } from './pools.js';
import { redisIssues } from './redis-config.js';
import { DEFAULT_POOL, isBackendId, SAME_SITE_NONE_MESSAGE, type ConfigInput, type PoolInput } from './schema.js';
import type { GatewayConfig, PoolConfig, RouteConfig } from './types.js';

/**
 * Checked on the raw input so duplicates are reported even when other fields of the backends are bad. Ids are
 * unique across all pools: the sticky cookie and admin paths name a backend by id alone.
 */
export function duplicateIdIssues(input: unknown): ConfigIssue[] {
  if (!isRecord(input)) return [];
  const pools = isRecord(input.pools) ? input.pools : {};
  // A pool `default` beside top-level backends is refused by the schema; its ids would only add noise.
  const named = Object.entries(pools).filter(([name]) => input.backends === undefined || name !== DEFAULT_POOL);
  const lists = orderPools(input.backends, Object.fromEntries(named.map(([name, p]) => [name, isRecord(p) ? p.backends : undefined])));
  const first = new Map<string, string>();
  const issues: ConfigIssue[] = [];
  for (const { name, path, value } of lists) {
    if (!Array.isArray(value)) continue;
    value.forEach((backend: unknown, index) => {
      const given = isRecord(backend) ? backend.id : undefined;
      const rawId = given ?? defaultBackendId(name, index);
      if (!isBackendId(rawId)) return;
      const id = String(rawId);
      const idPath = `${at(path, 'backends')}.${index}.id`;
      const seen = first.get(id);
      if (seen === undefined) {
        first.set(id, idPath);
        return;
      }
      // An id left out defaults to the position, which can collide with an explicit id: say so.
      const how = given === undefined ? ', the default from its position' : '';
      issues.push({ path: idPath, message: `duplicate id ${JSON.stringify(id)}${how} (also ${seen})` });
    });
  }
  return issues;
}

/** Checks that need the resolved pools: references, duplicates, loops, stickiness with Redis. */
export function topologyIssues(input: ConfigInput, config: GatewayConfig): ConfigIssue[] {
  const entries = poolEntries(input);
  const issues = referenceIssues(input, config, entries);
  // A loop is only meaningful once every name resolves.
  if (issues.length === 0) issues.push(...fallbackLoopIssues(config.pools, entries));
  issues.push(...duplicateRouteIssues(config.routes));
  issues.push(...poolStickyIssues(config.pools, entries));
  issues.push(...redisIssues(input, config));
  if (input.strictBootHandshake === true && input.bootHandshake === false) {
    issues.push({ path: 'strictBootHandshake', message: 'needs bootHandshake, which is false' });
  }
  for (const e of entries) {
    if (e.value.destination !== undefined && config.redis === false) {
      issues.push({ path: `${e.path}.destination`, message: "needs redis: the coordinator's members and bindings live there" });
    }
  }
  return issues;
}

function referenceIssues(input: ConfigInput, config: GatewayConfig, entries: readonly PoolEntry<PoolInput>[]): ConfigIssue[] {
  const names = config.pools.map((p) => p.name);
  const issues: ConfigIssue[] = [];
  const check = (path: string, name: string | null | undefined): void => {
    if (typeof name !== 'string' || names.includes(name)) return;
    issues.push({ path, message: `unknown pool ${JSON.stringify(name)} (expected one of ${names.join(', ')})` });
  };
  input.routes?.forEach((r, i) => check(`routes.${i}.pool`, r.pool));
  check('defaultPool', input.defaultPool);
  check('websocketPool', input.websocketPool);
  if (input.websocketPaths !== undefined && input.websocketPool === undefined) {
    issues.push({ path: 'websocketPaths', message: 'needs websocketPool' });
  }
  check(typeof input.fallback === 'string' ? 'fallback' : 'fallback.pool', config.fallback.pool);
  for (const { path, value } of entries) {
    if (typeof value.fallback === 'string') check(at(path, 'fallback'), value.fallback);
  }
  return issues;
}

/** `a -> b -> a` would bounce a request between two pools that both have no backend. Each loop reported once. */
function fallbackLoopIssues(pools: readonly PoolConfig[], entries: readonly PoolEntry<PoolInput>[]): ConfigIssue[] {
  const byName = new Map(pools.map((p) => [p.name, p]));
  const explicit = entries.filter((e) => typeof e.value.fallback === 'string');
  const seen = new Set<string>();
  const issues: ConfigIssue[] = [];
  for (const start of pools) {
    const chain = [start.name];
    let next = start.fallback;
    while (next !== null && !chain.includes(next)) {
      chain.push(next);
      next = byName.get(next)?.fallback ?? null;
    }
    if (next === null) continue;
    const loop = chain.slice(chain.indexOf(next));
    const key = [...loop].sort().join('\0');
    if (seen.has(key)) continue;
    seen.add(key);
    // Every loop has a pool with its own `fallback` (the top-level one never points a pool at itself): blame it.
    const blamed = explicit.find((e) => loop.includes(e.name));
    const from = blamed === undefined ? 0 : loop.indexOf(blamed.name);
    const shown = [...loop.slice(from), ...loop.slice(0, from), loop[from]];
    issues.push({ path: blamed === undefined ? 'fallback.pool' : at(blamed.path, 'fallback'), message: `fallback loop ${shown.join(' -> ')}` });
  }
  return issues;
}

/** Rules with the same conditions: the later one could never match. */
function duplicateRouteIssues(routes: readonly RouteConfig[]): ConfigIssue[] {
  const first = new Map<string, number>();
  const issues: ConfigIssue[] = [];
  routes.forEach((r, i) => {
    const key = JSON.stringify([r.path ?? null, r.host ?? null, r.header?.name ?? null, r.header?.value ?? null]);
    const seen = first.get(key);
    if (seen === undefined) first.set(key, i);
    else issues.push({ path: `routes.${i}`, message: `same path, host and header as routes.${seen}, so it never matches` });
  });
  return issues;
}

/** SameSite=None needs Secure once merged with the top level; two pools sharing a cookie would unpin each other. */
function poolStickyIssues(pools: readonly PoolConfig[], entries: readonly PoolEntry<PoolInput>[]): ConfigIssue[] {
  const owner = new Map<string, string>();
  const issues: ConfigIssue[] = [];
  pools.forEach((pool, i) => {
    const path = entries[i]?.path ?? '';
    if (pool.sticky === false) return;
    if (path !== '' && pool.sticky.sameSite === 'None' && !pool.sticky.secure) {
      issues.push({ path: `${path}.sticky.sameSite`, message: SAME_SITE_NONE_MESSAGE });
    }
    const other = owner.get(pool.sticky.cookie);
    if (other === undefined) owner.set(pool.sticky.cookie, pool.name);
    else issues.push({ path: `${at(path, 'sticky')}.cookie`, message: `cookie ${JSON.stringify(pool.sticky.cookie)} is also the pool "${other}"'s` });
  });
  return issues;
}
