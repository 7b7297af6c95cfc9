/**
 * @module bench/lib/coordinator: the destination coordinator (keyway's Registry and Member) on a private
 * redis-server (a free port, never 6379): claims per second, resolves per second with the cache off and on, and Redis
 * commands per operation. Skipped, with the reason in the report, while neither `dist/coordinator` nor (older builds)
 * `dist/registry` exists.
 *
 * Commands per operation are counted twice: top-level commands seen by MONITOR during a short pass (what a client
 * sends: script-internal calls, marked "lua", are excluded), and INFO commandstats over the timed pass (which also
 * counts the commands a Lua script calls, so it is shown as a breakdown, not as the verdict). A claim is a resolve of
 * a destination nobody owns yet with `claimOnMiss: true`.
 *
 * Last, the cost of confirming a claim's fencing epoch on a replica (`WAIT 1 100` pipelined after the claim script,
 * keyway issue 12): a second private redis-server starts as `--replicaof` the first, and claims on a Registry with
 * `confirmReplicas: 1` and on one with `confirmReplicas: 0`, on the same master, are measured interleaved. When the
 * build's Registry does not hand `confirmReplicas` to its store (no WAIT reaches Redis), the store itself
 * (`createCoordinatorStore(url, { confirmReplicas })`, `store.resolve(...)`) is timed instead, and the report says so.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort, LOAD_CPU, startPinned, stop, waitForPort } from './procs.mjs';
import { distDir, ensureCommands } from './setup.mjs';

const PHASE_LIMIT_MS = 30_000;
/** The whole replica-confirmation comparison (both variants) stops after this, whatever is left. */
const CONFIRM_LIMIT_MS = 90_000;

/** `dist` is the build output measured (default distDir()); `build` its name in the report. */
export async function benchCoordinator({ dir, quick, build, dist }) {
  const DIST = dist ?? distDir();
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
  const redis = startRedis(port, dir);
  const closers = [];
  try {
    await waitForPort(port, { child: redis });
    const url = `redis://127.0.0.1:${port}`;
    const Redis = redisClass(DIST);
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
    // Last, so that no phase above pays for a replica's replication stream.
    result.confirm = await benchConfirm({ api, DIST, dir, port, url, admin, keyPrefix, quick }).catch((err) => ({
      error: String(err.stack ?? err).slice(0, 1500),
    }));
    return result;
  } catch (err) {
    return { error: String(err.stack ?? err).slice(0, 1500) };
  } finally {
    for (const close of closers.reverse()) await Promise.resolve().then(close).catch(() => {});
    await stop(redis);
  }
}

/** A private redis-server on `port`, pinned to the load CPU, without persistence; `args` are added (`--replicaof`). */
function startRedis(port, dir, args = []) {
  return startPinned(LOAD_CPU, 'redis-server', [
    '--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, ...args,
  ]);
}

/**
 * The cost of `WAIT 1 100` after a claim: a replica of the master on `port`, then claims with `confirmReplicas: 1`
 * ("with") and `confirmReplicas: 0` ("without") interleaved: throughput in alternating blocks (ABBA order, 64 in
 * flight, the ratio taken per pair of blocks), then sequential claims alternating one by one (µs each: mean, p50, p99).
 */
