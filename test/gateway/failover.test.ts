import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { startBackend, type TestBackend } from '../helpers/backends.js';
import { startGateway } from '../helpers/gateway.js';
import { request } from '../helpers/http.js';

const backends: TestBackend[] = [];
after(() => Promise.all(backends.map((b) => b.close())));

test('a backend that dies is routed around after `fall` failed probes and rejoins after `rise`', async () => {
  const [a, b] = await Promise.all([startBackend('a'), startBackend('b')]);
  backends.push(a, b);
  const gw = await startGateway({
    sticky: false,
    health: { interval: 30, rise: 3, fall: 2, timeout: 200 },
    backends: [{ id: 'a', url: a.url }, { id: 'b', url: b.url }],
  });
  try {
    const events: string[] = [];
    gw.gateway.on('backend:down', (s) => events.push(`down:${s.id}`));
    gw.gateway.on('backend:up', (s) => events.push(`up:${s.id}`));
    const down = once(gw.gateway, 'backend:down');
    const t0 = Date.now();
    await a.close();
    const [status] = await down;
    assert.equal(status.id, 'a');
    assert.equal(status.healthy, false);
    // fall=2 probes at ~30 ms: well under a second.
    assert.ok(Date.now() - t0 < 2000);
    for (let i = 0; i < 10; i++) assert.equal((await request(gw.port)).body, 'b');
    assert.equal(gw.gateway.backends.find((x) => x.id === 'a')?.healthy, false);

    const up = once(gw.gateway, 'backend:up');
    await a.restart();
    await up;
    const seen = new Set<string>();
    for (let i = 0; i < 6; i++) seen.add((await request(gw.port)).body);
    assert.deepEqual([...seen].sort(), ['a', 'b']);
    assert.deepEqual(events, ['down:a', 'up:a']);
  } finally {
    await gw.close();
  }
});

test('a backend down at startup is excluded from the first request on', async () => {
  const [a, b] = await Promise.all([startBackend('a'), startBackend('b')]);
  backends.push(a, b);
  await a.close();
  const gw = await startGateway({ sticky: false, backends: [{ id: 'a', url: a.url }, { id: 'b', url: b.url }] });
  try {
    for (let i = 0; i < 6; i++) assert.equal((await request(gw.port)).body, 'b');
  } finally {
    await gw.close();
  }
});

test('http-status algorithm: a backend answering 500 on its health path is down; http algorithm keeps it', async () => {
  const sick = await startBackend('sick', (req, res) => {
    res.statusCode = req.url === '/healthz' ? 500 : 200;
    res.end('sick');
  });
  backends.push(sick);
  const strict = await startGateway({
    sticky: false,
    health: { path: '/healthz', algorithm: 'http-status' },
    backends: [{ id: 's', url: sick.url }],
  });
  const lenient = await startGateway({
    sticky: false,
    health: { path: '/healthz', algorithm: 'http' },
    backends: [{ id: 's', url: sick.url }],
  });
  try {
    assert.equal((await request(strict.port)).status, 503);
    assert.equal((await request(lenient.port)).status, 200);
  } finally {
    await strict.close();
    await lenient.close();
  }
});
