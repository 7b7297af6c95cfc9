import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import os from 'node:os';
import { startBackend, type TestBackend } from '../helpers/backends.js';
import { startGateway } from '../helpers/gateway.js';
import { request } from '../helpers/http.js';

const backends: TestBackend[] = [];
after(() => Promise.all(backends.map((b) => b.close())));

test('GET /_lb/health has smart-stick\'s shape, counts requests, and hides secrets', async () => {
  const a = await startBackend('a');
  const slow = await startBackend('slow', (req, res) => {
    if (req.url === '/abort') return; // held open until the client gives up
    res.end('slow');
  });
  backends.push(a, slow);
  const gw = await startGateway({
    sticky: false,
    strategy: 'least-connections',
    admin: { token: 'admin-token-value' },
    health: { headers: { authorization: 'Bearer health-secret-value' }, path: '/health', method: 'get', algorithm: 'http', timeout: 1500 },
    backends: [
      { id: 1, url: a.url, weight: 2 },
      { id: 'slow', url: slow.url, healthHeaders: { 'x-key': 'backend-secret-value' }, healthCheck: () => true },
    ],
  });
  try {
    for (let i = 0; i < 6; i++) await request(gw.port);
    // An aborted request and a failed one must not leave counters up.
    const aborted = http.get({ host: '127.0.0.1', port: gw.port, path: '/abort', agent: false });
    aborted.on('error', () => undefined);
    await new Promise((r) => setTimeout(r, 100));
    aborted.destroy();
    await new Promise((r) => setTimeout(r, 100));

    const r = await request(gw.port, { path: '/_lb/health' });
    assert.equal(r.status, 200);
    const s = JSON.parse(r.body);
    assert.deepEqual(Object.keys(s).sort(), ['backends', 'healthy', 'strategy', 'timestamp', 'total', 'unhealthy']);
    assert.equal(s.strategy, 'least-connections');
    assert.equal(s.total, 2);
    assert.equal(s.healthy, 2);
    assert.equal(s.unhealthy, 0);
    const [b1, b2] = s.backends;
    assert.deepEqual(Object.keys(b1).sort(), ['activeConnections', 'healthCheck', 'healthy', 'id', 'lastChecked', 'requests', 'url', 'weight']);
    assert.equal(b1.id, 1);
    assert.equal(b2.id, 'slow');
    assert.equal(b1.requests + b2.requests, 7);
    assert.equal(b1.activeConnections + b2.activeConnections, 0);
    assert.equal(typeof b1.lastChecked, 'string');
    assert.deepEqual(b1.healthCheck, { path: '/health', method: 'GET', algorithm: 'http', timeout: 1500, hasCustomHeaders: true, hasCustomFunction: false });
    assert.equal(b2.healthCheck.hasCustomFunction, true);
    for (const secret of ['admin-token-value', 'health-secret-value', 'backend-secret-value', 'test-secret']) {
      assert.ok(!r.body.includes(secret), `status must not show ${secret}`);
    }
  } finally {
    await gw.close();
  }
});

test('admin routes answer loopback clients; others need the bearer token', async () => {
  const a = await startBackend('a');
  backends.push(a);
  const external = Object.values(os.networkInterfaces())
    .flat()
    .find((i) => i && i.family === 'IPv4' && !i.internal)?.address;
  const gw = await startGateway({ host: '0.0.0.0', admin: { token: 'tok' }, backends: [{ id: 1, url: a.url }] });
  try {
    assert.equal((await request(gw.port, { path: '/_lb/health' })).status, 200);
    assert.equal((await request(gw.port, { path: '/_lb/nope' })).status, 404);
    if (external === undefined) return; // no non-loopback address on this machine: the loopback half still ran
    const get = (headers: Record<string, string>) =>
      new Promise<number>((resolve, reject) => {
        const req = http.get({ host: external, port: gw.port, path: '/_lb/health', headers, agent: false }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.on('error', reject);
      });
    assert.equal(await get({}), 401);
    assert.equal(await get({ authorization: 'Bearer wrong' }), 401);
    assert.equal(await get({ authorization: 'Bearer tok' }), 200);
  } finally {
    await gw.close();
  }
});

test('the admin prefix matches at a path boundary only', async () => {
  const a = await startBackend('a');
  backends.push(a);
  const gw = await startGateway({ backends: [{ id: 1, url: a.url }] });
  try {
    const r = await request(gw.port, { path: '/_lbx/health' });
    assert.equal(r.body, 'a', 'forwarded, not treated as admin');
  } finally {
    await gw.close();
  }
});
