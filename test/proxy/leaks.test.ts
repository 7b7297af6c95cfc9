/**
 * 10,000 aborted requests and 10,000 WebSockets through a gateway running in its own process (fixtures/leak-gateway,
 * under `--expose-gc`): afterwards its sockets, servers and timers return to their starting count, its heap after gc
 * to within a few MB of where it started, and the backend's active connections to 0.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { WebSocket, WebSocketServer } from 'ws';
import { startBackend, type TestBackend } from '../helpers/backends.js';
import type { Measurement } from './fixtures/leak-gateway.js';

const FIXTURE = fileURLToPath(new URL('./fixtures/leak-gateway.js', import.meta.url));
const REQUESTS = 10_000;
const WEBSOCKETS = 10_000;
const CONCURRENCY = 200;
/** Handles of one type may end this many above the baseline (a timer or socket caught mid-change). */
const HANDLE_SLACK = 5;
const HEAP_SLACK = 4 * 1024 * 1024;
const WATCHED = ['TCPSocketWrap', 'TCPServerWrap', 'Timeout'] as const;

const cleanups: (() => Promise<void> | void)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

interface GatewayProcess {
  child: ChildProcess;
  port: number;
  measure(): Promise<Measurement>;
  close(): Promise<void>;
}

async function spawnGateway(config: object): Promise<GatewayProcess> {
  const child = spawn(process.execPath, ['--expose-gc', FIXTURE, JSON.stringify(config)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const [first] = (await Promise.race([once(child, 'message'), once(child, 'exit').then(() => [{ type: 'exit' }])])) as [{ type: string; port?: number }];
  if (first.type !== 'listening') throw new Error('the gateway process did not start');
  return {
    child,
    port: first.port as number,
    async measure() {
      child.send({ type: 'measure' });
      const [m] = (await once(child, 'message')) as [Measurement];
      return m;
    },
    async close() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, 'exit');
      child.send({ type: 'close' });
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Runs `task(i)` for i in [0, n) with at most `limit` running at once. */
async function pool(n: number, limit: number, task: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < n) await task(next++);
  };
  await Promise.all(Array.from({ length: Math.min(limit, n) }, worker));
}

/** Resolves when `s` closes; a bound (10 s) keeps a stuck socket from hanging the test. */
function closed(s: net.Socket): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('socket never closed')), 10_000);
    s.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/** A request whose client leaves as soon as its head is written. */
async function abortAfterHeaders(port: number): Promise<void> {
  const s = net.connect(port, '127.0.0.1');
  s.on('error', () => undefined);
  const done = closed(s);
  s.write('GET /delay HTTP/1.1\r\nHost: x\r\n\r\n', () => s.destroy());
  await done;
}

/** A request whose client resets the connection after the first bytes of a never-ending response. */
async function abortMidResponse(port: number): Promise<void> {
  const s = net.connect(port, '127.0.0.1');
  s.on('error', () => undefined);
  const done = closed(s);
  let seen = '';
  s.setEncoding('latin1');
  s.on('data', (c: string) => {
    seen += c;
    if (seen.includes('tick')) s.resetAndDestroy();
  });
  s.write('GET /slow HTTP/1.1\r\nHost: x\r\n\r\n');
  await done;
}

/** Opens a WebSocket, exchanges one message, then resets it (`terminate`) or closes it cleanly. */
async function webSocket(port: number, clean: boolean): Promise<void> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`);
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('WebSocket did not open')), 10_000);
    ws.once('open', () => {
      clearTimeout(timer);
      resolve();
    });
    ws.once('error', reject);
  });
  ws.send('hi');
  await once(ws, 'message');
  const gone = once(ws, 'close');
  if (clean) ws.close(1000);
  else ws.terminate();
  await gone;
}

async function run(port: number, requests: number, websockets: number): Promise<void> {
  await pool(requests, CONCURRENCY, (i) => (i % 2 === 0 ? abortAfterHeaders(port) : abortMidResponse(port)));
  await pool(websockets, CONCURRENCY, (i) => webSocket(port, i % 2 === 0));
}

async function activeConnections(port: number): Promise<number> {
  const res = await fetch(`http://127.0.0.1:${port}/_lb/health`, { signal: AbortSignal.timeout(5000) });
  const body = (await res.json()) as { backends: { activeConnections: number }[] };
  return body.backends.reduce((sum, b) => sum + b.activeConnections, 0);
}

