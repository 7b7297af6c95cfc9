#!/usr/bin/env node
/**
 * @module bench/cluster: keyway's cluster mode against `node:cluster` and PM2's cluster mode, side by side in one
 * run, each with 2 workers running the same unchanged app (bench/cluster-app.mjs, which calls `listen(PORT)`):
 *
 *   - keyway per connection: `startCluster({ balance: 'connection' })` (bench/cluster-keyway-primary.mjs);
 *   - keyway per request: `startCluster({ balance: 'request' })`;
 *   - node:cluster: a tiny primary forking 2 workers, default round-robin scheduling (bench/cluster-node-primary.mjs);
 *   - PM2: `pm2 start bench/cluster-app.mjs -i 2` (node_modules/.bin/pm2, a private PM2_HOME, `pm2 kill` after).
 *
 * Apps: hello-world, and a skewed mix (10 % of requests burn 50 ms of CPU, the rest answer at once). Each peer gets
 * the same wrk load (one thread, pinned to CPU 0): a fixed number of keep-alive connections (default 32) for S
 * seconds after a warm-up, and for the skewed mix also a new connection per request (`Connection: close`). Then a
 * reload phase per peer on hello-world: ~300 req/s (paced wrk, 16 connections) while the peer replaces both of its
 * workers (keyway `primary.reload()`, `pm2 reload`, node:cluster a hand-written rolling restart: fork, wait for
 * listening, `disconnect()` the old one), counting failed requests.
 *
 *   node bench/cluster.mjs [--quick] [--rounds N] [--seconds S] [--connections C] [--peers kwconn,kwreq,node,pm2]
 *                          [--out FILE | --no-write]
 *
 * Peers run one after the other, in ABCD order, then DCBA in a second round (--rounds); figures are the median over
 * rounds. The workers are not pinned (both CPUs): on 2 cores, wrk competes with the workers for CPU. Prints a
 * markdown report and writes it to bench/results/2026-12-02-cluster.md (a full run; --quick writes nothing unless
 * --out is given). CLUSTER_BENCH_LOG=1 copies every child's output to stderr.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { freePort, killOnExit, LOAD_CPU, runPinned, startPinned, stop, stopAll, waitForPort } from './lib/procs.mjs';
import { distDir, ensureBuild, ensureCommands, REPO, snapshotDist } from './lib/setup.mjs';
import { runWrk } from './lib/wrk.mjs';

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    rounds: { type: 'string' },
    seconds: { type: 'string' },
    connections: { type: 'string', default: '32' },
    peers: { type: 'string', default: 'kwconn,kwreq,node,pm2' },
    out: { type: 'string' },
    'no-write': { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});
if (args.help) {
  console.log('usage: node bench/cluster.mjs [--quick] [--rounds N] [--seconds S] [--connections C] [--peers kwconn,kwreq,node,pm2] [--out FILE | --no-write]');
  process.exit(0);
}
const PEERS = {
  kwconn: 'keyway cluster, per connection',
  kwreq: 'keyway cluster, per request',
  node: 'node:cluster (round-robin)',
  pm2: 'PM2 cluster mode (-i 2)',
};
const peers = args.peers.split(',').filter(Boolean);
for (const p of peers) {
  if (!(p in PEERS)) {
    console.error(`bench: unknown peer ${p} (${Object.keys(PEERS).join(', ')})`);
    process.exit(2);
  }
}
const quick = args.quick;
const settings = {
  mode: quick ? 'quick' : 'full',
  workers: 2,
  connections: Number(args.connections),
  seconds: Number(args.seconds ?? (quick ? 2 : 8)),
  warmupSeconds: 1,
  rounds: Number(args.rounds ?? 1),
  reloadRate: 300,
  reloadConnections: 16,
  reloadSeconds: quick ? 4 : 6,
  reloadAfterMs: 1000,
};
const TARGETS = { rpsVsNode: 0.95, p99VsPeers: 0.5, reloadFailures: 0 };
const HERE = fileURLToPath(new URL('.', import.meta.url));
const APP = join(HERE, 'cluster-app.mjs');
const PM2 = join(REPO, 'node_modules', '.bin', 'pm2');
const WRK_REPORT = join(HERE, 'wrk', 'report.lua');
// The peer's processes may use both CPUs; wrk and this script stay on CPU 0 (as in bench/lib/wrk.mjs).
const ALL_CPUS = '0,1';
const LOG = process.env.CLUSTER_BENCH_LOG === '1';
let tmp;

// ---- peers -------------------------------------------------------------------------------------------------------

/** Starts `peer` running `app` on a free port; resolves `{ port, reload(), close() }` once both workers answer. */
async function startPeer(peer, app) {
  const port = await freePort();
  const env = { PORT: String(port), CLUSTER_APP: app, CLUSTER_WORKERS: String(settings.workers) };
  if (peer === 'pm2') return startPm2(port, env);
  const script = peer === 'node' ? 'cluster-node-primary.mjs' : 'cluster-keyway-primary.mjs';
  if (peer !== 'node') env.CLUSTER_BALANCE = peer === 'kwreq' ? 'request' : 'connection';
  const child = startPinned(ALL_CPUS, process.execPath, [join(HERE, script)], { env, log: LOG });
  await waitForLine(child, /^READY/m, 20_000);
  await waitForWorkers(port);
  return {
    port,
    child,
    async reload() {
      const from = child.output.length;
      process.kill(child.pid, 'SIGUSR2');
      await waitForLine(child, /^RELOADED/m, 60_000, from);
    },
    close: () => stop(child, 5000),
  };
}

