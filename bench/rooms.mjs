#!/usr/bin/env node
/**
 * @module bench/rooms: keyway's rooms against socket.io with `@socket.io/redis-adapter` (classic, pub/sub) and with
 * `@socket.io/redis-streams-adapter`, on one private redis-server, in one run: 4 server instances, 100 rooms of 40
 * member WebSockets (10 on each instance), 1 KB messages. Delivered messages/s with a bounded window of messages in
 * flight, publish -> receipt latency at a fixed offered rate, each message delivered once and in order, and the cost
 * of listing a room's members (`room.members()` against `io.in(room).fetchSockets()`), also with an instance stopped
 * (SIGSTOP) and killed (SIGKILL).
 *
 *   node bench/rooms.mjs [--quick] [--peers keyway,classic,streams] [--rounds N] [--seconds S] [--rate R]
 *                        [--window W] [--client raw|lib] [--rooms N] [--per-instance N] [--instances N] [--spread S] [--profile DIR] [--out FILE | --no-write]
 *
 * Processes: the 4 instances (`bench/rooms-instance.mjs`) on CPU 1; redis-server, the client process
 * (`bench/rooms-client.mjs`: every member socket and the load generator) and this script on CPU 0 (as
 * `bench/run.mjs` gives the proxy under test CPU 1). Each peer gets fresh instances and a fresh client process on a
 * flushed redis-server; peers run one after the other (ABC, then CBA in a second round). Prints a markdown report and
 * writes it to bench/results/<date>-rooms.md (a full run; --quick writes nothing unless --out is given).
 *
 * --profile DIR writes a CPU profile of every instance over the window phase (node:inspector) to DIR; summarise one
 * with `node bench/profile.mjs FILE`. ROOMS_BENCH_LOG=1 copies every child's output to stderr.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { cpuSeconds, freePort, killOnExit, LOAD_CPU, memory, pinSelf, PROXY_CPU, startPinned, stopAll, waitForPort } from './lib/procs.mjs';
import { distDir, ensureBuild, ensureCommands, REPO, snapshotDist } from './lib/setup.mjs';
import { CommandChild } from './lib/child-rpc.mjs';

/** A bench child process pinned to `cpu`, running `script` with `config`, driven by commands. */
const startChild = (label, cpu, script, config) =>
  new CommandChild(label, startPinned(cpu, process.execPath, [script, JSON.stringify(config)], { log: process.env.ROOMS_BENCH_LOG === '1' }));

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    peers: { type: 'string', default: 'keyway,classic,streams' },
    rounds: { type: 'string' },
    seconds: { type: 'string' },
    rate: { type: 'string' },
    window: { type: 'string' },
    client: { type: 'string', default: 'raw' },
    rooms: { type: 'string', default: '100' },
    'per-instance': { type: 'string', default: '10' },
    instances: { type: 'string', default: '4' },
    spread: { type: 'string' },
    out: { type: 'string' },
    profile: { type: 'string' },
    'no-write': { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});
if (args.help) {
  console.log(`usage: node bench/rooms.mjs [--quick] [--peers keyway,classic,streams] [--rounds N] [--seconds S] [--rate R]
                            [--window W] [--client raw|lib] [--rooms N] [--per-instance N] [--instances N] [--spread S] [--profile DIR] [--out FILE | --no-write]
--quick: 2 s per phase, a smoke run (writes nothing unless --out); --seconds S: per phase (paced and window), default 8
--rate R: paced messages/s (default 250: 10,000 deliveries/s); --window W: messages in flight (default 64)
--client lib: ws / socket.io-client objects and full JSON parsing instead of the lean raw sockets
--spread S: each room's members on S of the instances (room r on r .. r + S - 1), split evenly; default all of them
--profile DIR: a CPU profile of each instance over the window phase, written to DIR (summarise: node bench/profile.mjs FILE)`);
  process.exit(0);
}
const whole = (name, v, min) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) {
    console.error(`bench: --${name} must be a whole number >= ${min}, got ${v}`);
    process.exit(2);
  }
  return n;
};
const PEERS = { keyway: 'keyway rooms', classic: 'socket.io + redis-adapter (classic)', streams: 'socket.io + redis-streams-adapter' };
const peers = args.peers.split(',').filter(Boolean);
for (const p of peers) {
  if (!(p in PEERS)) {
    console.error(`bench: unknown peer ${p} (keyway, classic, streams)`);
    process.exit(2);
  }
}
if (args.client !== 'raw' && args.client !== 'lib') {
  console.error(`bench: --client must be raw or lib, got ${args.client}`);
  process.exit(2);
}
const phaseMs = whole('seconds', args.seconds ?? (args.quick ? 2 : 8), 1) * 1000;
const settings = {
  mode: args.quick ? 'quick' : 'full',
  client: args.client,
  instances: whole('instances', args.instances, 1),
  rooms: whole('rooms', args.rooms, 1),
  perInstance: whole('per-instance', args['per-instance'], 1),
  spread: whole('spread', args.spread ?? args.instances, 1),
  rounds: whole('rounds', args.rounds ?? 1, 1),
  rate: whole('rate', args.rate ?? 250, 1),
  window: whole('window', args.window ?? 64, 1),
  warmupMs: args.quick ? 500 : 1000,
  phaseMs,
  drainMs: 3000,
  /** A message still owed to some member after this long gives its window slot up. */
  releaseMs: 2000,
  membersCalls: args.quick ? 200 : 500,
  idleMs: args.quick ? 1000 : 2000,
  /** Concurrent listings while an instance is stopped or killed (each may wait for the adapter's timeout). */
  faultCalls: 3,
  faultTimeoutMs: 15_000,
};
if (settings.spread > settings.instances || (settings.instances * settings.perInstance) % settings.spread !== 0) {
  console.error(`--spread must be at most --instances and divide the members of a room (${settings.instances * settings.perInstance})`);
  process.exit(2);
}
const TARGETS = { vsClassic: 1, vsStreams: 2, membersP99Ms: 1 };
const INSTANCE = fileURLToPath(new URL('./rooms-instance.mjs', import.meta.url));
const CLIENT = fileURLToPath(new URL('./rooms-client.mjs', import.meta.url));
const REDIS_SERVER = '/usr/bin/redis-server';
const SERVER_CPU = PROXY_CPU;
const CLIENT_CPU = LOAD_CPU;
const NODE_PEERS = ['socket.io', 'socket.io-client', '@socket.io/redis-adapter', '@socket.io/redis-streams-adapter', 'ws', 'ioredis'];