async function benchConfirm({ api, DIST, dir, port, url, admin, keyPrefix, quick }) {
  const replicaDir = join(dir, 'redis-replica');
  mkdirSync(replicaDir, { recursive: true });
  const replicaPort = await freePort();
  // The master's diskless full sync waits 5 s by default for more replicas to join; there is only this one.
  await admin.config('SET', 'repl-diskless-sync-delay', '0');
  const replica = startRedis(replicaPort, replicaDir, ['--replicaof', '127.0.0.1', String(port)]);
  const closers = [];
  try {
    await waitForPort(replicaPort, { child: replica });
    const Redis = redisClass(DIST);
    const replicaAdmin = new Redis(`redis://127.0.0.1:${replicaPort}`, { maxRetriesPerRequest: 1 });
    replicaAdmin.on('error', () => {});
    closers.push(() => replicaAdmin.disconnect());
    const linkMs = await waitForReplica(admin, replicaAdmin, replica);
    const variants = await confirmVariants(api, DIST, url, keyPrefix, admin, closers);
    if (variants.skipped) return { skipped: variants.skipped, replicaPort };

    const deadline = Date.now() + CONFIRM_LIMIT_MS;
    const blocks = quick ? 4 : 8;
    const blockSize = quick ? 500 : 2000;
    const pairs = quick ? 1000 : 4000;
    const names = ['with', 'without'];
    const stats = Object.fromEntries(names.map((v) => [v, { claims: 0, unconfirmed: 0, blockRates: [], latenciesUs: [] }]));
    const claim = (v) => async (id) => {
      const answer = await variants[v](id);
      stats[v].claims++;
      if (answer?.confirmed === false) stats[v].unconfirmed++;
    };
    const op = { with: claim('with'), without: claim('without') };
    const ids = (tag, count) => Array.from({ length: count }, (_, i) => `${tag}-${i}`);

    // Warm-up, both variants, so neither is measured cold.
    for (const v of names) await inBatches(ids(`confirm-warm-${v}`, 200), op[v], 64, deadline);

    // Throughput: blocks alternate ABBA so that neither variant always runs second.
    for (let b = 0; b < blocks && Date.now() < deadline; b++) {
      for (const v of b % 2 === 0 ? names : [...names].reverse()) {
        const t0 = process.hrtime.bigint();
        const done = await inBatches(ids(`confirm-${v}-${b}`, blockSize), op[v], 64, deadline);
        const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
        stats[v].blockRates.push(done > 0 ? done / seconds : null);
      }
    }

    // Sequential: one claim at a time, the variants alternating claim by claim (and which goes first, pair by pair).
    let seqPairs = 0;
    for (let i = 0; i < pairs && Date.now() < deadline; i++) {
      for (const v of i % 2 === 0 ? names : [...names].reverse()) {
        const t0 = process.hrtime.bigint();
        await op[v](`confirm-seq-${v}-${i}`);
        stats[v].latenciesUs.push(Number(process.hrtime.bigint() - t0) / 1000);
      }
      seqPairs++;
    }

    // Top-level commands per claim (MONITOR): the claim script, plus WAIT when confirming.
    const out = { via: variants.via, reason: variants.reason, replicaPort, linkMs, blocks, blockSize, pairs: seqPairs, timedOut: Date.now() >= deadline };
    for (const v of names) {
      const s = stats[v];
      const sorted = [...s.latenciesUs].sort((a, b) => a - b);
      out[v] = {
        confirmReplicas: v === 'with' ? 1 : 0,
        claimsPerSecond: median(s.blockRates),
        claimsPerSecondBlocks: s.blockRates,
        usMean: sorted.length ? sorted.reduce((a, b) => a + b, 0) / sorted.length : null,
        p50Us: percentile(sorted, 0.5),
        p90Us: percentile(sorted, 0.9),
        p99Us: percentile(sorted, 0.99),
        maxUs: sorted.at(-1) ?? null,
        claims: s.claims,
        unconfirmed: s.unconfirmed,
        commandsPerOp: await topLevelPerOp(admin, op[v], ids(`confirm-mon-${v}`, 100)),
      };
    }
    // with / without, per pair of blocks (adjacent, so drift cancels), then the median.
    const blockRatios = out.with.claimsPerSecondBlocks.map((r, i) => r / out.without.claimsPerSecondBlocks[i]).filter(Number.isFinite);
    out.ratio = {
      claimsPerSecond: median(blockRatios),
      claimsPerSecondBlocks: blockRatios,
      usMean: out.with.usMean / out.without.usMean,
      p50Us: out.with.p50Us / out.without.p50Us,
      p99Us: out.with.p99Us / out.without.p99Us,
    };
    out.replication = (await admin.info('replication')).match(/^(connected_slaves|slave0):.*$/gm)?.join('; ') ?? null;
    return out;
  } finally {
    for (const close of closers.reverse()) await Promise.resolve().then(close).catch(() => {});
    await stop(replica);
  }
}

/** ioredis as the measured build resolves it. */
function redisClass(DIST) {
  const ioredis = createRequire(join(DIST, 'index.js'))('ioredis');
  return ioredis.default ?? ioredis;
}

