#!/usr/bin/env node
/**
 * @module bench/singleton: keyway's cluster singletons against the seed's approach (@fluxstack/live-redis's
 * forwardAction: a bare pub/sub request/response), on a private redis-server, in one run: round-trip latency at a
 * paced rate, throughput through one owner, and failover time after `kill -9` of the owner.
 *
 *   node bench/singleton.mjs [--quick] [--rounds N]
 *
 * Every instance is a child process (`bench/singleton-instance.mjs`): the owner (or the seed's responder) alone on
 * CPU 1, redis-server, the callers and this script on CPU 0 (as `bench/run.mjs` gives the proxy under test CPU 1).
 * --quick: 3 s per measurement instead of 10 s (latency) and 5 s (throughput); --rounds N splits each candidate's
 * latency time into N rounds (default 2, quick 1), alternating the order. Prints markdown tables; writes nothing.
 */
import { once } from 'node:events';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { cpuSeconds, freePort, killOnExit, LOAD_CPU, pinSelf, PROXY_CPU, startPinned, stopAll, waitForPort } from './lib/procs.mjs';
import { distDir, ensureBuild, snapshotDist } from './lib/setup.mjs';
import { CommandChild } from './lib/child-rpc.mjs';

const { values: args } = parseArgs({
  options: { quick: { type: 'boolean', default: false }, rounds: { type: 'string' }, help: { type: 'boolean', default: false } },
});
if (args.help) {
  console.log(`usage: node bench/singleton.mjs [--quick] [--rounds N]
--quick: ~3 s per measurement, for a smoke run; --rounds N: latency rounds (default 2, quick 1), the time split among them`);
  process.exit(0);
}
const rounds = Number(args.rounds ?? (args.quick ? 1 : 2));
if (!Number.isInteger(rounds) || rounds < 1) {
  console.error(`bench: --rounds must be a whole number >= 1, got ${args.rounds}`);
  process.exit(2);
}

const REDIS_SERVER = '/usr/bin/redis-server';
const HELPER = fileURLToPath(new URL('./singleton-instance.mjs', import.meta.url));
const OWNER_CPU = PROXY_CPU;
const CALLER_CPU = LOAD_CPU;
const settings = {
  mode: args.quick ? 'quick' : 'full',
  rate: 1000,
  warmupMs: 1000,
  /** Per candidate, over all rounds (ms). */
  latencyMs: args.quick ? 3000 : 10_000,
  /** Latency rounds, candidates in ABCD then DCBA order, so that drift over the run does not favour one of them. */
  latencyRounds: rounds,
  concurrency: 64,
  floodWarmupMs: args.quick ? 500 : 1000,
  floodMs: args.quick ? 3000 : 5000,
  failoverRuns: 3,
  failoverRate: 200,
  /** How long the caller runs against the first owner before it is killed (ms). */
  failoverLeadMs: args.quick ? 500 : 1000,
  /** Longest wait for a new owner to answer after the kill (ms): far past the target, short of the seed's TTL. */
  failoverLimitMs: 10_000,
  leaseMs: 1000,
};
const TARGETS = { addedP50Ms: 0.5, addedP99Ms: 2, failoverMs: 1000 };
/** The seed's default `singletonTtl` (s): a dead owner's claim blocks the others until its key expires. */
const SEED_TTL_MS = 30_000;
const wallNow = () => performance.timeOrigin + performance.now();


/** Starts an instance and waits for it to be ready; `role`, when given, must be the role it reports. */
async function startInstance(label, cpu, config, role) {
  const inst = new CommandChild(label, startPinned(cpu, process.execPath, [HELPER, JSON.stringify(config)]));
  const ready = await Promise.race([inst.ready, sleep(20_000).then(() => Promise.reject(new Error(`${label} not ready after 20 s`)))]);
  inst.instanceId = ready.instanceId;
  if (role !== undefined && ready.role !== role) throw new Error(`${label} started as ${ready.role}, expected ${role}`);
  return inst;
}

/** CPU seconds of each pid now (a pid that is gone counts as null). */
function cpuOf(pids) {
  return pids.map((pid) => {
    try {
      return cpuSeconds(pid);
    } catch {
      return null;
    }
  });
}