async function started(child, limitMs = 20_000) {
  await Promise.race([child.ready, sleep(limitMs).then(() => Promise.reject(new Error(`${child.label} not ready after ${limitMs / 1000} s`)))]);
  return child;
}

function cpuOf(pids) {
  return pids.map((pid) => {
    try {
      return cpuSeconds(pid);
    } catch {
      return null;
    }
  });
}

/** Busy and total jiffies of each CPU (/proc/stat): how busy each core was, whoever used it. */
function cpuTimes() {
  const out = {};
  for (const line of readFileSync('/proc/stat', 'utf8').split('\n')) {
    const m = /^cpu(\d+)\s+(.*)$/.exec(line);
    if (!m) continue;
    const v = m[2].split(/\s+/).map(Number);
    const idle = v[3] + (v[4] ?? 0);
    const total = v.slice(0, 8).reduce((a, b) => a + b, 0);
    out[m[1]] = { busy: total - idle, total };
  }
  return out;
}

/** `INFO commandstats` as { command: { calls, usec } }. */
async function commandStats(redis) {
  const out = {};
  for (const line of (await redis.info('commandstats')).split('\n')) {
    const m = /^cmdstat_([^:]+):calls=(\d+),usec=(\d+)/.exec(line.trim());
    if (m) out[m[1]] = { calls: Number(m[2]), usec: Number(m[3]) };
  }
  return out;
}

/**
 * One load phase on the client, with the CPU of every role and Redis's command counts over its measured window.
 * Returns the client's figures plus `cpu` ({ role: cores }), `redis` ({ calls, usec, byCommand }).
 */
async function phase(label, client, params, roles, redis, profiled = []) {
  const names = Object.keys(roles);
  const pids = Object.values(roles);
  let before;
  let after;
  let t0;
  let t1;
  let reset;
  let stats;
  let cores0;
  let cores1;
  const t = Date.now();
  try {
    const r = await client.command('run', params, {
      timeoutMs: params.warmupMs + params.durationMs + params.drainMs + 20_000,
      onMeasuring: () => {
        cores0 = cpuTimes();
        for (const p of profiled) p.inst.command('profile-start').catch((err) => console.error(`bench: profile: ${err.message}`));
        before = cpuOf(pids);
        t0 = performance.now();
        reset = redis.config('RESETSTAT');
      },
      onMeasured: () => {
        cores1 = cpuTimes();
        after = cpuOf(pids);
        t1 = performance.now();
        for (const p of profiled) p.inst.command('profile-stop', { file: p.file }, { timeoutMs: 30_000 }).then((x) => console.error(`bench: profile ${x.file}`), (err) => console.error(`bench: profile: ${err.message}`));
        stats = Promise.resolve(reset).then(() => commandStats(redis));
      },
    });
    const windowS = (t1 - t0) / 1000;
    r.cpu = Object.fromEntries(names.map((n, i) => [n, before?.[i] == null || after?.[i] == null ? null : (after[i] - before[i]) / windowS]));
    r.coreBusy = Object.fromEntries(Object.keys(cores1 ?? {}).map((k) => [k, cores0?.[k] ? (cores1[k].busy - cores0[k].busy) / Math.max(1, cores1[k].total - cores0[k].total) : null]));
    const byCommand = await stats;
    r.redis = {
      calls: Object.values(byCommand).reduce((a, c) => a + c.calls, 0),
      usec: Object.values(byCommand).reduce((a, c) => a + c.usec, 0),
      byCommand,
    };
    console.error(
      `bench: ${label}: ${f(r.deliveredPerSecond)} deliveries/s, ${f(r.publishedPerSecond)} published/s, p50 ${f(r.p50, 2)} ms, p99 ${f(r.p99, 2)} ms, ` +
        `missing ${r.missingDeliveries}, repeated ${r.repeated} (${((Date.now() - t) / 1000).toFixed(1)} s)`,
    );
    return r;
  } catch (err) {
    console.error(`bench: ${label}: FAILED ${String(err.message ?? err).split('\n')[0]}`);
    return { error: String(err.message ?? err).slice(0, 1500) };
  }
}