async function startPm2(port, env) {
  const home = mkdtempSync(join(tmp, 'pm2-home-'));
  const pm2env = { ...env, PM2_HOME: home };
  const pm2 = (...a) => runPinned(ALL_CPUS, process.execPath, [PM2, ...a], { env: pm2env, timeoutMs: 60_000 });
  live.pm2Homes.add(home);
  await pm2('start', APP, '-i', String(settings.workers), '--name', 'kwbench', '--no-autorestart', '--time');
  await waitForPort(port, { timeoutMs: 20_000 });
  await waitForWorkers(port);
  return {
    port,
    reload: () => pm2('reload', 'kwbench'),
    async close() {
      await pm2('kill').catch(() => {});
      live.pm2Homes.delete(home);
    },
  };
}

const live = { pm2Homes: new Set() };
/** `pm2 kill` for every PM2_HOME still live: synchronous, so that it also runs in an 'exit' handler. */
function killPm2Now() {
  for (const home of live.pm2Homes) {
    try {
      execFileSync(process.execPath, [PM2, 'kill'], { env: { ...process.env, PM2_HOME: home }, stdio: 'ignore', timeout: 20_000 });
    } catch {
      /* best effort */
    }
  }
  live.pm2Homes.clear();
}

async function waitForLine(child, re, timeoutMs, from = 0) {
  const deadline = Date.now() + timeoutMs;
  while (!re.test(child.output.slice(from))) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`peer exited (${child.exitCode ?? child.signalCode}):\n${child.output.slice(-3000)}`);
    if (Date.now() > deadline) throw new Error(`no ${re} within ${timeoutMs} ms:\n${child.output.slice(-3000)}`);
    await sleep(20);
  }
}

/** One GET on a new connection: `{ status, worker }`, or `{ error }`. */
function get(port) {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/', agent: false, timeout: 2000 }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode, worker: res.headers['x-worker'] }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (err) => resolve({ error: err.code ?? err.message }));
  });
}

/** The distinct worker pids seen over `n` new connections. */
async function workersSeen(port, n = 40) {
  const seen = new Set();
  for (let i = 0; i < n; i++) {
    const r = await get(port);
    if (r.worker) seen.add(r.worker);
  }
  return [...seen].sort();
}