/**
 * Runs `cmd` on `caller` and measures, over the child's measured window, the CPU of `roles` ({ name: pid }). Returns
 * the child's figures plus `cpuUsed` ({ name: CPU seconds }) and `windowS`, or `{ error }`.
 */
async function measure(label, caller, cmd, params, roles, timeoutMs) {
  const names = Object.keys(roles);
  const pids = Object.values(roles);
  let before;
  let t0;
  const t = Date.now();
  try {
    const r = await caller.command(cmd, params, {
      timeoutMs,
      onMeasuring: () => {
        before = cpuOf(pids);
        t0 = performance.now();
      },
    });
    const after = cpuOf(pids);
    r.windowS = (performance.now() - t0) / 1000;
    r.cpuUsed = Object.fromEntries(names.map((name, i) => [name, before?.[i] == null || after[i] == null ? null : after[i] - before[i]]));
    console.error(`bench: ${label}: ${r.n} calls, p50 ${f(r.p50, 3)} ms, p99 ${f(r.p99, 3)} ms${r.callsPerSecond ? `, ${f(r.callsPerSecond)} calls/s` : ''}, errors ${r.errors} (${((Date.now() - t) / 1000).toFixed(1)} s)`);
    return r;
  } catch (err) {
    console.error(`bench: ${label}: FAILED ${String(err.message ?? err).split('\n')[0]}`);
    return { error: String(err.message ?? err).slice(0, 1500) };
  }
}

/** Nearest-rank percentiles (ms) of `latencies`. */
function summarise(latencies) {
  const v = Float64Array.from(latencies).sort();
  const at = (p) => (v.length ? v[Math.min(v.length - 1, Math.max(0, Math.ceil(p * v.length) - 1))] : null);
  return { n: v.length, p50: at(0.5), p90: at(0.9), p99: at(0.99), max: v.length ? v[v.length - 1] : null };
}

const total = (xs) => (xs.some((x) => x == null) ? null : xs.reduce((a, b) => a + b, 0));

/** CPU cores and µs per call of each role, over `parts` (measurements of one candidate) and their `calls`. */
function cpuOver(parts, calls) {
  const cpu = {};
  const windowS = total(parts.map((p) => p.windowS));
  for (const name of Object.keys(parts[0].cpuUsed ?? {})) {
    const used = total(parts.map((p) => p.cpuUsed[name]));
    cpu[name] = { cores: used == null || !windowS ? null : used / windowS, usPerCall: used == null || !calls ? null : (used * 1e6) / calls };
  }
  return cpu;
}

/** One candidate's paced rounds pooled: percentiles over every call of every round (a failed round fails it). */
function pool(parts) {
  const failed = parts.find((p) => p.error);
  if (failed) return failed;
  const latencies = parts.flatMap((p) => p.latencies);
  const errors = total(parts.map((p) => p.errors));
  const calls = latencies.length + errors;
  return {
    ...summarise(latencies),
    errors,
    firstError: parts.find((p) => p.firstError)?.firstError,
    achievedRate: calls / total(parts.map((p) => p.elapsedS)),
    unfinished: total(parts.map((p) => p.unfinished)),
    roundP50: parts.map((p) => p.p50),
    cpu: cpuOver(parts, calls),
  };
}

