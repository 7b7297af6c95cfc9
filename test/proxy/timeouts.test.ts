/**
 * The gateway's timeouts, each against a real peer that misbehaves: a backend whose accept queue is full (connect),
 * one that never answers an upgrade (WebSocket handshake), one that stalls mid-body (upstream idle), a slowloris
 * client (client headers), and WebSockets that sit idle or carry too much (wsIdleMs, wsMaxBytes).
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import http from 'node:http';
import net from 'node:net';
import { once } from 'node:events';
import { WebSocket, WebSocketServer } from 'ws';
import { startBackend, type TestBackend } from '../helpers/backends.js';
import { startGateway } from '../helpers/gateway.js';
import { request } from '../helpers/http.js';
import { until } from '../helpers/wait.js';

const closers: (() => Promise<void> | void)[] = [];
after(async () => {
  for (const close of closers) await close();
});

async function backend(name: string, handler?: Parameters<typeof startBackend>[1]): Promise<TestBackend> {
  const b = await startBackend(name, handler);
  closers.push(() => b.close());
  return b;
}

/**
 * A listener that never accepts: a child process listens with backlog 1 and then blocks its event loop for good.
 * Linux queues backlog + 1 handshakes and then drops further SYNs, so once `fill` connections sit in the queue a
 * new connect hangs in SYN-SENT on loopback, as it would to a host that is gone.
 */
async function unacceptingListener(fill: number): Promise<{ port: number; close(): Promise<void> }> {
  const script = [
    "const net = require('node:net'); const fs = require('node:fs');",
    "const s = net.createServer(); s.listen({ port: 0, host: '127.0.0.1', backlog: 1 }, () => {",
    "  fs.writeSync(1, 'port ' + s.address().port + '\\n');",
    '  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);',
    '});',
  ].join('\n');
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (c: Buffer) => {
      out += c;
      const m = /port (\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    child.once('exit', (code) => reject(new Error(`listener exited with ${code}`)));
  });
  const fillers: net.Socket[] = [];
  for (let i = 0; i < fill; i++) {
    const s = net.connect(port, '127.0.0.1');
    s.on('error', () => undefined);
    fillers.push(s);
    await once(s, 'connect');
  }
  return {
    port,
    async close() {
      for (const s of fillers) s.destroy();
      if (child.exitCode === null && child.signalCode === null) {
        const exited = once(child, 'exit');
        child.kill('SIGKILL');
        await exited;
      }
    },
  };
}

test('timeouts.connectMs: a backend that never completes the TCP handshake gets 504 after connectMs', { timeout: 15_000 }, async () => {
  const listener = await unacceptingListener(2);
  closers.push(() => listener.close());
  // responseMs is long, so a 504 within ~connectMs can only come from the connect deadline.
  const gw = await startGateway({
    health: { check: () => true },
    timeouts: { connectMs: 300, responseMs: 10_000 },
    backends: [{ id: 1, url: `http://127.0.0.1:${listener.port}` }],
  });
  try {
    const t0 = Date.now();
    const r = await request(gw.port);
    const took = Date.now() - t0;
    assert.equal(r.status, 504);
    assert.match(r.body, /KW_ERR_PROXY_TIMEOUT/);
    assert.ok(took >= 250 && took < 3000, `504 after ${took} ms`);
    assert.equal(gw.gateway.backends[0]?.activeConnections, 0);
  } finally {
    await gw.close();
  }
});

test('timeouts.wsHandshakeMs: a backend that takes the upgrade request and never answers gets 504', { timeout: 10_000 }, async () => {
  const silent = await backend('silent');
  const held: net.Socket[] = [];
  silent.server.on('upgrade', (_req, socket: net.Socket) => held.push(socket)); // never answers
  const gw = await startGateway({ timeouts: { wsHandshakeMs: 300 }, backends: [{ id: 1, url: silent.url }] });
  try {
    const t0 = Date.now();
    const ws = new WebSocket(`ws://127.0.0.1:${gw.port}/ws`);
    const [err] = (await once(ws, 'error')) as [Error];
    const took = Date.now() - t0;
    assert.match(err.message, /Unexpected server response: 504/);
    assert.ok(took >= 250 && took < 3000, `504 after ${took} ms`);
    assert.equal(held.length, 1, 'the upgrade request did reach the backend');
    await until(() => gw.gateway.backends[0]?.activeConnections === 0);
    assert.equal((await request(gw.port)).status, 200, 'still serving');
  } finally {
    for (const s of held) s.destroy();
    await gw.close();
  }
});