/** Until `settings.workers` distinct workers answer (20 s at most). */
async function waitForWorkers(port) {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    if ((await workersSeen(port, 20)).length >= settings.workers) return;
    await sleep(100);
  }
  throw new Error(`fewer than ${settings.workers} workers answer on ${port} after 20 s`);
}

// ---- load ----------------------------------------------------------------------------------------------------------

/** wrk with a new connection per request: report.lua with `Connection: close` on every request. */
async function runWrkClose({ port, connections, seconds }) {
  const script = join(tmp, 'close.lua');
  if (!existsSync(script)) writeFileSync(script, `wrk.headers["Connection"] = "close"\n${readFileSync(WRK_REPORT, 'utf8')}`);
  const text = await runPinned(
    LOAD_CPU,
    'wrk',
    ['-t1', `-c${connections}`, `-d${seconds}s`, '--timeout', '5s', '--latency', '-s', script, `http://127.0.0.1:${port}/`],
    { timeoutMs: (seconds + 30) * 1000, env: { BENCH_DELAY_MS: '0' } },
  );
  return fromWrk(text);
}

function fromWrk(text) {
  const line = text.split('\n').find((l) => l.startsWith('BENCH_JSON '));
  if (!line) throw new Error(`wrk printed no result:\n${text}`);
  const p = JSON.parse(line.slice('BENCH_JSON '.length));
  return {
    rps: p.requests / (p.duration_us / 1e6),
    requests: p.requests,
    errors: p.connect + p.read + p.write + p.status + p.timeout,
    errorKinds: { connect: p.connect, read: p.read, write: p.write, status: p.status, timeout: p.timeout },
    p50Ms: p.p50 / 1000,
    p90Ms: p.p90 / 1000,
    p99Ms: p.p99 / 1000,
    maxMs: p.max / 1000,
  };
}

/** Keep-alive (or `close`: a new connection per request) load after a warm-up of the same kind. */
async function measure(port, kind) {
  const connections = settings.connections;
  const run = (seconds) =>
    kind === 'close'
      ? runWrkClose({ port, connections, seconds })
      : runWrk({ ports: [port], connections, seconds }).then((r) => ({ ...fromWrk(r.text) }));
  await run(settings.warmupSeconds);
  return run(settings.seconds);
}

/** Paced load while the peer reloads both workers: failed requests, reload time, workers before and after. */
async function reloadPhase(p) {
  const before = await workersSeen(p.port, 20);
  const load = runWrk({ ports: [p.port], connections: settings.reloadConnections, seconds: settings.reloadSeconds, rate: settings.reloadRate }).then((r) => fromWrk(r.text));
  await sleep(settings.reloadAfterMs);
  const t0 = Date.now();
  let reloadError = null;
  await p.reload().catch((err) => (reloadError = String(err.message ?? err).split('\n')[0]));
  const reloadMs = Date.now() - t0;
  const result = await load;
  const after = await workersSeen(p.port, 20);
  const replaced = after.length > 0 && after.every((w) => !before.includes(w));
  return { ...result, reloadMs, reloadError, before, after, replaced, finishedWithinLoad: reloadMs + settings.reloadAfterMs < settings.reloadSeconds * 1000 };
}

// ---- run -----------------------------------------------------------------------------------------------------------

