import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { startBackend, type TestBackend } from '../helpers/backends.js';
import { startGateway, type Started } from '../helpers/gateway.js';
import { cookieFrom, request, type Reply } from '../helpers/http.js';

const TOKEN = 'drain-token';
const AUTH = { authorization: `Bearer ${TOKEN}` };

const backends: TestBackend[] = [];
after(() => Promise.all(backends.map((b) => b.close())));

async function pair(): Promise<[TestBackend, TestBackend]> {
  const bs = await Promise.all(['a', 'b'].map((n) => startBackend(n)));
  backends.push(...bs);
  return bs as [TestBackend, TestBackend];
}

function post(port: number, path: string): Promise<Reply> {
  return request(port, { method: 'POST', path: `/_lb${path}`, headers: AUTH });
}

/** A signed cookie pinning the client to backend `name` (asks until the balancer hands that one out). */
async function cookieFor(gw: Started, name: string): Promise<string> {
  for (let i = 0; i < 20; i++) {
    const r = await request(gw.port);
    if (r.body === name) return cookieFrom(r, 'keyway_sticky') as string;
  }
  throw new Error(`never got a cookie for ${name}`);
}

async function adminStates(port: number): Promise<Record<string, string>> {
  const r = await request(port, { path: '/_lb/backends' });
  const list = JSON.parse(r.body).backends as { id: string; adminState: string }[];
  return Object.fromEntries(list.map((b) => [b.id, b.adminState]));
}

test('drain: no new clients, pinned clients stay; after drainTimeoutMs it is drained and they move', async () => {
  const [a, b] = await pair();
  const gw = await startGateway({ drainTimeoutMs: 300, admin: { token: TOKEN }, backends: [{ id: 'a', url: a.url }, { id: 'b', url: b.url }] });
  try {
    const pinned = await cookieFor(gw, 'a');
    const drained = once(gw.gateway, 'backend:drained', { signal: AbortSignal.timeout(5000) });
    const started = Date.now();
    const r = await post(gw.port, '/backends/a/drain');
    assert.equal(r.status, 200, r.body);
    assert.equal(JSON.parse(r.body).id, 'a');

    // The pinned client stays on a, with no cookie rewrite.
    const stay = await request(gw.port, { headers: { cookie: pinned } });
    assert.equal(stay.body, 'a');
    assert.equal(stay.headers['set-cookie'], undefined);
    assert.equal((await adminStates(gw.port)).a, 'draining');
    // New clients never get a.
    for (let i = 0; i < 6; i++) assert.equal((await request(gw.port)).body, 'b');

    const [status] = (await drained) as [{ id: string }];
    assert.equal(status.id, 'a');
    assert.ok(Date.now() - started >= 250, 'drained no earlier than about drainTimeoutMs');
    assert.equal((await adminStates(gw.port)).a, 'disabled');

    // Now a takes no traffic at all: the pinned client moves and its cookie is rewritten.
    const hitsBefore = a.hits;
    const moved = await request(gw.port, { headers: { cookie: pinned } });
    assert.equal(moved.body, 'b');
    const rewritten = cookieFrom(moved, 'keyway_sticky');
    assert.ok(rewritten !== undefined && rewritten !== pinned, 'cookie rewritten to b');
    assert.equal((await request(gw.port, { headers: { cookie: rewritten } })).body, 'b');
    for (let i = 0; i < 6; i++) assert.equal((await request(gw.port)).body, 'b');
    assert.equal(a.hits, hitsBefore);
  } finally {
    await gw.close();
  }
});

test('a draining backend whose pinned client keeps coming is still drained at drainTimeoutMs', async () => {
  const [a, b] = await pair();
  const gw = await startGateway({ drainTimeoutMs: 400, admin: { token: TOKEN }, backends: [{ id: 'a', url: a.url }, { id: 'b', url: b.url }] });
  try {
    const pinned = await cookieFor(gw, 'a');
    let done = false;
    const drained = once(gw.gateway, 'backend:drained', { signal: AbortSignal.timeout(5000) }).finally(() => (done = true));
    assert.equal((await post(gw.port, '/backends/a/drain')).status, 200);
    const seen = new Set<string>();
    while (!done) {
      seen.add((await request(gw.port, { headers: { cookie: pinned } })).body);
      await new Promise((resolve) => setImmediate(resolve));
    }
    await drained;
    assert.ok(seen.has('a'), 'the pinned client was served by a while it drained');
    assert.equal((await request(gw.port, { headers: { cookie: pinned } })).body, 'b');
  } finally {
    await gw.close();
  }
});