/** Sections 1 and 2: one keyway owner + mirror and one seed responder + requester, all started up front. */
async function latencyAndThroughput(url, redisPid) {
  const out = { latency: {}, throughput: {} };
  const instances = [];
  try {
    const kp = `bsg${process.pid}k`;
    const owner = await startInstance('keyway owner', OWNER_CPU, { mode: 'keyway', redis: url, keyPrefix: kp, leaseMs: settings.leaseMs }, 'owner');
    instances.push(owner);
    const mirror = await startInstance('keyway mirror', CALLER_CPU, { mode: 'keyway', redis: url, keyPrefix: kp, leaseMs: settings.leaseMs }, 'mirror');
    instances.push(mirror);
    const sp = `bsg${process.pid}s:`;
    const responder = await startInstance('seed responder', OWNER_CPU, { mode: 'seed', redis: url, keyPrefix: sp });
    instances.push(responder);
    const requester = await startInstance('seed requester', CALLER_CPU, { mode: 'seed', redis: url, keyPrefix: sp });
    instances.push(requester);

    const durationMs = Math.round(settings.latencyMs / settings.latencyRounds);
    const paced = { rate: settings.rate, warmupMs: settings.warmupMs, durationMs, raw: true };
    const pacedLimit = settings.warmupMs + durationMs + 15_000;
    // [caller, command parameters, { role: pid } whose CPU is measured]
    const candidates = {
      ping: [mirror, { op: 'ping' }, { caller: mirror.pid, redis: redisPid }],
      direct: [owner, { op: 'call' }, { owner: owner.pid, redis: redisPid }],
      forwarded: [mirror, { op: 'call' }, { caller: mirror.pid, owner: owner.pid, redis: redisPid }],
      seed: [requester, { op: 'call', target: responder.instanceId }, { caller: requester.pid, owner: responder.pid, redis: redisPid }],
    };
    const order = Object.keys(candidates);
    const parts = Object.fromEntries(order.map((k) => [k, []]));
    for (let round = 1; round <= settings.latencyRounds; round++) {
      for (const k of round % 2 === 1 ? order : [...order].reverse()) {
        const [caller, params, roles] = candidates[k];
        parts[k].push(await measure(`latency ${k} (round ${round})`, caller, 'paced', { ...paced, ...params }, roles, pacedLimit));
      }
    }
    for (const k of order) out.latency[k] = pool(parts[k]);

    const flood = { concurrency: settings.concurrency, warmupMs: settings.floodWarmupMs, durationMs: settings.floodMs };
    const floodLimit = settings.floodWarmupMs + settings.floodMs + 15_000;
    const T = out.throughput;
    const withCpu = (r) => (r.error ? r : { ...r, cpu: cpuOver([r], r.n + r.errors) });
    T.forwarded = withCpu(await measure('throughput keyway forwarded', mirror, 'flood', { ...flood, op: 'call' },
      { caller: mirror.pid, owner: owner.pid, redis: redisPid }, floodLimit));
    T.seed = withCpu(await measure('throughput seed', requester, 'flood', { ...flood, op: 'call', target: responder.instanceId },
      { caller: requester.pid, owner: responder.pid, redis: redisPid }, floodLimit));
    T.direct = withCpu(await measure('throughput keyway direct', owner, 'flood', { ...flood, op: 'call' }, { owner: owner.pid, redis: redisPid }, floodLimit));
    // The owner must have owned it throughout, or the figures above measured something else.
    out.ownerRoleAfter = (await owner.command('role')).role;
  } catch (err) {
    console.error(`bench: latency/throughput setup FAILED ${String(err.message ?? err).split('\n')[0]}`);
    out.error = String(err.message ?? err).slice(0, 1500);
  } finally {
    await Promise.all(instances.map((i) => i.close()));
  }
  return out;
}

/**
 * One failover: owner A (CPU 1), caller B and standby C (mirrors); B calls at the failover rate; after a lead time A
 * is killed with SIGKILL; the result is the time from the kill to the first call answered by another process.
 */
async function failoverOnce(url, run) {
  const kp = `bsg${process.pid}f${run}`;
  const config = { mode: 'keyway', redis: url, keyPrefix: kp, leaseMs: settings.leaseMs };
  const instances = [];
  try {
    const a = await startInstance(`failover ${run} owner`, OWNER_CPU, config, 'owner');
    instances.push(a);
    const b = await startInstance(`failover ${run} caller`, CALLER_CPU, config, 'mirror');
    instances.push(b);
    const c = await startInstance(`failover ${run} standby`, OWNER_CPU, config, 'mirror');
    instances.push(c);
    const answers = [];
    b.on('answerer', (m) => answers.push(m));
    const answeredBy = (test, limitMs) =>
      new Promise((resolve) => {
        const check = () => answers.find(test);
        const found = check();
        if (found) return resolve(found);
        const timer = setTimeout(() => {
          b.off('answerer', onAnswer);
          resolve(null);
        }, limitMs);
        const onAnswer = () => {
          const m = check();
          if (!m) return;
          clearTimeout(timer);
          b.off('answerer', onAnswer);
          resolve(m);
        };
        b.on('answerer', onAnswer);
      });
    await b.command('load', { rate: settings.failoverRate, deadlineMs: 5000 });
    if (!(await answeredBy((m) => m.pid === a.pid, 5000))) throw new Error('the first owner answered no call within 5 s');
    await sleep(settings.failoverLeadMs);
    const gone = once(a.child, 'exit');
    const killedAt = wallNow();
    process.kill(a.pid, 'SIGKILL');
    await gone;
    const first = await answeredBy((m) => m.pid !== a.pid && m.at >= killedAt, settings.failoverLimitMs);
    // A moment more, so that calls held up by the failover finish and are counted.
    await sleep(300);
    const load = await b.command('stop-load', {}, { timeoutMs: 10_000 });
    const result = {
      run,
      failoverMs: first ? first.at - killedAt : null,
      sentAfterKillMs: first ? first.sentAt - killedAt : null,
      newOwner: first ? (first.pid === b.pid ? 'caller (mirror B)' : first.pid === c.pid ? 'standby (mirror C)' : `pid ${first.pid}`) : 'none',
      ...load,
    };
    console.error(`bench: failover ${run}: ${f(result.failoverMs, 1)} ms, new owner ${result.newOwner}, ${load.failed} calls failed`);
    return result;
  } catch (err) {
    console.error(`bench: failover ${run}: FAILED ${String(err.message ?? err).split('\n')[0]}`);
    return { run, error: String(err.message ?? err).slice(0, 1500) };
  } finally {
    await Promise.all(instances.map((i) => i.close()));
  }
}