async function listing(label, inst, params, timeoutMs) {
  try {
    const r = await inst.command('members', params, { timeoutMs });
    const errs = Object.keys(r.errors).length ? `, errors ${JSON.stringify(r.errors)}` : '';
    console.error(`bench: ${label}: ${r.n} calls, p50 ${f(r.p50, 3)} ms, p99 ${f(r.p99, 3)} ms, max ${f(r.max, 1)} ms, counts ${JSON.stringify(r.counts)}${errs}`);
    return r;
  } catch (err) {
    console.error(`bench: ${label}: FAILED ${String(err.message ?? err).split('\n')[0]}`);
    return { error: String(err.message ?? err).slice(0, 1500) };
  }
}

/** One peer: fresh instances and client on a flushed redis-server, every measurement, then everything stopped. */
async function runPeer(peer, round, url, redis, redisPid) {
  const out = { peer, round };
  const instances = [];
  let client;
  const tag = `${peer}${settings.rounds > 1 ? ` (round ${round})` : ''}`;
  const t = Date.now();
  try {
    await redis.flushall();
    const prefix = `br${process.pid}${peer[0]}${round}`;
    const ports = [];
    for (let i = 0; i < settings.instances; i++) {
      const port = await freePort();
      ports.push(port);
      instances.push(startChild(`${peer} instance ${i}`, SERVER_CPU, INSTANCE, { peer, redis: url, prefix, port }));
    }
    await Promise.all(instances.map((c) => started(c)));
    await Promise.all(ports.map((p) => waitForPort(p)));
    client = await started(
      startChild(`${peer} client`, CLIENT_CPU, CLIENT, {
        proto: peer === 'keyway' ? 'keyway' : 'socket.io',
        client: settings.client,
        ports,
        rooms: settings.rooms,
        perInstance: settings.perInstance,
        spread: settings.spread,
      }),
    );
    out.connect = await client.command('connect', {}, { timeoutMs: 120_000 });
    console.error(`bench: ${tag}: ${out.connect.joined} members joined in ${f(out.connect.connectMs)} ms${out.connect.failed ? `, ${out.connect.failed} failed (${out.connect.firstError})` : ''}`);
    out.memoryAfterConnect = instances.map((c) => memory(c.pid).rssKb);
    // Idle: what the peer asks of Redis with nobody publishing (keyway: each room's presence timer on each instance).
    await redis.config('RESETSTAT');
    const idleFrom = performance.now();
    await sleep(settings.idleMs);
    const idle = await commandStats(redis);
    const idleS = (performance.now() - idleFrom) / 1000;
    out.idle = {
      callsPerSecond: Object.values(idle).reduce((a, c) => a + c.calls, 0) / idleS,
      usecPerSecond: Object.values(idle).reduce((a, c) => a + c.usec, 0) / idleS,
      byCommand: idle,
    };

    const fetchTimeout = settings.faultTimeoutMs + 5000;
    out.ping = await listing(`${tag} PING`, instances[0], { rooms: settings.rooms, n: settings.membersCalls, op: 'ping' }, 60_000);
    out.members = await listing(`${tag} listing (${settings.instances} instances)`, instances[0], { rooms: settings.rooms, n: settings.membersCalls }, 60_000);

    const roles = { instances: instances.map((c) => c.pid), redis: redisPid, client: client.pid };
    const flat = { ...Object.fromEntries(roles.instances.map((pid, i) => [`i${i}`, pid])), redis: redisPid, client: client.pid };
    const common = { warmupMs: settings.warmupMs, durationMs: settings.phaseMs, drainMs: settings.drainMs };
    const withSum = (r) => {
      if (r.error || !r.cpu) return r;
      const sum = roles.instances.reduce((a, _p, i) => (a == null || r.cpu[`i${i}`] == null ? null : a + r.cpu[`i${i}`]), 0);
      r.cpu.instances = sum;
      return r;
    };
    const profiled = args.profile ? instances.map((inst, i) => ({ inst, file: join(args.profile, `${peer}-r${round}-i${i}-window.cpuprofile`) })) : [];
    out.window = withSum(await phase(`${tag} window ${settings.window}`, client, { ...common, kind: 'window', window: settings.window, releaseMs: settings.releaseMs }, flat, redis, profiled));
    out.paced = withSum(await phase(`${tag} paced ${settings.rate}/s`, client, { ...common, kind: 'paced', rate: settings.rate }, flat, redis));
    out.instanceStats = await Promise.all(instances.map((c) => c.command('stats').catch((err) => ({ error: String(err.message) }))));
    out.redisMemoryMb = Number(/used_memory:(\d+)/.exec(await redis.info('memory'))?.[1] ?? NaN) / 1e6;

    // One instance stopped (SIGSTOP: its sockets stay open, it answers nothing), then killed (its sockets close).
    const victim = instances[instances.length - 1];
    const faultParams = peer === 'keyway' ? { rooms: settings.rooms, n: 200 } : { rooms: settings.rooms, n: settings.faultCalls, concurrency: settings.faultCalls, timeoutMs: settings.faultTimeoutMs };
    if (settings.instances > 1) {
      process.kill(victim.pid, 'SIGSTOP');
      await sleep(100);
      out.stopped = await listing(`${tag} listing, 1 instance stopped`, instances[0], faultParams, fetchTimeout);
      process.kill(victim.pid, 'SIGCONT');
      process.kill(victim.pid, 'SIGKILL');
      await sleep(300);
      out.killed = await listing(`${tag} listing, 1 instance killed`, instances[0], faultParams, fetchTimeout);
    }
  } catch (err) {
    console.error(`bench: ${tag}: FAILED ${String(err.message ?? err).split('\n')[0]}`);
    out.error = String(err.message ?? err).slice(0, 1500);
  } finally {
    await Promise.all([client?.close(), ...instances.map((c) => c.close())]);
  }
  console.error(`bench: ${tag} done in ${((Date.now() - t) / 1000).toFixed(1)} s`);
  return out;
}

