/**
 * @module bench/lib/coordinator: the destination coordinator (keyway's Registry and Member) on a private
 * redis-server (a free port, never 6379): claims per second, resolves per second with the cache off and on, and Redis
 * commands per operation. Skipped, with the reason in the report, while `dist/registry` does not exist.
 *
 * Commands per operation are counted twice: top-level commands seen by MONITOR during a short pass (what a client
 * sends: script-internal calls, marked "lua", are excluded), and INFO commandstats over the timed pass (which also
 * counts the commands a Lua script calls, so it is shown as a breakdown, not as the verdict). A claim is a resolve of
 * a destination nobody owns yet with `claimOnMiss: true`.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { freePort, LOAD_CPU, startPinned, stop, waitForPort } from './procs.mjs';
import { distDir, ensureCommands } from './setup.mjs';

const PHASE_LIMIT_MS = 30_000;

export async function benchCoordinator({ dir, quick, build }) {
  const DIST = distDir();
  // dist/coordinator/ since the coordinator became one folder; dist/registry/ in older builds compared side by side.
  if (!existsSync(join(DIST, 'coordinator', 'registry.js')) && !existsSync(join(DIST, 'registry'))) {
    return { skipped: 'dist/coordinator is missing (the coordinator is not built yet)' };
  }
  const api = await loadApi(DIST);
  if (typeof api.Registry?.prototype?.resolveDestination !== 'function' || typeof api.Member?.prototype?.register !== 'function') {
    return { skipped: 'dist/ exports no Registry with resolveDestination() and Member with register()' };
  }
  ensureCommands(['redis-server']);
  const port = await freePort();
  const redis = startPinned(LOAD_CPU, 'redis-server', [
    '--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir,
  ]);
  const closers = [];
  try {
    await waitForPort(port, { child: redis });
    const url = `redis://127.0.0.1:${port}`;
    const ioredis = createRequire(join(DIST, 'index.js'))('ioredis');
    const Redis = ioredis.default ?? ioredis;
    const admin = new Redis(url, { maxRetriesPerRequest: 1 });
    admin.on('error', () => {});
    closers.push(() => admin.disconnect());
    const keyPrefix = `bench${process.pid}`;
    const n = quick ? 2000 : 20_000;
    for (const id of ['m1', 'm2']) {
      const member = new api.Member({ redis: url, keyPrefix, memberId: id, address: `http://127.0.0.1:${id === 'm1' ? 40001 : 40002}` });
      await member.register();
      closers.push(() => member.close());
    }
    const cold = new api.Registry({ redis: url, keyPrefix, cache: false, memberListRefreshMs: 60_000 });
    const cached = new api.Registry({ redis: url, keyPrefix, cache: { ttl: 600_000, max: n * 2 }, memberListRefreshMs: 60_000 });
    for (const registry of [cold, cached]) {
      closers.push(() => registry.close());
      await registry.ready();
    }
    const ids = (tag, count) => Array.from({ length: count }, (_, i) => `${tag}-${i}`);
    // A claim: resolving a destination nobody owns yet, with claimOnMiss (the strategy picks the member).
    const claim = (id) => cold.resolveDestination(id, { claimOnMiss: true });
    const result = { build: build ?? DIST, members: 2, operations: n };
    result.claim = await phase(admin, claim, ids('claim', n), ids('claim-seq', Math.min(n, 2000)), ids('claim-mon', 200));
    const bound = ids('bound', n);
    await inBatches(bound, claim);
    const resolveCold = (id) => cold.resolveDestination(id);
    result.resolveCold = await phase(admin, resolveCold, bound, bound.slice(0, 2000), bound.slice(0, 200));
    const resolveCached = (id) => cached.resolveDestination(id);
    await inBatches(bound, resolveCached);
    result.resolveCached = await phase(admin, resolveCached, bound, bound.slice(0, 2000), bound.slice(0, 200));
    result.resolveCached.usPerCall = callCost(resolveCached, bound);
    return result;
  } catch (err) {
    return { error: String(err.stack ?? err).slice(0, 1500) };
  } finally {
    for (const close of closers.reverse()) await Promise.resolve().then(close).catch(() => {});
    await stop(redis);
  }
}

/** µs per call of a cache hit without awaiting it: the hit hands back an already settled promise. */
function callCost(op, ids) {
  const rounds = 5;
  const t0 = process.hrtime.bigint();
  for (let r = 0; r < rounds; r++) for (const id of ids) op(id);
  return Number(process.hrtime.bigint() - t0) / 1000 / (rounds * ids.length);
}

async function loadApi(DIST) {
  const api = {};
  for (const file of [join(DIST, 'coordinator', 'index.js'), join(DIST, 'registry', 'index.js'), join(DIST, 'index.js')]) {
    try {
      const mod = await import(pathToFileURL(file).href);
      api.Registry ??= mod.Registry;
      api.Member ??= mod.Member;
    } catch {
      /* not there yet */
    }
  }
  return api;
}

/** Runs `op` over `ids` with 64 in flight, bounded in time; returns how many ran. */
async function inBatches(ids, op, concurrency = 64) {
  const deadline = Date.now() + PHASE_LIMIT_MS;
  let next = 0;
  const worker = async () => {
    while (next < ids.length && Date.now() < deadline) await op(ids[next++]);
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return next;
}

/**
 * Throughput over `ids` (64 in flight) with INFO commandstats around it, sequential latency over `seqIds`, and
 * top-level commands per op under MONITOR over `monIds`.
 */
async function phase(admin, op, ids, seqIds, monIds) {
  await admin.config('RESETSTAT');
  const t0 = process.hrtime.bigint();
  const done = await inBatches(ids, op);
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const commands = commandStats(await admin.info('commandstats'));

  const s0 = process.hrtime.bigint();
  let seqDone = 0;
  const deadline = Date.now() + PHASE_LIMIT_MS;
  for (const id of seqIds) {
    if (Date.now() > deadline) break;
    await op(id);
    seqDone++;
  }
  const usPerOp = Number(process.hrtime.bigint() - s0) / 1000 / Math.max(1, seqDone);

  // monitor() opens a connection of its own, closed below.
  const monitor = await admin.monitor();
  monitor.on('error', () => {});
  let topLevel = 0;
  monitor.on('monitor', (_time, _args, source) => {
    if (source !== 'lua') topLevel++;
  });
  for (const id of monIds) await op(id);
  // MONITOR lines arrive asynchronously; a PING through another connection marks the end.
  await admin.ping();
  await new Promise((resolve) => setTimeout(resolve, 100));
  await monitor.disconnect();
  // The admin PING itself was seen too.
  const commandsPerOp = Math.max(0, topLevel - 1) / monIds.length;
  return {
    ops: done,
    opsPerSecond: done / seconds,
    usPerOp,
    commandsPerOp,
    commands: Object.entries(commands).map(([k, v]) => `${k} ${(v / done).toFixed(2)}/op`).join(', ') || 'none',
  };
}

/** `{ command: calls }` from INFO commandstats, without the bench's own CONFIG/INFO. */
function commandStats(info) {
  const out = {};
  for (const m of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) {
    if (/^(config|info|ping|monitor|client|hello|select)/.test(m[1])) continue;
    out[m[1]] = Number(m[2]);
  }
  return out;
}