test('disable moves pinned clients at once; enable brings new clients back', async () => {
  const [a, b] = await pair();
  const gw = await startGateway({ admin: { token: TOKEN }, backends: [{ id: 'a', url: a.url }, { id: 'b', url: b.url }] });
  try {
    const pinned = await cookieFor(gw, 'a');
    const r = await post(gw.port, '/backends/a/disable');
    assert.equal(r.status, 200, r.body);
    assert.equal((await adminStates(gw.port)).a, 'disabled');
    const moved = await request(gw.port, { headers: { cookie: pinned } });
    assert.equal(moved.body, 'b');
    const rewritten = cookieFrom(moved, 'keyway_sticky');
    assert.ok(rewritten !== undefined && rewritten !== pinned);
    for (let i = 0; i < 6; i++) assert.equal((await request(gw.port)).body, 'b');

    assert.equal((await post(gw.port, '/backends/a/enable')).status, 200);
    assert.equal((await adminStates(gw.port)).a, 'enabled');
    const bodies = new Set<string>();
    for (let i = 0; i < 6; i++) bodies.add((await request(gw.port)).body);
    assert.deepEqual([...bodies].sort(), ['a', 'b']);
    // The old cookie for a is good again.
    assert.equal((await request(gw.port, { headers: { cookie: pinned } })).body, 'a');
  } finally {
    await gw.close();
  }
});

test('enable during a drain cancels it; no backend:drained follows', async () => {
  const [a, b] = await pair();
  const gw = await startGateway({ drainTimeoutMs: 200, admin: { token: TOKEN }, backends: [{ id: 'a', url: a.url }, { id: 'b', url: b.url }] });
  try {
    let drained = 0;
    gw.gateway.on('backend:drained', () => drained++);
    assert.equal((await post(gw.port, '/backends/a/drain')).status, 200);
    assert.equal((await post(gw.port, '/backends/a/enable')).status, 200);
    // A second drain on b proves the tracker still runs; a must not be drained alongside it.
    const bDrained = once(gw.gateway, 'backend:drained', { signal: AbortSignal.timeout(5000) });
    assert.equal((await post(gw.port, '/backends/b/drain')).status, 200);
    const [status] = (await bDrained) as [{ id: string }];
    assert.equal(status.id, 'b');
    assert.equal(drained, 1);
    assert.deepEqual(await adminStates(gw.port), { a: 'enabled', b: 'disabled' });
  } finally {
    await gw.close();
  }
});

test('removing a draining backend ends its drain quietly', async () => {
  const [a, b] = await pair();
  const gw = await startGateway({ drainTimeoutMs: 150, admin: { token: TOKEN }, backends: [{ id: 'a', url: a.url }, { id: 'b', url: b.url }] });
  try {
    let drained = 0;
    gw.gateway.on('backend:drained', () => drained++);
    assert.equal((await post(gw.port, '/backends/a/drain')).status, 200);
    assert.equal((await request(gw.port, { method: 'DELETE', path: '/_lb/backends/a', headers: AUTH })).status, 200);
    // Re-adding the id gives a fresh, enabled backend that the old drain must not touch.
    const up = once(gw.gateway, 'backend:up', { signal: AbortSignal.timeout(5000) });
    const added = await request(gw.port, { method: 'POST', path: '/_lb/backends', headers: { ...AUTH, 'content-type': 'application/json' }, body: JSON.stringify({ id: 'a', url: a.url }) });
    assert.equal(added.status, 201, added.body);
    await up;
    const bDrained = once(gw.gateway, 'backend:drained', { signal: AbortSignal.timeout(5000) });
    assert.equal((await post(gw.port, '/backends/b/drain')).status, 200);
    await bDrained;
    assert.equal(drained, 1);
    assert.deepEqual(await adminStates(gw.port), { a: 'enabled', b: 'disabled' });
  } finally {
    await gw.close();
  }
});