test('timeouts.upstreamIdleMs: a backend that stalls mid-body gets the client response cut after ~upstreamIdleMs', { timeout: 10_000 }, async () => {
  const IDLE = 400;
  const stalling = await backend('stalling', (req, res) => {
    res.writeHead(200, { 'content-length': '1000' });
    res.write('x'.repeat(100)); // and nothing more
  });
  const gw = await startGateway({ timeouts: { upstreamIdleMs: IDLE }, backends: [{ id: 1, url: stalling.url }] });
  try {
    const { bytes, stalledFor } = await new Promise<{ bytes: number; stalledFor: number }>((resolve, reject) => {
      http
        .get({ host: '127.0.0.1', port: gw.port, path: '/', agent: false }, (res) => {
          let bytes = 0;
          let last = Date.now();
          res.on('data', (c: Buffer) => {
            bytes += c.length;
            last = Date.now();
          });
          res.on('end', () => reject(new Error('the cut response was presented as complete')));
          res.on('error', () => resolve({ bytes, stalledFor: Date.now() - last }));
        })
        .on('error', reject);
    });
    assert.equal(bytes, 100);
    assert.ok(stalledFor >= IDLE * 0.8 && stalledFor < IDLE + 2000, `cut ${stalledFor} ms after the last byte`);
    await until(() => gw.gateway.backends[0]?.activeConnections === 0);
  } finally {
    await gw.close();
  }
});

test('timeouts.clientHeadersMs: slowloris clients are answered 408 or closed, and the gateway keeps serving', { timeout: 15_000 }, async () => {
  const HEADERS_MS = 500;
  const b = await backend('b');
  const gw = await startGateway({ timeouts: { clientHeadersMs: HEADERS_MS }, backends: [{ id: 1, url: b.url }] });
  const trickle: NodeJS.Timeout[] = [];
  try {
    const stalled = slowClient(gw.port, 'GET / HTT'); // part of a request line, then nothing
    const headers = slowClient(gw.port, 'GET / HTTP/1.1\r\nHost: x\r\nX-A: 1\r\n'); // headers, never the blank line
    // One header byte every 50 ms: traffic does not reset the deadline, which runs from the first byte.
    const dripping = slowClient(gw.port, 'GET / HTTP/1.1\r\n', (s) => {
      trickle.push(setInterval(() => s.write('X'), 50));
    });
    const results = await Promise.all([stalled, headers, dripping]);
    for (const r of results) {
      assert.ok(r.reply === '' || /^HTTP\/1\.1 408 /.test(r.reply), `reply: ${JSON.stringify(r.reply)}`);
      // node checks every connectionsCheckingInterval (here HEADERS_MS / 2): allow that plus scheduling.
      assert.ok(r.closedAfter >= HEADERS_MS * 0.8 && r.closedAfter < HEADERS_MS * 2 + 1000, `closed after ${r.closedAfter} ms`);
    }
    assert.equal(b.hits, 0);
    assert.equal((await request(gw.port)).status, 200, 'still serving');
  } finally {
    for (const t of trickle) clearInterval(t);
    await gw.close();
  }
});

/** Connects, writes `first`, runs `then`, and resolves once the gateway closes the connection. */
function slowClient(port: number, first: string, then?: (s: net.Socket) => void): Promise<{ reply: string; closedAfter: number }> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1');
    let reply = '';
    const t0 = Date.now();
    const timer = setTimeout(() => {
      s.destroy();
      reject(new Error('the slow client was never disconnected'));
    }, 8000);
    s.setEncoding('latin1');
    s.on('data', (c: string) => (reply += c));
    s.on('error', () => undefined);
    s.once('close', () => {
      clearTimeout(timer);
      resolve({ reply, closedAfter: Date.now() - t0 });
    });
    s.write(first, () => then?.(s));
  });
}