async function main() {
  killOnExit();
  pinSelf(LOAD_CPU);
  ensureBuild();
  if (!existsSync(join(distDir(), 'singleton', 'index.js'))) throw new Error(`${distDir()}/singleton/index.js is missing: run npm run build`);
  const snapshot = snapshotDist();
  const dir = mkdtempSync(join(os.tmpdir(), 'keyway-bench-singleton-'));
  let port = await freePort();
  while (port === 6379) port = await freePort();
  const redis = startPinned(LOAD_CPU, REDIS_SERVER, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir]);
  const results = { settings, meta: meta(snapshot) };
  try {
    await waitForPort(port, { child: redis });
    const url = `redis://127.0.0.1:${port}`;
    Object.assign(results, await latencyAndThroughput(url, redis.pid));
    results.failover = [];
    for (let run = 1; run <= settings.failoverRuns; run++) results.failover.push(await failoverOnce(url, run));
  } finally {
    await stopAll();
    rmSync(dir, { recursive: true, force: true });
    snapshot.remove();
  }
  console.log(render(results));
  process.exit(0);
}

function meta(snapshot) {
  let redisVersion = '?';
  try {
    redisVersion = /v=(\S+)/.exec(execFileSync(REDIS_SERVER, ['--version']).toString())?.[1] ?? '?';
  } catch {
    /* reported as ? */
  }
  return {
    cpu: os.cpus()[0]?.model ?? '?',
    cores: os.cpus().length,
    node: process.version,
    redis: redisVersion,
    loadAverage: os.loadavg(),
    started: new Date().toISOString(),
    distBuilt: snapshot.built,
  };
}

// ---- report ------------------------------------------------------------------------------------------------------

function f(n, digits = 0) {
  return n == null || !Number.isFinite(n) ? '-' : n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}
const ratio = (a, b) => {
  if (a == null || b == null || !b) return '-';
  const v = a / b;
  return `${Math.abs(v) >= 0.1 ? v.toFixed(2) : v.toPrecision(2)}x`;
};
const diff = (a, b) => (a == null || b == null ? null : a - b);
const verdict = (value, target) => (value == null ? '-' : value <= target ? 'met' : 'missed');
const cpuCell = (cpu, key, digits) => ['caller', 'owner', 'redis'].map((k) => f(cpu?.[k]?.[key], digits)).join(' / ');

function render(r) {
  const m = r.meta;
  const s = r.settings;
  const lines = [];
  lines.push(
    `**keyway singleton bench (${s.mode})**: ${m.cpu} x ${m.cores}, node ${m.node}, redis-server ${m.redis}, load average ${m.loadAverage.map((x) => x.toFixed(2)).join(' ')}, ${m.started}, dist built ${m.distBuilt}`,
    '',
    `Loopback, private redis-server (\`--save '' --appendonly no\`). Owner / seed responder on CPU ${OWNER_CPU}; redis-server, callers and orchestrator on CPU ${CALLER_CPU}. Each candidate is its own process.`,
    'CPU is user + system time from /proc over the measured window; the caller\'s includes its own pacing timer; for a direct call the caller is the owner.',
    '',
  );
  if (r.error) lines.push(`**Latency and throughput FAILED**: ${r.error.split('\n')[0]}`, '');
  lines.push(...latencySection(r.latency ?? {}, s));
  if (r.ownerRoleAfter && r.ownerRoleAfter !== 'owner') lines.push(`**Warning**: the keyway owner ended as ${r.ownerRoleAfter}: some calls above were served elsewhere.`, '');
  lines.push(...throughputSection(r.throughput ?? {}, s));
  lines.push(...failoverSection(r.failover ?? [], s));
  return lines.join('\n');
}