/** Measures until every watched handle count is back within slack of `base` (idle keep-alive sockets expire), or 20 s. */
async function settle(gw: GatewayProcess, base: Measurement): Promise<Measurement> {
  const until = Date.now() + 20_000;
  for (;;) {
    const m = await gw.measure();
    const back = WATCHED.every((k) => (m.resources[k] ?? 0) <= (base.resources[k] ?? 0) + HANDLE_SLACK);
    if (back || Date.now() > until) return m;
    await new Promise((r) => setTimeout(r, 250));
  }
}

function describe(m: Measurement): string {
  const counts = WATCHED.map((k) => `${k}=${m.resources[k] ?? 0}`).join(' ');
  return `${counts} heapUsed=${(m.heapUsed / 1024 / 1024).toFixed(2)}MB`;
}

async function leakBackend(): Promise<TestBackend> {
  const backend = await startBackend('leak', (req, res) => {
    req.resume();
    if (req.url === '/slow') {
      // Headers and a first chunk, then a tick every 100 ms until the gateway goes away.
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('tick');
      const timer = setInterval(() => res.write('tick'), 100);
      res.once('close', () => clearInterval(timer));
      return;
    }
    const timer = setTimeout(() => res.end('late'), 20);
    res.once('close', () => clearTimeout(timer));
  });
  const wss = new WebSocketServer({ server: backend.server });
  wss.on('connection', (ws) => {
    ws.on('error', () => undefined);
    ws.on('message', (m) => ws.send(m));
  });
  cleanups.push(async () => {
    for (const c of wss.clients) c.terminate();
    wss.close();
    await backend.close();
  });
  return backend;
}

test(`${REQUESTS} aborted requests and ${WEBSOCKETS} WebSockets leave no handles, heap or connections behind`, { timeout: 120_000 }, async () => {
  const backend = await leakBackend();
  const gw = await spawnGateway({
    host: '127.0.0.1',
    port: 0,
    backends: [{ id: 1, url: backend.url }],
    health: { interval: 60_000, path: '/health' },
    sticky: { secret: 'leak-test' },
  });
  cleanups.push(() => gw.close());

  const start = await gw.measure();
  // A warm-up round loads and compiles every code path, so the heap baseline is not the cold one.
  await run(gw.port, 400, 400);
  assert.equal(await waitForZero(gw.port), 0);
  const base = await settle(gw, start);

  const t0 = Date.now();
  await run(gw.port, REQUESTS, WEBSOCKETS);
  const loadMs = Date.now() - t0;
  assert.equal(await waitForZero(gw.port), 0, 'backend activeConnections back to 0');
  const end = await settle(gw, start);

  // Shown with --test-reporter=spec; the numbers are in the final report of this change.
  console.log(`leak test: load ${loadMs} ms, backend hits ${backend.hits}\n  start    ${describe(start)}\n  baseline ${describe(base)}\n  after    ${describe(end)}`);
  for (const k of WATCHED) {
    assert.ok((end.resources[k] ?? 0) <= (start.resources[k] ?? 0) + HANDLE_SLACK, `${k}: ${describe(start)} -> ${describe(end)}`);
  }
  assert.ok(end.heapUsed <= base.heapUsed + HEAP_SLACK, `heap: ${describe(base)} -> ${describe(end)}`);
  // Every mid-response abort (half the requests) and some aborted-after-headers ones reached the backend.
  assert.ok(backend.hits >= (400 + REQUESTS) / 2, `backend saw ${backend.hits} requests`);
});

/** Polls the admin health endpoint until the backend reports no active connection (or 10 s pass). */
async function waitForZero(port: number): Promise<number> {
  const until = Date.now() + 10_000;
  let n = await activeConnections(port);
  while (n !== 0 && Date.now() < until) {
    await new Promise((r) => setTimeout(r, 50));
    n = await activeConnections(port);
  }
  return n;
}