async function wsEchoBackend(): Promise<{ url: string; wss: WebSocketServer }> {
  const server = http.createServer((_req, res) => res.end('ok'));
  const wss = new WebSocketServer({ server });
  wss.on('connection', (ws) => ws.on('message', (m, isBinary) => ws.send(m, { binary: isBinary })));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  closers.push(async () => {
    for (const c of wss.clients) c.terminate();
    wss.close();
    server.closeAllConnections();
    server.close();
  });
  return { url: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`, wss };
}

function openWs(port: number): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`);
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

test('timeouts.wsIdleMs: a WebSocket with no traffic either way is closed after ~wsIdleMs; an active one stays', { timeout: 10_000 }, async () => {
  const IDLE = 400;
  const b = await wsEchoBackend();
  const gw = await startGateway({ timeouts: { wsIdleMs: IDLE }, backends: [{ id: 1, url: b.url }] });
  try {
    const idle = await openWs(gw.port);
    const active = await openWs(gw.port);
    const t0 = Date.now();
    let activeClosed = false;
    active.once('close', () => (activeClosed = true));
    // Keep the other one busy with an echo every IDLE / 4 until the idle one is gone.
    const pinger = setInterval(() => active.send('tick'), IDLE / 4);
    try {
      await once(idle, 'close');
    } finally {
      clearInterval(pinger);
    }
    const took = Date.now() - t0;
    assert.ok(took >= IDLE * 0.8 && took < IDLE + 2000, `closed after ${took} ms`);
    assert.equal(activeClosed, false, 'the active WebSocket is still open');
    active.close();
    await once(active, 'close');
    await until(() => gw.gateway.backends[0]?.activeConnections === 0);
  } finally {
    await gw.close();
  }
});

test('limits.wsMaxBytes: a WebSocket is closed once it has carried the byte budget; smaller ones are not', { timeout: 10_000 }, async () => {
  const BUDGET = 10_000;
  const b = await wsEchoBackend();
  const gw = await startGateway({ limits: { wsMaxBytes: BUDGET }, backends: [{ id: 1, url: b.url }] });
  try {
    const ws = await openWs(gw.port);
    // 2 x 2 KB there and back (about 8.1 KB with framing) stays within budget.
    for (let i = 0; i < 2; i++) {
      ws.send(Buffer.alloc(2000, 1));
      await once(ws, 'message');
    }
    assert.equal(ws.readyState, WebSocket.OPEN);
    const closed = once(ws, 'close');
    ws.send(Buffer.alloc(2000, 2));
    const [code] = (await closed) as [number];
    assert.equal(code, 1006, 'cut, not a clean close');
    await until(() => gw.gateway.backends[0]?.activeConnections === 0);
    assert.equal((await request(gw.port)).status, 200, 'still serving');
  } finally {
    await gw.close();
  }
});


test('timeouts.requestMs: a client that sends its head but stalls in the body gets 408 and the upstream request ends', { timeout: 15_000 }, async () => {
  let upstreamClosed!: () => void;
  const closed = new Promise<void>((resolve) => (upstreamClosed = resolve));
  const b = await backend('slowbody', (req, res) => {
    req.on('close', () => upstreamClosed());
    req.resume();
    req.on('end', () => res.end('done'));
  });
  const gw = await startGateway({ timeouts: { requestMs: 600, clientHeadersMs: 500 }, backends: [{ id: 1, url: b.url }] });
  closers.push(() => gw.close());
  const s = net.connect(gw.port, '127.0.0.1');
  s.on('error', () => undefined);
  s.write('POST /upload HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\n0123456789'); // 10 of 100 bytes, then silence
  let data = '';
  s.on('data', (c) => (data += c));
  await once(s, 'close');
  assert.match(data, /^HTTP\/1\.1 408|^$/, `answered ${JSON.stringify(data.slice(0, 40))}`);
  await closed; // the backend's request did not outlive the client's
  assert.equal((await request(gw.port)).status, 200, 'still serving');
});