async function main() {
  killOnExit();
  process.on('exit', killPm2Now);
  ensureCommands(['wrk', 'taskset']);
  ensureBuild();
  if (!existsSync(join(distDir(), 'cluster', 'index.js'))) throw new Error(`${distDir()}/cluster/index.js is missing: run npm run build`);
  if (peers.includes('pm2') && !existsSync(PM2)) throw new Error('node_modules/.bin/pm2 is missing: npm install (pm2 is a devDependency)');
  const snapshot = snapshotDist();
  tmp = mkdtempSync(join(os.tmpdir(), 'keyway-bench-cluster-'));
  const t0 = Date.now();
  const raw = {}; // raw[scenario][peer] = [round results]
  const put = (scenario, peer, value) => ((raw[scenario] ??= {})[peer] ??= []).push(value);
  const scenarios = [
    ['hello', 'keepalive'],
    ['skew', 'keepalive'],
    ['skew', 'close'],
  ];
  try {
    for (let round = 0; round < settings.rounds; round++) {
      const order = round % 2 === 0 ? peers : [...peers].reverse();
      for (const app of ['hello', 'skew']) {
        for (const peer of order) {
          let p;
          try {
            p = await startPeer(peer, app);
            for (const [a, kind] of scenarios) {
              if (a !== app) continue;
              const r = await measure(p.port, kind).catch((err) => ({ error: String(err.message ?? err).slice(0, 500) }));
              put(`${app}-${kind}`, peer, r);
              console.error(`bench: round ${round + 1} ${app}/${kind} ${peer}: ${r.error ?? `${f(r.rps)} req/s, p50 ${f(r.p50Ms, 2)} ms, p99 ${f(r.p99Ms, 2)} ms, ${r.errors} errors`}`);
            }
          } catch (err) {
            for (const [a, kind] of scenarios) if (a === app) put(`${app}-${kind}`, peer, { error: String(err.message ?? err).slice(0, 500) });
            console.error(`bench: ${peer} ${app} FAILED: ${String(err.message ?? err).split('\n')[0]}`);
          } finally {
            await p?.close().catch(() => {});
          }
        }
      }
      for (const peer of order) {
        let p;
        try {
          p = await startPeer(peer, 'hello');
          const r = await reloadPhase(p);
          put('reload', peer, r);
          console.error(`bench: round ${round + 1} reload ${peer}: ${r.requests} requests, ${r.errors} failed ${JSON.stringify(r.errorKinds)}, reload ${r.reloadMs} ms, replaced ${r.replaced}`);
        } catch (err) {
          put('reload', peer, { error: String(err.message ?? err).slice(0, 500) });
          console.error(`bench: reload ${peer} FAILED: ${String(err.message ?? err).split('\n')[0]}`);
        } finally {
          await p?.close().catch(() => {});
        }
      }
    }
  } finally {
    await stopAll();
    killPm2Now();
    rmSync(tmp, { recursive: true, force: true });
    snapshot.remove();
  }
  const report = render({ raw, meta: meta(snapshot, Date.now() - t0) });
  console.log(report);
  const out = args.out ?? (quick || args['no-write'] ? null : join(HERE, 'results', '2026-12-02-cluster.md'));
  if (out && !args['no-write']) {
    writeFileSync(out, `${report}\n`);
    console.error(`bench: wrote ${out}`);
  }
  process.exit(0);
}

function meta(snapshot, elapsedMs) {
  let wrk = '?';
  try {
    wrk = /wrk (\S+)/.exec(execFileSync('sh', ['-c', 'wrk -v 2>&1 || true']).toString())?.[1] ?? '?';
  } catch {
    /* reported as ? */
  }
  let pm2 = '?';
  try {
    pm2 = JSON.parse(readFileSync(join(REPO, 'node_modules', 'pm2', 'package.json'), 'utf8')).version;
  } catch {
    /* reported as ? */
  }
  return {
    cpu: os.cpus()[0]?.model ?? '?',
    cores: os.cpus().length,
    node: process.version,
    wrk,
    pm2,
    loadAverage: os.loadavg(),
    started: new Date(Date.now() - elapsedMs).toISOString(),
    elapsedS: elapsedMs / 1000,
    distBuilt: snapshot.built,
  };
}

// ---- report --------------------------------------------------------------------------------------------------------

function f(n, digits = 0) {
  return n == null || !Number.isFinite(n) ? '-' : n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}
