import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';
import { startGateway } from '../helpers/gateway.js';
import { deadPort, startBackend } from '../helpers/backends.js';
import { until } from '../helpers/wait.js';

interface WsBackend {
  url: string;
  wss: WebSocketServer;
  server: http.Server;
  close(): Promise<void>;
}

const open: WsBackend[] = [];
after(() => Promise.all(open.map((b) => b.close())));

async function wsBackend(name: string): Promise<WsBackend> {
  const server = http.createServer((req, res) => res.end(name));
  const wss = new WebSocketServer({ server });
  wss.on('connection', (ws) => ws.on('message', (m, isBinary) => ws.send(isBinary ? m : `${name}:${String(m)}`)));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const b: WsBackend = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    wss,
    server,
    async close() {
      for (const c of wss.clients) c.terminate();
      wss.close();
      server.closeAllConnections();
      server.close();
    },
  };
  open.push(b);
  return b;
}

function connect(port: number, headers: Record<string, string> = {}): Promise<{ ws: WebSocket; res: http.IncomingMessage }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/chat`, { headers });
    ws.once('upgrade', (res) => ws.once('open', () => resolve({ ws, res })));
    ws.once('error', reject);
  });
}

async function echo(ws: WebSocket, text: string): Promise<string> {
  ws.send(text);
  const [data] = await once(ws, 'message');
  return String(data);
}

test('WebSocket echo through the gateway, with the sticky cookie on the 101 and Connection: Upgrade kept', async () => {
  const a = await wsBackend('a');
  const gw = await startGateway({ backends: [{ id: 'a', url: a.url }] });
  try {
    const { ws, res } = await connect(gw.port);
    assert.equal(res.statusCode, 101);
    assert.match(String(res.headers.connection), /upgrade/i);
    assert.match(String(res.headers['set-cookie']), /keyway_sticky=/);
    assert.equal(await echo(ws, 'hello'), 'a:hello');
    const big = Buffer.alloc(1 << 20, 7);
    ws.send(big);
    const [data] = await once(ws, 'message');
    assert.equal((data as Buffer).length, big.length);
    assert.equal(gw.gateway.backends[0]?.activeConnections, 1);
    ws.close();
    await once(ws, 'close');
  } finally {
    await gw.close();
  }
});

test('sticky rules apply to upgrades: the cookie pins the WebSocket to its backend', async () => {
  const [a, b] = await Promise.all([wsBackend('a'), wsBackend('b')]);
  const gw = await startGateway({ backends: [{ id: 'a', url: a.url }, { id: 'b', url: b.url }] });
  try {
    const first = await connect(gw.port);
    const pinnedTo = (await echo(first.ws, 'x')).split(':')[0];
    const cookie = String(first.res.headers['set-cookie']).split(';')[0]!;
    first.ws.close();
    for (let i = 0; i < 4; i++) {
      const { ws } = await connect(gw.port, { cookie });
      assert.equal((await echo(ws, 'y')).split(':')[0], pinnedTo);
      ws.close();
    }
  } finally {
    await gw.close();
  }
});

test('the backend closing tears down the client side, and vice versa; counters return to 0', async () => {
  const a = await wsBackend('a');
  const gw = await startGateway({ backends: [{ id: 'a', url: a.url }] });
  try {
    const c1 = await connect(gw.port);
    await echo(c1.ws, 'x');
    const closed = once(c1.ws, 'close');
    for (const client of a.wss.clients) client.terminate();
    await closed;

    const c2 = await connect(gw.port);
    await echo(c2.ws, 'x');
    const serverSide = [...a.wss.clients][0]!;
    const serverClosed = once(serverSide, 'close');
    c2.ws.terminate(); // a client reset
    await serverClosed;
    await until(() => gw.gateway.backends[0]?.activeConnections === 0);
    assert.equal((await fetch(`http://127.0.0.1:${gw.port}/`)).status, 200, 'gateway still serving');
  } finally {
    await gw.close();
  }
});

test('an upgrade to a dead backend gets a 502, and with no healthy backend a 503', async () => {
  const port = await deadPort();
  const a = await wsBackend('a');
  const gw = await startGateway({ backends: [{ id: 'a', url: a.url }] });
  const none = await startGateway({ backends: [{ id: 'x', url: `http://127.0.0.1:${port}` }] });
  try {
    await a.close();
    await assert.rejects(connect(gw.port), /Unexpected server response: 502/);
    // The startup health round finds x dead; until it has, an upgrade would still be tried (and get a 502).
    await until(() => none.gateway.upstreams.every((u) => !u.healthy), 5000);
    await assert.rejects(connect(none.port), /Unexpected server response: 503/);
  } finally {
    await gw.close();
    await none.close();
  }
});

test('WebSocket outcomes feed passive health and the access log like HTTP: a refused handshake counts as a failure', { timeout: 15_000 }, async (t) => {
  const { mkdtempSync, readFileSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const file = join(mkdtempSync(join(tmpdir(), 'keyway-ws-log-')), 'access.log');
  const live = await wsBackend('live');
  // Healthy to probes, but it cuts every upgrade: a failed handshake, as a crashing WebSocket server gives.
  const broken = await startBackend('broken');
  broken.server.on('upgrade', (_req: http.IncomingMessage, socket: import('node:net').Socket) => socket.destroy());
  t.after(() => broken.close());
  // round-robin over a live and a broken backend; two failures in a row eject.
  const gw = await startGateway({
    sticky: false,
    strategy: 'round-robin',
    retries: false,
    accessLog: { destination: file },
    outlier: { consecutiveFailures: 2 },
    backends: [{ id: 'live', url: live.url }, { id: 'dead', url: broken.url }],
  });
  t.after(gw.close);
  const outcomes: string[] = [];
  for (let i = 0; i < 6; i++) {
    const ws = new WebSocket(`ws://127.0.0.1:${gw.port}/socket`);
    outcomes.push(
      await new Promise<string>((resolve) => {
        ws.once('open', () => {
          ws.close();
          resolve('open');
        });
        ws.once('unexpected-response', (_req, res) => resolve(String(res.statusCode)));
        ws.once('error', () => resolve('error'));
      }),
    );
  }
  assert.equal(outcomes.filter((o) => o === '502').length, 2, `two refusals, then the dead backend is ejected: ${outcomes.join(',')}`);
  const deadUp = gw.gateway.upstreams.find((u) => u.id === 'dead');
  assert.ok(deadUp && deadUp.ejectedUntil > 0, 'ejected by passive health');
  await until(() => readFileSync(file, 'utf8').trim().split('\n').length >= 6, 3000);
  const lines = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { status: number; backend: string; path: string });
  assert.ok(lines.some((l) => l.status === 101 && l.backend === 'live' && l.path === '/socket'));
  assert.equal(lines.filter((l) => l.status === 502 && l.backend === 'dead').length, 2);
});