function latencySection(L, s) {
  const rows = [
    ['redis PING (baseline, from the mirror process)', L.ping],
    ['a. keyway direct (on the owner: local call + commit)', L.direct],
    ['b. keyway forwarded (mirror process -> owner process)', L.forwarded],
    ['c. seed pub/sub request/response (no commit, no fencing)', L.seed],
  ];
  const out = [
    `### 1. Round-trip latency at a paced ${f(s.rate)} calls/s (open loop; ${s.latencyMs / 1000} s per candidate${s.latencyRounds > 1 ? ` in ${s.latencyRounds} rounds, ABCD then DCBA,` : ''} each after ${s.warmupMs / 1000} s warm-up)`,
    '',
    '| candidate | calls | errors | calls/s | p50 ms | p90 ms | p99 ms | max ms | p50 per round ms | CPU µs/call caller / owner / redis |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const [name, d] of rows) {
    if (!d || d.error) {
      out.push(`| ${name} | FAILED: ${(d?.error ?? 'not run').split('\n')[0].slice(0, 200)} | | | | | | | | |`);
      continue;
    }
    // A direct call's caller is the owner: its CPU is shown once, as the owner's.
    const errors = `${d.errors}${d.firstError ? ` (${d.firstError})` : ''}${d.unfinished ? `, ${d.unfinished} unfinished` : ''}`;
    out.push(`| ${name} | ${f(d.n)} | ${errors} | ${f(d.achievedRate)} | ${f(d.p50, 3)} | ${f(d.p90, 3)} | ${f(d.p99, 3)} | ${f(d.max, 3)} | ${d.roundP50.map((x) => f(x, 3)).join(', ')} | ${cpuCell(d.cpu, 'usPerCall', 1)} |`);
  }
  const ok = (d) => d && !d.error;
  const pair = (name, a, b) => `| ${name} | ${['p50', 'p90', 'p99', 'max'].map((k) => (ok(a) && ok(b) ? ratio(a[k], b[k]) : '-')).join(' | ')} |`;
  out.push(
    '',
    '| ratio (below 1: the first is faster) | p50 | p90 | p99 | max |',
    '|---|---:|---:|---:|---:|',
    pair('b / c: keyway forwarded / seed', L.forwarded, L.seed),
    pair('b / a: keyway forwarded / keyway direct', L.forwarded, L.direct),
    pair('a / PING: keyway direct / one Redis round trip', L.direct, L.ping),
    pair('c / PING: seed / one Redis round trip', L.seed, L.ping),
  );
  const added = (a, b, k) => (ok(a) && ok(b) ? diff(a[k], b[k]) : null);
  const addedRow = (name, a, b, withTargets) => {
    const p50 = added(a, b, 'p50');
    const p99 = added(a, b, 'p99');
    const t50 = withTargets ? `<= ${TARGETS.addedP50Ms}: ${verdict(p50, TARGETS.addedP50Ms)}` : '(reference)';
    const t99 = withTargets ? `<= ${TARGETS.addedP99Ms}: ${verdict(p99, TARGETS.addedP99Ms)}` : '(reference)';
    return `| ${name} | ${f(p50, 3)} | ${t50} | ${f(p99, 3)} | ${t99} |`;
  };
  out.push(
    '',
    '| added latency (difference of percentiles) | p50 ms | target | p99 ms | target |',
    '|---|---:|---|---:|---|',
    addedRow('b − a: forwarding, over a direct call', L.forwarded, L.direct, true),
    addedRow('b − PING: keyway forwarded, over one Redis round trip', L.forwarded, L.ping, true),
    addedRow('c − PING: seed, over one Redis round trip', L.seed, L.ping, false),
    addedRow('b − c: keyway forwarded, over the seed', L.forwarded, L.seed, false),
    '',
    'Differences of percentiles of two runs, not percentiles of a difference: negative where the first has the shorter tail.',
    '',
  );
  return out;
}