/** Waits (20 s at most) until the replica's link is up and the master lists it online; returns how long it took. */
async function waitForReplica(master, replica, child) {
  const t0 = Date.now();
  while (Date.now() - t0 < 20_000) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`replica exited:\n${child.output}`);
    const [r, m] = await Promise.all([replica.info('replication').catch(() => ''), master.info('replication').catch(() => '')]);
    if (/^master_link_status:up/m.test(r) && /^slave0:.*state=online/m.test(m)) return Date.now() - t0;
    await sleep(50);
  }
  throw new Error(`replica link not up after 20 s:\n${child.output.slice(-2000)}`);
}

/**
 * The two claimers, `with` (confirmReplicas: 1) and `without` (0): Registries when this build's Registry passes
 * confirmReplicas to its store (a probe claim then sends WAIT), else stores built directly, else `{ skipped }`.
 */
async function confirmVariants(api, DIST, url, keyPrefix, admin, closers) {
  const sendsWait = async (op, tag) => {
    await admin.config('RESETSTAT');
    for (let i = 0; i < 3; i++) await op(`confirm-probe-${tag}-${i}`);
    return (commandStats(await admin.info('commandstats')).wait ?? 0) > 0;
  };
  let reason = 'Registry passes confirmReplicas to its store';
  try {
    const registries = [1, 0].map((confirmReplicas) => new api.Registry({ redis: url, keyPrefix, cache: false, memberListRefreshMs: 60_000, confirmReplicas }));
    for (const registry of registries) {
      closers.push(() => registry.close());
      await registry.ready();
    }
    const [withR, withoutR] = registries.map((registry) => (id) => registry.resolveDestination(id, { claimOnMiss: true }));
    if (await sendsWait(withR, 'registry')) return { via: 'Registry', reason, with: withR, without: withoutR };
    reason = "this build's Registry does not pass confirmReplicas to its store: a probe claim with confirmReplicas: 1 sent no WAIT";
  } catch (err) {
    reason = `Registry({ confirmReplicas }) failed: ${String(err.message ?? err).split('\n')[0]}`;
  }
  let createCoordinatorStore;
  try {
    ({ createCoordinatorStore } = await import(pathToFileURL(join(DIST, 'coordinator', 'store', 'index.js')).href));
  } catch {
    /* an older layout */
  }
  if (typeof createCoordinatorStore !== 'function') return { skipped: `${reason}; and dist/coordinator/store/index.js exports no createCoordinatorStore` };
  const stores = [1, 0].map((confirmReplicas) => createCoordinatorStore(url, { keyPrefix, confirmReplicas }));
  for (const store of stores) closers.push(() => store.close());
  const [withS, withoutS] = stores.map((store) => (destinationId) => store.resolve({ destinationId, claimOnMiss: true, reassignOrphans: false, candidate: null }));
  if (await sendsWait(withS, 'store')) return { via: 'RedisCoordinatorStore', reason, with: withS, without: withoutS };
  return { skipped: `${reason}; and this build's store sends no WAIT with confirmReplicas: 1 (a build before keyway issue 12)` };
}

const median = (xs) => {
  const v = xs.filter(Number.isFinite).sort((a, b) => a - b);
  if (v.length === 0) return null;
  const m = Math.floor(v.length / 2);
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
};

/** Nearest-rank percentile of an ascending array. */
function percentile(sorted, p) {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))] : null;
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

/** Runs `op` over `ids` with 64 in flight, bounded in time (PHASE_LIMIT_MS or `until`); returns how many ran. */
async function inBatches(ids, op, concurrency = 64, until = Infinity) {
  const deadline = Math.min(Date.now() + PHASE_LIMIT_MS, until);
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
  return {
    ops: done,
    opsPerSecond: done / seconds,
    usPerOp,
    commandsPerOp: await topLevelPerOp(admin, op, monIds),
    commands: Object.entries(commands).map(([k, v]) => `${k} ${(v / done).toFixed(2)}/op`).join(', ') || 'none',
  };
}

/** Top-level commands (MONITOR, Lua-internal calls excluded) per `op` over `monIds`. */
async function topLevelPerOp(admin, op, monIds) {
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
  return Math.max(0, topLevel - 1) / monIds.length;
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