const ratio = (a, b) => (a == null || b == null || !b ? null : a / b);
const fx = (v) => (v == null || !Number.isFinite(v) ? '-' : `${v.toFixed(2)}x`);
const median = (xs) => {
  const v = xs.filter(Number.isFinite).sort((a, b) => a - b);
  if (v.length === 0) return null;
  const m = Math.floor(v.length / 2);
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
};
/** The median over rounds of each figure; `error` when every round failed. */
function merged(rounds) {
  const ok = (rounds ?? []).filter((r) => !r.error);
  if (ok.length === 0) return { error: rounds?.[0]?.error ?? 'not run' };
  const keys = ['rps', 'p50Ms', 'p90Ms', 'p99Ms', 'maxMs'];
  const out = Object.fromEntries(keys.map((k) => [k, median(ok.map((r) => r[k]))]));
  out.errors = ok.reduce((a, r) => a + r.errors, 0);
  out.requests = ok.reduce((a, r) => a + r.requests, 0);
  out.perRound = ok;
  return out;
}
const verdict = (ok) => (ok == null ? '-' : ok ? 'met' : 'missed');

function render({ raw, meta: m }) {
  const s = settings;
  const lines = [
    `**keyway cluster bench (${s.mode})**: ${m.cpu} x ${m.cores}, node ${m.node}, wrk ${m.wrk}, pm2 ${m.pm2}, load average ${m.loadAverage.map((x) => x.toFixed(2)).join(' ')}, ${m.started}, ${f(m.elapsedS)} s, dist built ${m.distBuilt}`,
    '',
    `Every peer runs ${s.workers} workers of the same unchanged app (\`bench/cluster-app.mjs\`, \`http.createServer().listen(PORT)\`), one peer at a time, ${s.rounds} round(s)${s.rounds > 1 ? ' (ABCD, then DCBA; medians)' : ''}. wrk ${m.wrk}, one thread, pinned to CPU 0; the peers' processes (primary and workers) are not pinned.`,
    `**On 2 cores the load generator competes with the workers for CPU**: wrk, the primary (keyway's, node:cluster's, PM2's God daemon) and the 2 workers share 2 CPUs, so absolute figures are low and a peer whose primary does more per request (keyway per request proxies every request through the primary) pays for it twice.`,
    `Load: ${s.connections} connections, ${s.seconds} s after ${s.warmupSeconds} s warm-up; keep-alive, and for the skewed mix also a new connection per request (\`Connection: close\`). Skewed mix: 10 % of requests (at random) burn 50 ms of CPU in a busy loop, the rest answer at once.`,
    '',
  ];
  const scen = [
    ['hello-keepalive', `1. hello-world, ${s.connections} keep-alive connections`],
    ['skew-keepalive', `2. skewed mix (10 % burn 50 ms), ${s.connections} keep-alive connections`],
    ['skew-close', `3. skewed mix, a new connection per request (${s.connections} at a time)`],
  ];
  const M = {};
  for (const [key, title] of scen) {
    M[key] = Object.fromEntries(peers.map((p) => [p, merged(raw[key]?.[p])]));
    const node = M[key].node;
    const pm2 = M[key].pm2;
    lines.push(`### ${title}`, '', '| peer | req/s | p50 ms | p90 ms | p99 ms | max ms | errors | req/s / node:cluster | p99 / node:cluster | p99 / PM2 |', '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
    for (const p of peers) {
      const d = M[key][p];
      if (d.error) {
        lines.push(`| ${PEERS[p]} | FAILED: ${d.error.split('\n')[0].slice(0, 200)} | | | | | | | | |`);
        continue;
      }
      const rps = s.rounds > 1 ? `${f(d.rps)} (${d.perRound.map((r) => f(r.rps)).join(', ')})` : f(d.rps);
      lines.push(
        `| ${PEERS[p]} | ${rps} | ${f(d.p50Ms, 2)} | ${f(d.p90Ms, 2)} | ${f(d.p99Ms, 2)} | ${f(d.maxMs, 1)} | ${d.errors} | ${fx(ratio(d.rps, node?.rps))} | ${fx(ratio(d.p99Ms, node?.p99Ms))} | ${fx(ratio(d.p99Ms, pm2?.p99Ms))} |`,
      );
    }
    lines.push('');
  }
  const R = Object.fromEntries(peers.map((p) => [p, raw.reload?.[p] ?? []]));
  lines.push(
    `### 4. Reload under load: ~${s.reloadRate} req/s (paced wrk, ${s.reloadConnections} keep-alive connections, ${s.reloadSeconds} s), reload of both workers asked ${s.reloadAfterMs / 1000} s in`,
    '',
    'keyway: `primary.reload()`; PM2: `pm2 reload kwbench`; node:cluster: a hand-written rolling restart (fork, wait for `listening`, `worker.disconnect()` the old one, SIGKILL after 5 s). "Replaced": no worker pid seen before the reload answers after it.',
    '',
    '| peer | requests | failed | failed by kind (wrk) | reload took ms | replaced |',
    '|---|---:|---:|---|---:|---|',
  );
  for (const p of peers) {
    for (const d of R[p]) {
      if (d.error) {
        lines.push(`| ${PEERS[p]} | FAILED: ${d.error.split('\n')[0].slice(0, 200)} | | | | |`);
        continue;
      }
      const kinds = Object.entries(d.errorKinds).filter(([, v]) => v > 0).map(([k, v]) => `${k} ${v}`).join(', ') || '-';
      lines.push(`| ${PEERS[p]} | ${f(d.requests)} | ${d.errors} | ${kinds} | ${f(d.reloadMs)}${d.reloadError ? ` (${d.reloadError})` : ''}${d.finishedWithinLoad ? '' : ' (past the end of the load)'} | ${d.replaced ? 'yes' : `no (${d.before.join(',')} -> ${d.after.join(',')})`} |`);
    }
  }
  lines.push('');
  // Targets (from the issue).
  const rpsOf = (key, p) => (M[key]?.[p] && !M[key][p].error ? M[key][p].rps : null);
  const p99Of = (key, p) => (M[key]?.[p] && !M[key][p].error ? M[key][p].p99Ms : null);
  const failures = (p) => (R[p]?.length && R[p].every((d) => !d.error) ? R[p].reduce((a, d) => a + d.errors, 0) : null);
  const rows = [];
  const helloR = ratio(rpsOf('hello-keepalive', 'kwconn'), rpsOf('hello-keepalive', 'node'));
  rows.push([`${PEERS.kwconn} req/s / node:cluster, hello-world`, fx(helloR), `>= ${TARGETS.rpsVsNode}x`, verdict(helloR == null ? null : helloR >= TARGETS.rpsVsNode)]);
  for (const key of ['skew-keepalive', 'skew-close']) {
    const label = key === 'skew-close' ? 'skewed, new connection per request' : 'skewed, keep-alive';
    for (const kp of ['kwconn', 'kwreq']) {
      for (const other of ['node', 'pm2']) {
        const v = ratio(p99Of(key, kp), p99Of(key, other));
        rows.push([`${PEERS[kp]} p99 / ${other === 'node' ? 'node:cluster' : 'PM2'}, ${label}`, fx(v), `<= ${TARGETS.p99VsPeers}x`, verdict(v == null ? null : v <= TARGETS.p99VsPeers)]);
      }
    }
  }
  for (const p of ['kwconn', 'kwreq']) {
    const n = failures(p);
    rows.push([`${PEERS[p]}: failed requests during reload`, n == null ? '-' : String(n), `${TARGETS.reloadFailures}`, verdict(n == null ? null : n <= TARGETS.reloadFailures)]);
  }
  for (const p of ['pm2', 'node']) {
    const n = failures(p);
    rows.push([`${PEERS[p]}: failed requests during reload (reference)`, n == null ? '-' : String(n), '(counted)', '']);
  }
  lines.push('### Targets (from the issue)', '', '| target | value | target | verdict |', '|---|---:|---|---|', ...rows.filter((r) => peers.some((p) => r[0].includes(PEERS[p]))).map((r) => `| ${r.join(' | ')} |`), '');
  return lines.join('\n');
}

main().catch(async (err) => {
  console.error(err);
  await stopAll();
  killPm2Now();
  process.exit(1);
});
