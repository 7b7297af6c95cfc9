/**
 * Pools, routes, the `/api/<service>/` convention, the WebSocket pool and the fallback pool, through a real
 * gateway to real backends.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, describe, test } from 'node:test';
import { WebSocket, WebSocketServer } from 'ws';
import { backendSet, startBackend, type TestBackend } from '../helpers/backends.js';
import { startGateway } from '../helpers/gateway.js';
import { cookieFrom, request } from '../helpers/http.js';
import { until } from '../helpers/wait.js';

const start = backendSet();
after(start.closeAll);

/** Answers WebSocket messages with `<backend name>:<message>`. */
function echo(b: TestBackend): WebSocketServer {
  const wss = new WebSocketServer({ server: b.server });
  wss.on('connection', (ws) => ws.on('message', (m) => ws.send(`${b.name}:${String(m)}`)));
  return wss;
}

async function openWs(port: number, path: string, headers: Record<string, string> = {}): Promise<WebSocket> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}${path}`, { headers });
  await once(ws, 'open');
  return ws;
}

async function ask(ws: WebSocket, text: string): Promise<string> {
  const reply = once(ws, 'message');
  ws.send(text);
  const [data] = await reply;
  return String(data);
}

describe('routes', () => {
  test('the longest path prefix at a boundary wins; host and header rules; the rest goes to the default pool', { timeout: 20_000 }, async () => {
    const [web, users, admin, beta] = await start('web', 'users', 'admin', 'beta');
    const gw = await startGateway({
      backends: [{ id: 'web', url: web!.url }],
      pools: {
        users: { backends: [{ id: 'users', url: users!.url }] },
        admin: { backends: [{ id: 'admin', url: admin!.url }] },
        beta: { backends: [{ id: 'beta', url: beta!.url }] },
      },
      routes: [
        { path: '/api', pool: 'admin', host: 'admin.example.com' },
        { path: '/api/users', pool: 'users' },
        { header: { name: 'x-channel', value: 'beta' }, pool: 'beta' },
      ],
    });
    after(gw.close);
    const body = async (path: string, headers: Record<string, string> = {}) => (await request(gw.port, { path, headers })).body;
    assert.equal(await body('/api/users'), 'users');
    assert.equal(await body('/api/users/7?x=1'), 'users');
    assert.equal(await body('/api/usersx'), 'web', 'a prefix matches at a path boundary only');
    assert.equal(await body('/api/users', { host: 'admin.example.com' }), 'users', 'the longer prefix wins over the host rule');
    assert.equal(await body('/api/x', { host: 'admin.example.com:8080' }), 'admin');
    assert.equal(await body('/anything', { 'x-channel': 'beta' }), 'beta');
    assert.equal(await body('/anything', { 'x-channel': 'stable' }), 'web');
    assert.equal(await body('/'), 'web');
  });

  test('stripPrefix removes the matched prefix; the service convention maps /api/<pool>/', { timeout: 20_000 }, async () => {
    let seen = '';
    const orders = await startBackend('orders', (req, res) => {
      seen = req.url ?? '';
      res.end('orders');
    });
    start.track(orders);
    const [billing] = await start('billing');
    const gw = await startGateway({
      pools: { orders: { backends: [{ id: 'o', url: orders.url }] }, billing: { backends: [{ id: 'b', url: billing!.url }] } },
      routes: [{ path: '/shop/orders', pool: 'orders', stripPrefix: true }],
      serviceRoutes: true,
    });
    after(gw.close);
    assert.equal((await request(gw.port, { path: '/shop/orders/42?full=1' })).body, 'orders');
    assert.equal(seen, '/42?full=1');
    assert.equal((await request(gw.port, { path: '/shop/orders' })).body, 'orders');
    assert.equal(seen, '/');
    assert.equal((await request(gw.port, { path: '/api/billing/invoices' })).body, 'billing');
    assert.equal((await request(gw.port, { path: '/api/orders' })).body, 'orders');
    const miss = await request(gw.port, { path: '/api/nope/x' });
    assert.equal(miss.status, 404, 'no default pool: unmatched requests get 404');
    assert.equal(JSON.parse(miss.body).code, 'KW_ERR_PROXY_NO_ROUTE');
  });
});

describe('websocket pool', () => {
  test('upgrades and socket.io polling go to the WebSocket pool, and polling then upgrade stay on one backend', { timeout: 20_000 }, async () => {
    const [web, rt1, rt2] = await start('web', 'rt1', 'rt2');
    echo(rt1!);
    echo(rt2!);
    const gw = await startGateway({
      backends: [{ id: 'web', url: web!.url }],
      pools: { realtime: { backends: [{ id: 'rt1', url: rt1!.url }, { id: 'rt2', url: rt2!.url }] } },
      websocketPool: 'realtime',
    });
    after(gw.close);
    for (let i = 0; i < 4; i++) {
      const poll = await request(gw.port, { path: '/socket.io/?EIO=4&transport=polling' });
      const server = poll.body;
      assert.match(server, /^rt[12]$/);
      const cookie = cookieFrom(poll, 'keyway_sticky_realtime');
      assert.ok(cookie, 'the WebSocket pool pins with its own cookie');
      const again = await request(gw.port, { path: '/socket.io/?EIO=4&transport=polling&sid=abc', headers: { cookie: cookie! } });
      assert.equal(again.body, server);
      const ws = await openWs(gw.port, '/socket.io/?EIO=4&transport=websocket&sid=abc', { cookie: cookie! });
      assert.equal(await ask(ws, 'hi'), `${server}:hi`, 'the upgrade lands where the polling went');
      ws.close();
    }
    const ws = await openWs(gw.port, '/live');
    assert.match(await ask(ws, 'x'), /^rt[12]:x$/, 'any upgrade goes to the WebSocket pool');
    ws.close();
    assert.equal((await request(gw.port, { path: '/page' })).body, 'web');
  });
});

describe('fallback', () => {
  test('serves from the fallback pool while the local pool is down, says so, and returns when it recovers; WebSockets stay put', { timeout: 30_000 }, async () => {
    const [local, staging] = await start('local', 'staging');
    echo(local!);
    echo(staging!);
    const gw = await startGateway({
      backends: [{ id: 'local', url: local!.url }],
      pools: { staging: { backends: [{ id: 'staging', url: staging!.url }] } },
      fallback: { pool: 'staging', toClient: true },
      health: { interval: 100, rise: 1, fall: 1 },
      sticky: false,
    });
    after(gw.close);
    const normal = await request(gw.port, { path: '/', headers: { 'x-keyway-fallback': 'forged' } });
    assert.equal(normal.body, 'local');
    assert.equal(normal.headers['x-keyway-fallback'], undefined);
    assert.equal(local!.lastHeaders?.['x-keyway-fallback'], undefined, 'a client cannot claim a fallback');

    const u = gw.gateway.upstreams.find((x) => x.id === 'local')!;
    await local!.close();
    await until(() => !u.healthy, 5000);
    const fallen = await request(gw.port);
    assert.equal(fallen.body, 'staging');
    assert.equal(fallen.headers['x-keyway-fallback'], 'default', 'the client is told (toClient)');
    assert.equal(staging!.lastHeaders?.['x-keyway-fallback'], 'default', 'the upstream is told which pool it stands in for');
    const ws = await openWs(gw.port, '/ws');
    assert.equal(await ask(ws, 'a'), 'staging:a');

    await local!.restart();
    await until(() => u.healthy, 5000);
    assert.equal((await request(gw.port)).body, 'local', 'new traffic returns to the local pool');
    assert.equal(await ask(ws, 'b'), 'staging:b', 'an open WebSocket stays where it is');
    ws.close();
    const fresh = await openWs(gw.port, '/ws');
    assert.equal(await ask(fresh, 'c'), 'local:c');
    fresh.close();
  });

  test('no backend in the pool nor in its fallback: 503 JSON', { timeout: 20_000 }, async () => {
    const [a, s] = await start('a', 's');
    const gw = await startGateway({
      backends: [{ id: 'a', url: a!.url }],
      pools: { staging: { backends: [{ id: 's', url: s!.url }] } },
      fallback: 'staging',
    });
    after(gw.close);
    gw.gateway.setAdminState('a', 'disabled');
    assert.equal((await request(gw.port)).body, 's');
    gw.gateway.setAdminState('s', 'disabled');
    const r = await request(gw.port);
    assert.equal(r.status, 503);
    assert.equal(JSON.parse(r.body).code, 'KW_ERR_PROXY_NO_BACKEND');
  });
});
