#!/usr/bin/env node
/**
 * @module bench/run: keyway against direct, nginx, HAProxy and the Node proxies, interleaved (A B C A B C) over
 * rounds. `npm run bench` (3 rounds, 10 s runs) or `npm run bench:quick` (1 round, 3 s runs, fewer idle sockets).
 *
 *   node bench/run.mjs [--quick] [--rounds N] [--seconds S] [--rate R] [--only a,b]
 *                      [--skip http,ws-echo,ws-idle,coordinator] [--compare DIR]
 *
 * --only keeps direct and keyway and names the peers to run besides; --rate is the paced run's req/s (2000).
 * --compare DIR adds keyway-before and keyway-realistic-before, started from the build output DIR (used in place),
 * each run back to back with its counterpart in every round, and the coordinator passes on DIR too.
 *
 * Writes bench/results/<date>-<mode>.md (ratio tables) and .json (every run), and prints the markdown.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { startNodeBackends } from './backends/node-backend.mjs';
import { startNginxBackend } from './backends/nginx-backend.mjs';
import { benchCoordinator } from './lib/coordinator.mjs';
import { freePort, HARD_NOFILE, killOnExit, LOAD_CPU, pinSelf, stopAll } from './lib/procs.mjs';
import { httpRun, wsEchoRun, wsIdleRun } from './lib/scenarios.mjs';
import { ensureBuild, ensureCommands, ensureNodePeers, REPO, snapshotDist, versions } from './lib/setup.mjs';
import direct from './peers/direct.mjs';
import fastifyHttpProxy from './peers/fastify-http-proxy.mjs';
import haproxy from './peers/haproxy.mjs';
import httpProxyMiddleware from './peers/http-proxy-middleware.mjs';
import httpProxy from './peers/http-proxy.mjs';
import keyway, { keywayBefore, realistic as keywayRealistic } from './peers/keyway.mjs';
import nginx from './peers/nginx.mjs';
import { renderReport } from './report.mjs';

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    rounds: { type: 'string' },
    seconds: { type: 'string' },
    rate: { type: 'string', default: '2000' },
    only: { type: 'string' },
    skip: { type: 'string', default: '' },
    compare: { type: 'string' },
    help: { type: 'boolean', default: false },
  },
});
if (args.help) {
  console.log(`usage: node bench/run.mjs [--quick] [--rounds N] [--seconds S] [--rate R] [--only peer,...]
                         [--skip http,ws-echo,ws-idle,coordinator] [--compare DIR]
peers: nginx, haproxy, http-proxy, http-proxy-middleware, fastify-http-proxy (direct and keyway always run)
--compare DIR: also run keyway from the build output DIR (e.g. a worktree's dist/) as keyway-before`);
  process.exit(0);
}

const mode = args.quick ? 'quick' : 'full';
const seconds = Number(args.seconds ?? (args.quick ? 3 : 10));
const settings = {
  mode,
  rounds: Number(args.rounds ?? (args.quick ? 1 : 3)),
  http: { connections: 50, seconds, warmupSeconds: args.quick ? 1 : 2, fixedSeconds: seconds, rate: Number(args.rate) },
  wsEcho: { connections: 50, seconds },
  // A proxy holds two descriptors per WebSocket; the hard fd limit may not allow 10,000 of them.
  wsIdle: { count: Math.min(args.quick ? 2000 : 10_000, Math.floor((HARD_NOFILE - 200) / 2)), settleMs: 2000 },
};
const skip = new Set(args.skip.split(',').filter(Boolean));
const only = args.only ? new Set(args.only.split(',')) : null;
const pick = (peers) => peers.filter((p) => p.kind === 'none' || p.name.startsWith('keyway') || !only || only.has(p.name));

const compareDir = args.compare ? resolve(args.compare) : null;
if (compareDir && !existsSync(join(compareDir, 'cli', 'main.js'))) {
  console.error(`bench: --compare ${args.compare}: no cli/main.js there (give a build output directory, such as a worktree's dist/)`);
  process.exit(2);
}
const [before, realisticBefore] = compareDir ? keywayBefore(compareDir) : [];
const HTTP_PEERS = pick([direct, keyway, before, keywayRealistic, realisticBefore, nginx, haproxy, httpProxy, httpProxyMiddleware, fastifyHttpProxy].filter(Boolean));
const WS_PEERS = pick([direct, keyway, before, nginx, haproxy, httpProxy, httpProxyMiddleware, fastifyHttpProxy].filter(Boolean));
const IDLE_PEERS = WS_PEERS.filter((p) => p.kind !== 'none');

/** `peers` in round `round`'s order: on even rounds each keyway-before runs before its counterpart instead of after. */
function inRound(peers, round) {
  const out = [...peers];
  if (round % 2 === 1) return out;
  for (let i = 1; i < out.length; i++) {
    if (out[i].name === `${out[i - 1].name}-before`) [out[i - 1], out[i]] = [out[i], out[i - 1]];
  }
  return out;
}

