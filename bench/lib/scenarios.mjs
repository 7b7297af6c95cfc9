/**
 * @module bench/lib/scenarios: one measurement each, against one freshly started candidate: HTTP throughput plus a
 * paced fixed-rate run, WebSocket echo round trips, and idle WebSockets held open. Each returns a plain record that
 * run.mjs stores in the raw JSON and report.mjs turns into tables.
 */
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { cpuSeconds, freePort, LOAD_CPU, memory, runPinned, startPinned, stop, waitForPort } from './procs.mjs';
import { runWrk } from './wrk.mjs';

const WS_CLIENT = fileURLToPath(new URL('./ws-client.mjs', import.meta.url));

/** Starts `peer` in front of `backends`; returns `{ child, ports }` (for direct: no child, the backend ports). */
async function startCandidate(peer, backends, dir, extra = {}) {
  if (peer.kind === 'none') return { child: null, ports: backends };
  const port = await freePort();
  const child = await peer.start({ port, backends, dir, ...extra });
  await waitForPort(port, { child, timeoutMs: 30_000 });
  return { child, ports: [port] };
}

/** CPU share (cores) and memory of `child` over `fn()`; zeros for direct. */
async function measured(child, fn) {
  const pid = child?.pid;
  const cpu0 = pid ? cpuSeconds(pid) : 0;
  const t0 = process.hrtime.bigint();
  const result = await fn();
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  const cores = pid ? (cpuSeconds(pid) - cpu0) / wall : null;
  const mem = pid ? memory(pid) : { rssKb: null, hwmKb: null };
  return { result, cores, rssMb: mem.rssKb && mem.rssKb / 1024, hwmMb: mem.hwmKb && mem.hwmKb / 1024 };
}

/**
 * HTTP: warm-up, then `seconds` of wrk at `connections` (throughput, proxy CPU and RSS), then `fixedSeconds` paced at
 * `rate` req/s (latency at a load every candidate sustains).
 */
export async function httpRun(peer, backends, dir, o) {
  const { child, ports } = await startCandidate(peer, backends, dir);
  try {
    const idle = child ? memory(child.pid).rssKb / 1024 : null;
    await runWrk({ ports, connections: o.connections, seconds: o.warmupSeconds });
    const load = await measured(child, () => runWrk({ ports, connections: o.connections, seconds: o.seconds }));
    const fixed = await runWrk({ ports, connections: o.connections, seconds: o.fixedSeconds, rate: o.rate });
    const { text: _t, ...throughput } = load.result;
    const { text: _f, ...paced } = fixed;
    return {
      ...throughput,
      cores: load.cores,
      rpsPerCore: load.cores ? throughput.rps / load.cores : null,
      rssIdleMb: idle,
      rssMb: load.rssMb,
      hwmMb: load.hwmMb,
      loadAverage: os.loadavg()[0],
      fixed: paced,
    };
  } finally {
    await stop(child);
  }
}

/** WebSocket echo: `connections` sockets, one 32-byte message in flight each, for `seconds`. */
export async function wsEchoRun(peer, backends, dir, o) {
  const { child, ports } = await startCandidate(peer, backends, dir);
  try {
    // A short warm-up run, so that a JIT-compiled proxy is measured warm.
    await wsClient(['echo', ports.join(','), String(o.connections), '1']);
    const run = await measured(child, () =>
      wsClient(['echo', ports.join(','), String(o.connections), String(o.seconds)]).then((out) => JSON.parse(out)),
    );
    return {
      ...run.result,
      cores: run.cores,
      rpsPerCore: run.cores ? run.result.rps / run.cores : null,
      rssMb: run.rssMb,
      hwmMb: run.hwmMb,
    };
  } finally {
    await stop(child);
  }
}

function wsClient(args, timeoutMs = 120_000) {
  return runPinned(LOAD_CPU, process.execPath, [WS_CLIENT, ...args], { timeoutMs });
}

/** Idle WebSockets: the proxy's RSS before and after `count` sockets are opened through it and left idle. */
export async function wsIdleRun(peer, backends, dir, o) {
  const { child, ports } = await startCandidate(peer, backends, dir);
  let holder;
  try {
    await wsClient(['echo', ports.join(','), '20', '1']);
    await sleep(1000);
    const before = memory(child.pid).rssKb;
    holder = startPinned(LOAD_CPU, process.execPath, [WS_CLIENT, 'idle', ports.join(','), String(o.count)]);
    const opened = JSON.parse(await firstLine(holder, 180_000));
    await sleep(o.settleMs);
    const after = memory(child.pid);
    return {
      ...opened,
      rssBeforeMb: before / 1024,
      rssAfterMb: after.rssKb / 1024,
      hwmMb: after.hwmKb / 1024,
      kbPerConnection: opened.opened > 0 ? (after.rssKb - before) / opened.opened : null,
    };
  } finally {
    await stop(holder);
    await stop(child);
  }
}

/** The first line `child` prints on stdout, or a rejection after `timeoutMs` or on exit. */
function firstLine(child, timeoutMs) {
  return new Promise((resolve, reject) => {
    let buffer = '';
    const timer = setTimeout(() => reject(new Error(`no output after ${timeoutMs} ms:\n${child.output}`)), timeoutMs);
    child.stdout.on('data', (chunk) => {
      buffer += chunk;
      const end = buffer.indexOf('\n');
      if (end >= 0) {
        clearTimeout(timer);
        resolve(buffer.slice(0, end));
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`exited ${code} before printing:\n${child.output}`));
    });
  });
}