function throughputSection(T, s) {
  const rows = [
    ['keyway forwarded (mirror process -> owner process)', T.forwarded],
    ['seed pub/sub request/response', T.seed],
    ['keyway direct (on the owner), reference', T.direct],
  ];
  const out = [
    `### 2. Throughput through one owner: ${s.concurrency} concurrent callers in one process, ${s.floodMs / 1000} s after ${s.floodWarmupMs / 1000} s warm-up (closed loop)`,
    '',
    '| candidate | calls/s | errors | p50 ms | p99 ms | max ms | CPU cores caller / owner / redis | CPU µs/call caller / owner / redis |',
    '|---|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const [name, d] of rows) {
    if (!d || d.error) {
      out.push(`| ${name} | FAILED: ${(d?.error ?? 'not run').split('\n')[0].slice(0, 200)} | | | | | | |`);
      continue;
    }
    out.push(`| ${name} | ${f(d.callsPerSecond)} | ${d.errors}${d.firstError ? ` (${d.firstError})` : ''} | ${f(d.p50, 3)} | ${f(d.p99, 3)} | ${f(d.max, 3)} | ${cpuCell(d.cpu, 'cores', 2)} | ${cpuCell(d.cpu, 'usPerCall', 1)} |`);
  }
  const rate = (d) => (d && !d.error ? d.callsPerSecond : null);
  out.push(
    '',
    '| ratio (calls/s; above 1: the first is faster) | value |',
    '|---|---:|',
    `| keyway forwarded / seed | ${ratio(rate(T.forwarded), rate(T.seed))} |`,
    `| keyway direct / seed | ${ratio(rate(T.direct), rate(T.seed))} |`,
    `| keyway forwarded / keyway direct | ${ratio(rate(T.forwarded), rate(T.direct))} |`,
    '',
    "keyway's owner runs actions one at a time, each committed to Redis (one Lua round trip) before the next starts; the seed's responder answers each request as it arrives, with nothing committed.",
    '',
  );
  return out;
}

function failoverSection(runs, s) {
  const out = [
    `### 3. Failover after \`kill -9\` of the owner (a mirror process calling at ${s.failoverRate}/s, a standby mirror, leaseMs ${s.leaseMs})`,
    '',
    '| run | new owner | kill -> first call answered by it, ms | that call sent, ms after the kill | calls ok | calls failed | slowest call ms |',
    '|---|---|---:|---:|---:|---:|---:|',
  ];
  for (const d of runs) {
    if (d.error) {
      out.push(`| ${d.run} | FAILED: ${d.error.split('\n')[0].slice(0, 200)} | | | | | |`);
      continue;
    }
    const codes = Object.entries(d.codes ?? {}).map(([k, v]) => `${k} ${v}`).join(', ');
    out.push(`| ${d.run} | ${d.newOwner} | ${f(d.failoverMs, 1)} | ${f(d.sentAfterKillMs, 1)} | ${f(d.ok)} | ${d.failed}${codes ? ` (${codes})` : ''} | ${f(d.slowestMs, 1)} |`);
  }
  const times = runs.map((d) => d.failoverMs).filter(Number.isFinite).sort((a, b) => a - b);
  const median = times.length === 0 ? null : times.length % 2 ? times[(times.length - 1) / 2] : (times[times.length / 2 - 1] + times[times.length / 2]) / 2;
  const missing = runs.length - times.length;
  out.push(
    '',
    '| failover | ms | target |',
    '|---|---:|---|',
    `| keyway, median of ${times.length} run(s)${missing ? ` (${missing} without a new owner within ${s.failoverLimitMs / 1000} s)` : ''} | ${f(median, 1)} | <= ${TARGETS.failoverMs}: ${missing ? 'missed' : verdict(median, TARGETS.failoverMs)} |`,
    `| seed: a survivor claims once the dead owner's key expires (singletonTtl default 30 s; not measured) | ${f(SEED_TTL_MS)} | |`,
    `| ratio keyway / seed | ${ratio(median, SEED_TTL_MS)} | |`,
    '',
  );
  return out;
}

main().catch(async (err) => {
  console.error(err);
  await stopAll();
  process.exit(1);
});