async function main() {
  killOnExit();
  pinSelf(LOAD_CPU);
  ensureCommands(['nginx', 'haproxy', 'wrk', 'taskset']);
  ensureNodePeers();
  ensureBuild();
  const snapshot = snapshotDist();
  const dir = mkdtempSync(join(os.tmpdir(), 'keyway-bench-'));
  const started = new Date();
  const results = { settings, meta: meta(started, snapshot), runs: [], coordinator: null };
  try {
    const nodePorts = [await freePort(), await freePort()];
    const nginxPorts = [await freePort(), await freePort()];
    await startNodeBackends(nodePorts);
    await startNginxBackend(nginxPorts, join(dir, 'nginx-backend'));
    const backendSets = [
      ['node', nodePorts],
      ['nginx', nginxPorts],
    ];
    for (let round = 1; round <= settings.rounds; round++) {
      if (!skip.has('http')) {
        for (const peer of inRound(HTTP_PEERS, round)) {
          for (const [backend, ports] of backendSets) {
            await record(results, { round, scenario: 'http', backend, peer }, () => httpRun(peer, ports, dir, settings.http));
          }
        }
      }
      if (!skip.has('ws-echo')) {
        for (const peer of inRound(WS_PEERS, round)) {
          await record(results, { round, scenario: 'ws-echo', backend: 'node', peer }, () =>
            wsEchoRun(peer, nodePorts, dir, settings.wsEcho),
          );
        }
      }
      if (!skip.has('ws-idle')) {
        for (const peer of inRound(IDLE_PEERS, round)) {
          await record(results, { round, scenario: 'ws-idle', backend: 'node', peer }, () =>
            wsIdleRun(peer, nodePorts, dir, settings.wsIdle),
          );
        }
      }
    }
    await stopAll();
    if (!skip.has('coordinator')) {
      results.coordinator = await benchCoordinator({ dir, quick: args.quick, build: results.meta.build });
      if (compareDir) results.coordinatorBefore = await benchCoordinator({ dir, quick: args.quick, build: compareDir, dist: compareDir });
    }
  } finally {
    await stopAll();
    rmSync(dir, { recursive: true, force: true });
    snapshot.remove();
  }
  results.meta.finished = new Date().toISOString();
  const markdown = renderReport(results);
  const outDir = join(REPO, 'bench', 'results');
  mkdirSync(outDir, { recursive: true });
  // A run limited by --skip or --only is named as such, so it is never mistaken for a whole one.
  const name = `${started.toISOString().slice(0, 16).replace(/[:T]/g, '-')}-${mode}${compareDir ? '-compare' : ''}${skip.size || only ? '-partial' : ''}`;
  writeFileSync(join(outDir, `${name}.md`), markdown);
  writeFileSync(join(outDir, `${name}.json`), `${JSON.stringify(results, null, 2)}\n`);
  console.log(markdown);
  console.error(`bench: wrote bench/results/${name}.md and .json`);
  // Whatever a measured library left open (a reconnecting client, a timer) must not keep the bench alive.
  process.exit(0);
}

/** Runs one measurement, logs a one-line summary, and keeps going when a single peer fails. */
async function record(results, { round, scenario, backend, peer }, fn) {
  const label = `[round ${round}] ${scenario} ${backend} ${peer.name}`;
  const t0 = Date.now();
  try {
    const data = await fn();
    results.runs.push({ round, scenario, backend, candidate: peer.name, ...data });
    console.error(`${label}: ${summary(scenario, data)} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
  } catch (err) {
    results.runs.push({ round, scenario, backend, candidate: peer.name, error: String(err.message ?? err).slice(0, 2000) });
    console.error(`${label}: FAILED ${String(err.message ?? err).split('\n')[0]}`);
  }
}

function summary(scenario, d) {
  const f = (n, digits = 0) => (n == null ? '-' : n.toFixed(digits));
  if (scenario === 'http') {
    return `${f(d.rps)} req/s, p50 ${f(d.p50Ms, 2)} ms, p99 ${f(d.p99Ms, 2)} ms, cpu ${f(d.cores, 2)}, hwm ${f(d.hwmMb)} MB, errors ${d.errors}; paced ${f(d.fixed.rps)} req/s p50 ${f(d.fixed.p50Ms, 3)} ms`;
  }
  if (scenario === 'ws-echo') return `${f(d.rps)} rt/s, p50 ${f(d.p50Ms, 2)} ms, p99 ${f(d.p99Ms, 2)} ms, cpu ${f(d.cores, 2)}, errors ${d.errors}`;
  return `${d.opened} open (${d.failed} failed), ${f(d.kbPerConnection, 1)} KB/connection`;
}

function meta(started, snapshot) {
  return {
    started: started.toISOString(),
    host: os.hostname(),
    cpus: os.cpus().map((c) => c.model)[0],
    cores: os.cpus().length,
    loadAverage: os.loadavg(),
    build: relative(REPO, snapshot.source) || snapshot.source,
    distBuilt: snapshot.built,
    hardNofile: HARD_NOFILE,
    versions: versions(),
    ...(compareDir ? { compare: { build: compareDir, distBuilt: statSync(join(compareDir, 'cli', 'main.js')).mtime.toISOString() } } : {}),
  };
}

main().catch(async (err) => {
  console.error(err);
  await stopAll();
  process.exit(1);
});