function ensureNodePeers() {
  const require = createRequire(join(REPO, 'package.json'));
  const missing = NODE_PEERS.filter((name) => {
    try {
      require.resolve(`${name}/package.json`);
      return false;
    } catch {
      return true;
    }
  });
  if (missing.length > 0) {
    console.error(`bench: npm install (missing ${missing.join(', ')})`);
    execFileSync('npm', ['install', '--no-audit', '--no-fund'], { cwd: REPO, stdio: ['ignore', 'inherit', 'inherit'] });
  }
}

async function main() {
  const begun = Date.now();
  killOnExit();
  pinSelf(LOAD_CPU);
  ensureCommands(['redis-server', 'taskset']);
  ensureNodePeers();
  ensureBuild();
  if (!existsSync(join(distDir(), 'rooms', 'index.js'))) throw new Error(`${distDir()}/rooms/index.js is missing: run npm run build`);
  const snapshot = snapshotDist();
  const dir = mkdtempSync(join(os.tmpdir(), 'keyway-bench-rooms-'));
  let port = await freePort();
  while (port === 6379) port = await freePort();
  const redisChild = startPinned(LOAD_CPU, REDIS_SERVER, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir]);
  const results = { settings, meta: meta(snapshot), runs: [] };
  let redis;
  try {
    await waitForPort(port, { child: redisChild });
    const url = `redis://127.0.0.1:${port}`;
    redis = new Redis(url, { maxRetriesPerRequest: 1 });
    redis.on('error', () => undefined);
    for (let round = 1; round <= settings.rounds; round++) {
      for (const peer of round % 2 === 1 ? peers : [...peers].reverse()) results.runs.push(await runPeer(peer, round, url, redis, redisChild.pid));
    }
  } finally {
    redis?.disconnect();
    await stopAll();
    rmSync(dir, { recursive: true, force: true });
    snapshot.remove();
  }
  results.meta.elapsedS = (Date.now() - begun) / 1000;
  results.meta.loadAverageEnd = os.loadavg();
  const report = render(results);
  console.log(report);
  const date = new Date().toISOString().slice(0, 10);
  const file = args['no-write'] ? null : args.out ?? (args.quick ? null : join(REPO, 'bench', 'results', `${date}-rooms.md`));
  if (file) {
    writeFileSync(file, `${report}\n`);
    console.error(`bench: wrote ${file}`);
  }
  process.exit(0);
}

function meta(snapshot) {
  const version = (cmd, re) => {
    try {
      return re.exec(execFileSync(cmd, ['--version']).toString())?.[1] ?? '?';
    } catch {
      return '?';
    }
  };
  const require = createRequire(join(REPO, 'package.json'));
  const pkg = (name) => {
    try {
      return require(`${name}/package.json`).version;
    } catch {
      return '?';
    }
  };
  return {
    cpu: os.cpus()[0]?.model ?? '?',
    cores: os.cpus().length,
    node: process.version,
    redis: version(REDIS_SERVER, /v=(\S+)/),
    versions: Object.fromEntries(['socket.io', 'socket.io-client', '@socket.io/redis-adapter', '@socket.io/redis-streams-adapter', 'ws', 'ioredis'].map((n) => [n, pkg(n)])),
    loadAverage: os.loadavg(),
    argv: process.argv.slice(2),
    started: new Date().toISOString(),
    distBuilt: snapshot.built,
  };
}

// ---- report ------------------------------------------------------------------------------------------------------

function f(n, digits = 0) {
  return n == null || !Number.isFinite(n) ? '-' : n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}
const median = (xs) => {
  const v = xs.filter(Number.isFinite).sort((a, b) => a - b);
  if (v.length === 0) return null;
  return v.length % 2 ? v[(v.length - 1) / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
};
const ok = (d) => d && !d.error;

function render(r) {
  const m = r.meta;
  const s = r.settings;
  const members = s.instances * s.perInstance;
  const lines = [];
  const v = m.versions;
  lines.push(
    `**keyway rooms bench (${s.mode})**: ${m.cpu} x ${m.cores}, node ${m.node}, redis-server ${m.redis}, socket.io ${v['socket.io']}, ` +
      `@socket.io/redis-adapter ${v['@socket.io/redis-adapter']}, @socket.io/redis-streams-adapter ${v['@socket.io/redis-streams-adapter']}, ` +
      `ws ${v.ws}, ioredis ${v.ioredis}, load average ${m.loadAverage.map((x) => x.toFixed(2)).join(' ')} at the start and ${m.loadAverageEnd.map((x) => x.toFixed(2)).join(' ')} at the end, ${m.started}, dist built ${m.distBuilt}, ` +
      `${f(m.elapsedS)} s in all`,
    '',
    `Command: \`node bench/rooms.mjs${m.argv.length ? ` ${m.argv.join(' ')}` : ''}\``,
    '',
    `${s.instances} instances (child processes, all on CPU ${SERVER_CPU}), ${s.rooms} rooms of ${members} members (${s.spread === s.instances ? `${s.perInstance} WebSockets on each instance` : `on ${s.spread} of the ${s.instances} instances, ${(members / s.spread).toFixed(0)} WebSockets on each: room r on instances r .. r + ${s.spread - 1} mod ${s.instances}, as a room-affine router places them`}), ` +
      `1 KB messages (1,024 bytes of JSON data). redis-server (private, no persistence), the client process (every member socket and ` +
      `the load generator) and the orchestrator on CPU ${CLIENT_CPU}. Each peer runs on fresh instances and a fresh client, on a flushed ` +
      `redis-server, ${s.rounds > 1 ? `${s.rounds} rounds (ABC, CBA, ...)` : 'one after the other'}; each phase is ${s.phaseMs / 1000} s after ${s.warmupMs / 1000} s of warm-up.`,
    '',
    `Room r is published through instance r % ${s.instances}: the client sends the data over a sender WebSocket to that instance, which calls ` +
      "`room.publish('m', data)` (keyway) or `io.to(room).emit('m', data)` (socket.io). Latency is from the client's send to each member's receipt, " +
      'on one clock (one process). ' +
      (s.client === 'raw'
        ? 'Clients are raw TCP sockets with minimal WebSocket framing speaking each peer\'s wire format (socket.io: engine.io 4 over the WebSocket transport, as socket.io-client with `transports: [\'websocket\']`); a delivery\'s fields are read from its first bytes, so the client costs the same for every peer.'
        : 'Clients are `ws` WebSockets (keyway) and socket.io-client sockets (socket.io, `transports: [\'websocket\']`), each delivery JSON-parsed in full.'),
    '',
  );
  const byPeer = {};
  for (const run of r.runs) (byPeer[run.peer] ??= []).push(run);
  const peerList = Object.keys(byPeer);
  const med = (peer, get) => median(byPeer[peer]?.map((run) => (ok(run) ? get(run) : null)).filter((x) => x != null) ?? []);
  const failures = r.runs.filter((run) => run.error);
  for (const run of failures) lines.push(`**${run.peer} (round ${run.round}) FAILED**: ${run.error.split('\n')[0]}`, '');

  // Targets and ratios first.
  const lp99 = (peer) => med(peer, (run) => (ok(run.members) ? run.members.p99 : null));
  const perRound = (peer, other, get) => {
    const out = [];
    for (let round = 1; round <= s.rounds; round++) {
      const a = r.runs.find((x) => x.peer === peer && x.round === round);
      const b = r.runs.find((x) => x.peer === other && x.round === round);
      const va = a && ok(a) ? get(a) : null;
      const vb = b && ok(b) ? get(b) : null;
      if (va != null && vb != null && vb) out.push(va / vb);
    }
    return median(out);
  };
  const rr = (x) => (x == null ? '-' : `${Math.abs(x) >= 0.1 ? x.toFixed(2) : x.toPrecision(2)}x`);
  const deliveries = (run) => (ok(run.window) ? run.window.deliveredPerSecond : null);
  lines.push('### Targets', '', '| target | measured | |', '|---|---:|---|');
  if (byPeer.keyway && byPeer.classic) {
    const x = perRound('keyway', 'classic', deliveries);
    lines.push(`| keyway >= ${TARGETS.vsClassic}x the classic adapter's delivered messages/s | ${rr(x)} | ${x == null ? '-' : x >= TARGETS.vsClassic ? 'met' : 'missed'} |`);
  }
  if (byPeer.keyway && byPeer.streams) {
    const x = perRound('keyway', 'streams', deliveries);
    lines.push(`| keyway >= ${TARGETS.vsStreams}x the streams adapter's delivered messages/s | ${rr(x)} | ${x == null ? '-' : x >= TARGETS.vsStreams ? 'met' : 'missed'} |`);
  }
  if (byPeer.keyway) {
    const x = lp99('keyway');
    const ping = med('keyway', (run) => (ok(run.ping) ? run.ping.p99 : null));
    lines.push(`| keyway \`members()\` p99 <= ${TARGETS.membersP99Ms} ms (${s.instances} instances) | ${f(x, 3)} ms (a plain PING from the same process: ${f(ping, 3)} ms) | ${x == null ? '-' : x <= TARGETS.membersP99Ms ? 'met' : 'missed'} |`);
  }
  const kwCheck = byPeer.keyway?.flatMap((run) => run.instanceStats ?? []) ?? [];
  if (byPeer.keyway) {
    const sum = (k) => kwCheck.reduce((a, c) => a + (c[k] ?? 0), 0);
    const clientSide = byPeer.keyway.reduce((a, run) => a + (['window', 'paced'].reduce((b, k) => b + (ok(run[k]) ? run[k].missingDeliveries + run[k].repeated + run[k].seqRepeated : 0), 0)), 0);
    const bad = sum('repeats') + sum('gaps') + sum('resyncs') + clientSide;
    lines.push(`| keyway: every message once and in order (seq) | ${f(sum('messages'))} messages checked on the instances, ${sum('repeats')} repeated, ${sum('missing')} missing (${sum('gaps')} gaps), ${sum('resyncs')} resyncs; clients: ${clientSide} missing or repeated${sum('subscribeFailures') ? `; \`subscribe()\` threw ${sum('subscribeFailures')} times while members joined (tried again, see 4.)` : ''} | ${bad === 0 ? 'met' : 'missed'} |`);
  }
  lines.push('');

  lines.push('### Ratios', '', `| measure | ${peerList.filter((p) => p !== 'keyway').map((p) => `keyway / ${p}`).join(' | ')} |`, `|---|${peerList.filter((p) => p !== 'keyway').map(() => '---:').join('|')}|`);
  const others = peerList.filter((p) => p !== 'keyway');
  const ratioRow = (name, get, note = '') => `| ${name}${note} | ${others.map((o) => rr(perRound('keyway', o, get))).join(' | ')} |`;
  if (byPeer.keyway && others.length) {
    lines.push(
      ratioRow(`delivered messages/s, window of ${s.window} (higher: keyway faster)`, deliveries),
      ratioRow(`p99 delivery latency at ${f(s.rate)} messages/s (lower: keyway faster)`, (run) => (ok(run.paced) ? run.paced.p99 : null)),
      ratioRow(`p50 delivery latency at ${f(s.rate)} messages/s`, (run) => (ok(run.paced) ? run.paced.p50 : null)),
      ratioRow('p99 of `members()` / `fetchSockets()`, 4 instances (lower: keyway faster)', (run) => (ok(run.members) ? run.members.p99 : null)),
      ratioRow('server CPU µs per delivery, window phase (lower: keyway cheaper)', (run) => (ok(run.window) && run.window.cpu?.instances != null ? (run.window.cpu.instances * 1e6) / run.window.deliveredPerSecond : null)),
      ratioRow('redis-server CPU µs per published message, window phase', (run) => (ok(run.window) && run.window.cpu?.redis != null ? (run.window.cpu.redis * 1e6) / run.window.publishedPerSecond : null)),
    );
    if (s.rounds > 1) lines.push('', 'Each ratio is the median over rounds of the ratio within a round.');
  }
  lines.push('');

  lines.push(...loadSection(`### 1. Throughput: a window of ${s.window} messages in flight (closed loop)`, r.runs, 'window', s));
  lines.push(...loadSection(`### 2. Latency at a fixed offered rate: ${f(s.rate)} messages/s (${f(s.rate * members)} deliveries/s), open loop`, r.runs, 'paced', s));
  lines.push(...listingSection(r.runs, s));
  lines.push(...checkSection(r.runs));
  lines.push(...redisSection(r.runs, s));
  return lines.join('\n');
}

function redisSection(runs, s) {
  const out = [
    '### 5. What each peer asks of Redis',
    '',
    '| peer | round | idle: scripts/s | idle: commands/s | idle: Redis CPU ms/s | window phase, per published message: calls (µs) by command | Redis memory after the load, MB |',
    '|---|---:|---:|---:|---:|---|---:|',
  ];
  for (const run of runs) {
    if (!ok(run)) continue;
    const w = run.window;
    let by = '-';
    if (ok(w) && w.redis) {
      const n = Math.max(1, w.published);
      by = Object.entries(w.redis.byCommand)
        .sort((a, b) => b[1].usec - a[1].usec)
        .filter(([, c]) => c.calls / n >= 0.05)
        .slice(0, 9)
        .map(([cmd, c]) => `${cmd} ${f(c.calls / n, 2)} (${f(c.usec / n, 1)})`)
        .join(', ');
    }
    const scripts = run.idle ? ['evalsha', 'eval'].reduce((a, k) => a + (run.idle.byCommand[k]?.calls ?? 0), 0) / (s.idleMs / 1000) : null;
    out.push(`| ${PEERS[run.peer]} | ${run.round} | ${f(scripts)} | ${f(run.idle?.callsPerSecond)} | ${f(run.idle == null ? null : run.idle.usecPerSecond / 1000, 1)} | ${by} | ${f(run.redisMemoryMb, 1)} |`);
  }
  out.push(
    '',
    `From \`INFO commandstats\` (reset at the start of each window), which counts the commands a Lua script runs as well as the script call itself (evalsha; its µs include theirs). Idle: ${s.idleMs / 1000} s after every member joined, nobody publishing.`,
    '',
  );
  return out;
}

function loadSection(title, runs, key, s) {
  const out = [
    title,
    '',
    '| peer | round | published/s | delivered/s | p50 ms | p90 ms | p99 ms | max ms | missing | repeated / reordered | CPU cores: instances / redis / client | CPU 0 / CPU 1 busy (anyone) | server CPU µs per delivery | redis-server CPU µs per message | Redis commands per message |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const run of runs) {
    const d = run[key];
    if (!ok(run) || !ok(d)) {
      out.push(`| ${PEERS[run.peer]} | ${run.round} | FAILED: ${(d?.error ?? run.error ?? 'not run').split('\n')[0].slice(0, 200)} | | | | | | | | | | | | |`);
      continue;
    }
    const c = d.cpu ?? {};
    const pct = (x) => (x == null ? '-' : `${Math.round(x * 100)} %`);
    const busy = `${pct(d.coreBusy?.[String(CLIENT_CPU)])} / ${pct(d.coreBusy?.[String(SERVER_CPU)])}`;
    const perDelivery = c.instances == null ? null : (c.instances * 1e6) / d.deliveredPerSecond;
    const repeated = d.repeated + (d.seqRepeated ? ` (seq ${d.seqRepeated})` : '');
    const missing = `${f(d.missingDeliveries)}${d.missingDeliveries ? ` of ${f(d.expectedDeliveries)}` : ''}${d.released ? `, ${d.released} slots released` : ''}`;
    out.push(
      `| ${PEERS[run.peer]} | ${run.round} | ${f(d.publishedPerSecond)} | ${f(d.deliveredPerSecond)} | ${f(d.p50, 2)} | ${f(d.p90, 2)} | ${f(d.p99, 2)} | ${f(d.max, 1)} | ${missing} | ${repeated} | ` +
        `${f(c.instances, 2)} / ${f(c.redis, 2)} / ${f(c.client, 2)} | ${busy} | ${f(perDelivery, 1)} | ${f(c.redis == null ? null : (c.redis * 1e6) / d.publishedPerSecond, 1)} | ${f(d.redis.calls / Math.max(1, d.published), 1)} |`,
    );
  }
  out.push(
    '',
    key === 'window'
      ? `Closed loop: a message holds its slot until every member of its room has it (or ${s.releaseMs / 1000} s pass). Delivered/s counts receipts in the ${s.phaseMs / 1000} s window; latency is of messages sent in it. Missing: deliveries still owed ${s.drainMs / 1000} s after the phase.`
      : `Open loop: message i is sent at t0 + i / rate whatever happened to the earlier ones. CPU is user + system time from /proc over the window (the instances' summed; one core is 1.00); CPU 0 / CPU 1 busy is the share of each core's time (from /proc/stat) that anything used, the bench or not.`,
    '',
  );
  return out;
}

function listingSection(runs, s) {
  const out = [
    `### 3. Listing a room's members from one instance (${s.instances} instances, ${s.instances * s.perInstance} members each, idle, one call at a time)`,
    '',
    '| peer | round | call | calls | p50 ms | p90 ms | p99 ms | max ms | members returned | PING from the same process: p50 / p99 ms | 1 instance stopped (SIGSTOP) | 1 instance killed (SIGKILL) |',
    '|---|---:|---|---:|---:|---:|---:|---:|---|---:|---|---|',
  ];
  const counts = (c) => Object.entries(c ?? {}).map(([k, n]) => `${k} (x${n})`).join(', ') || '-';
  const fault = (d) => {
    if (!d) return '-';
    if (d.error) return `FAILED: ${d.error.split('\n')[0].slice(0, 120)}`;
    const errs = Object.entries(d.errors ?? {}).map(([k, e]) => `${e.n} x "${k}" after ${e.ms.map((x) => f(x)).join('/')} ms`);
    const oks = d.n ? `${d.n} answered, p50 ${f(d.p50, 3)} / max ${f(d.max, 1)} ms, returned ${counts(d.counts)}` : '';
    return [oks, ...errs].filter(Boolean).join('; ');
  };
  for (const run of runs) {
    const d = run.members;
    const call = run.peer === 'keyway' ? '`room.members()`' : '`io.in(room).fetchSockets()`';
    if (!ok(run) || !ok(d)) {
      out.push(`| ${PEERS[run.peer]} | ${run.round} | ${call} | FAILED: ${(d?.error ?? run.error ?? 'not run').split('\n')[0].slice(0, 200)} | | | | | | | | |`);
      continue;
    }
    out.push(`| ${PEERS[run.peer]} | ${run.round} | ${call} | ${f(d.n)} | ${f(d.p50, 3)} | ${f(d.p90, 3)} | ${f(d.p99, 3)} | ${f(d.max, 2)} | ${counts(d.counts)} | ${ok(run.ping) ? `${f(run.ping.p50, 3)} / ${f(run.ping.p99, 3)}` : '-'} | ${fault(run.stopped)} | ${fault(run.killed)} |`);
  }
  out.push(
    '',
    'Stopped: the last instance gets SIGSTOP (its connections stay open; it answers nothing), then the first instance lists every room ' +
      `(keyway: 200 calls one at a time; socket.io: ${s.faultCalls} calls at once, each bounded at ${s.faultTimeoutMs / 1000} s). Killed: it gets SIGKILL ` +
      '(the kernel closes its connections) and the same listing runs 0.3 s later. keyway lists from Redis: a stopped or killed instance\'s members stay ' +
      'listed until its presence expires (presenceTtlMs, 10 s by default), then are announced as `leave` (expired). fetchSockets asks every other ' +
      'instance and waits for all answers (requestsTimeout, 5 s by default): the classic adapter counts instances by `PUBSUB NUMSUB` (a killed ' +
      'instance\'s subscription is gone at once, a stopped one\'s is not); the streams adapter by heartbeats (every 5 s or with any message; an ' +
      'instance silent for 10 s is dropped): by the killed listing the victim has been silent 5-10 s, so whether it is still waited for depends on ' +
      'when it last spoke.',
    '',
  );
  return out;
}

function checkSection(runs) {
  const out = ['### 4. Delivery checks', '', '| peer | round | members joined | deliveries checked | missing | repeated / reordered (n) | seq repeated (keyway) | instance-side: messages, repeated, missing, resyncs (keyway) | malformed | sockets closed |', '|---|---:|---:|---:|---:|---:|---:|---|---:|---:|'];
  for (const run of runs) {
    if (!ok(run)) {
      out.push(`| ${PEERS[run.peer]} | ${run.round} | FAILED | | | | | | | |`);
      continue;
    }
    const phases = ['window', 'paced'].map((k) => run[k]).filter(ok);
    const sum = (k) => phases.reduce((a, p) => a + (p[k] ?? 0), 0);
    const inst = run.instanceStats ?? [];
    const isum = (k) => inst.reduce((a, c) => a + (c[k] ?? 0), 0);
    const side = run.peer === 'keyway' ? `${f(isum('messages'))}, ${isum('repeats')}, ${isum('missing')}, ${isum('resyncs')}${isum('publishErrors') ? `; ${isum('publishErrors')} publish errors` : ''}${isum('subscribeFailures') ? `; ${isum('subscribeFailures')} subscribe() calls threw (tried again)` : ''}` : '-';
    out.push(`| ${PEERS[run.peer]} | ${run.round} | ${f(run.connect?.joined)}${run.connect?.failed ? ` (${run.connect.failed} failed)` : ''} | ${f(sum('received'))} | ${f(sum('missingDeliveries'))} | ${f(sum('repeated'))} | ${run.peer === 'keyway' ? f(sum('seqRepeated')) : '-'} | ${side} | ${f(sum('malformed'))} | ${f(sum('closed'))} |`);
  }
  out.push(
    '',
    'Per member socket, each delivery\'s room counter `n` must be the next (an earlier or equal one counts as repeated or reordered); keyway\'s `seq` ' +
      'must increase. Missing: deliveries owed to members after the drain. On the keyway instances, every message the room subscription hands over ' +
      '(joins too) must carry the next number.',
    '',
  );
  return out;
}

main().catch(async (err) => {
  console.error(err);
  await stopAll();
  process.exit(1);
});
