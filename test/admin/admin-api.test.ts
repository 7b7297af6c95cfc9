import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { backendSet, startBackend } from '../helpers/backends.js';
import { startGateway } from '../helpers/gateway.js';
import { request, type Reply, spread } from '../helpers/http.js';

const TOKEN = 'admin-api-token';
const AUTH = { authorization: `Bearer ${TOKEN}` };

const start = backendSet();
after(() => start.closeAll());

/** An admin call; `body` objects are sent as JSON, strings as they are. */
function admin(port: number, method: string, path: string, body?: unknown, headers: Record<string, string> = AUTH): Promise<Reply> {
  const text = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
  const h: Record<string, string> = { ...headers };
  if (text !== undefined) h['content-type'] = 'application/json';
  return request(port, { method, path: `/_lb${path}`, headers: h, body: text });
}


test('GET /_lb/backends lists admin state, ejection, effective weight and websockets; reads need no token on loopback', async () => {
  const [a, b] = await start('a', 'b');
  const gw = await startGateway({ admin: { token: TOKEN }, backends: [{ id: 'a', url: a!.url, weight: 2 }, { id: 7, url: b!.url }] });
  try {
    await request(gw.port);
    const r = await admin(gw.port, 'GET', '/backends', undefined, {});
    assert.equal(r.status, 200);
    assert.equal(r.headers['cache-control'], 'no-store');
    const { backends: list } = JSON.parse(r.body) as { backends: Record<string, unknown>[] };
    assert.equal(list.length, 2);
    const [first, second] = list;
    assert.equal(first?.id, 'a');
    assert.equal(second?.id, 7);
    for (const entry of list) {
      for (const key of ['adminState', 'ejectedUntil', 'effectiveWeight', 'websockets', 'url', 'healthy', 'requests', 'activeConnections']) {
        assert.ok(key in entry, `${key} in ${JSON.stringify(entry)}`);
      }
      assert.equal(entry.adminState, 'enabled');
      assert.equal(entry.ejectedUntil, null);
      assert.equal(entry.websockets, 0);
    }
    assert.equal(first?.weight, 2);
    assert.equal(first?.effectiveWeight, 2);
    assert.ok(!r.body.includes(TOKEN));
    // One backend by id (numeric ids match their string form).
    const one = await admin(gw.port, 'GET', '/backends/7', undefined, {});
    assert.equal(one.status, 200);
    assert.equal(JSON.parse(one.body).id, 7);
    assert.equal((await admin(gw.port, 'GET', '/backends/nope', undefined, {})).status, 404);
  } finally {
    await gw.close();
  }
});

test('every write needs the bearer token, even from loopback', async () => {
  const [a, b] = await start('a', 'b');
  const gw = await startGateway({ admin: { token: TOKEN }, backends: [{ id: 'a', url: a!.url }, { id: 'b', url: b!.url }] });
  const noToken = await startGateway({ backends: [{ id: 'a', url: a!.url }] });
  try {
    const writes: Array<[string, string, unknown]> = [
      ['POST', '/backends/a/drain', undefined],
      ['POST', '/backends/a/disable', undefined],
      ['POST', '/backends/a/enable', undefined],
      ['PATCH', '/backends/a', { weight: 3 }],
      ['DELETE', '/backends/a', undefined],
      ['POST', '/backends', { id: 'c', url: b!.url }],
      ['POST', '/reload', undefined],
    ];
    for (const [method, path, body] of writes) {
      for (const headers of [{}, { authorization: 'Bearer wrong' }, { authorization: TOKEN }] as Record<string, string>[]) {
        const r = await admin(gw.port, method, path, body, headers);
        assert.equal(r.status, 401, `${method} ${path} with ${JSON.stringify(headers)}`);
        assert.equal(JSON.parse(r.body).code, 'KW_ERR_ADMIN_UNAUTHORIZED');
        assert.equal(r.headers['www-authenticate'], 'Bearer');
      }
      // Without a configured token nobody may write.
      assert.equal((await admin(noToken.port, method, path, body, { authorization: 'Bearer ' })).status, 401);
    }
    // Nothing changed.
    const list = JSON.parse((await admin(gw.port, 'GET', '/backends')).body).backends as { id: string; adminState: string; weight: number }[];
    assert.deepEqual(list.map((x) => [x.id, x.adminState, x.weight]), [['a', 'enabled', 1], ['b', 'enabled', 1]]);
    // A read with the token works too; a wrong method on a read route is 405.
    assert.equal((await admin(gw.port, 'GET', '/health')).status, 200);
    const wrong = await admin(gw.port, 'PUT', '/health');
    assert.equal(wrong.status, 405);
    assert.equal((await admin(gw.port, 'GET', '/backends/a/drain')).status, 405);
    assert.equal((await admin(gw.port, 'POST', '/nope')).status, 404);
    // This gateway was not started from a file: there is nothing to re-read.
    const reload = await admin(gw.port, 'POST', '/reload');
    assert.equal(reload.status, 409, reload.body);
    assert.equal(JSON.parse(reload.body).code, 'KW_ERR_GATEWAY_STATE');
    assert.equal((await admin(gw.port, 'GET', '/reload')).status, 405);
  } finally {
    await Promise.all([gw.close(), noToken.close()]);
  }
});

test('PATCH weight changes the share (round-robin, sticky off); bad bodies are 400, unknown ids 404', async () => {
  const [a, b] = await start('a', 'b');
  const gw = await startGateway({ sticky: false, strategy: 'round-robin', admin: { token: TOKEN }, backends: [{ id: 'a', url: a!.url }, { id: 'b', url: b!.url }] });
  try {
    assert.deepEqual(await spread(gw.port, 8), { a: 4, b: 4 });
    const r = await admin(gw.port, 'PATCH', '/backends/a', { weight: 3 });
    assert.equal(r.status, 200, r.body);
    assert.equal(JSON.parse(r.body).weight, 3);
    assert.deepEqual(await spread(gw.port, 40), { a: 30, b: 10 });
    const listed = JSON.parse((await admin(gw.port, 'GET', '/backends')).body).backends as { id: string; weight: number; effectiveWeight: number }[];
    assert.deepEqual(listed.map((x) => [x.id, x.weight, x.effectiveWeight]), [['a', 3, 3], ['b', 1, 1]]);

    // Weight 0: no new traffic.
    assert.equal((await admin(gw.port, 'PATCH', '/backends/b', { weight: 0 })).status, 200);
    assert.deepEqual(await spread(gw.port, 6), { a: 6 });

    for (const body of [{ weight: -1 }, { weight: 1.5 }, { weight: '3' }, { weight: null }, {}, [3], 'null', '"x"']) {
      const bad = await admin(gw.port, 'PATCH', '/backends/a', body);
      assert.equal(bad.status, 400, `${JSON.stringify(body)} -> ${bad.body}`);
      assert.equal(JSON.parse(bad.body).code, 'KW_ERR_PROXY_BAD_REQUEST');
    }
    const badJson = await admin(gw.port, 'PATCH', '/backends/a', '{"weight": 3');
    assert.equal(badJson.status, 400);
    assert.match(JSON.parse(badJson.body).error, /JSON/);
    const unknown = await admin(gw.port, 'PATCH', '/backends/zzz', { weight: 2 });
    assert.equal(unknown.status, 404);
    assert.equal(JSON.parse(unknown.body).code, 'KW_ERR_ADMIN_NOT_FOUND');
    for (const action of ['drain', 'disable', 'enable']) assert.equal((await admin(gw.port, 'POST', `/backends/zzz/${action}`)).status, 404);
    assert.equal((await admin(gw.port, 'DELETE', '/backends/zzz')).status, 404);
    // The weight of a stays what the last good PATCH set.
    assert.deepEqual(await spread(gw.port, 3), { a: 3 });
  } finally {
    await gw.close();
  }
});

test('POST /_lb/backends adds a backend that takes traffic once its first probe passes; bad ones are refused', async () => {
  const [a, c] = await start('a', 'c');
  const gw = await startGateway({ sticky: false, strategy: 'round-robin', admin: { token: TOKEN }, backends: [{ id: 'a', url: a!.url }] });
  try {
    const up = once(gw.gateway, 'backend:up', { signal: AbortSignal.timeout(5000) });
    const added = await admin(gw.port, 'POST', '/backends', { id: 'c', url: c!.url, weight: 1 });
    assert.equal(added.status, 201, added.body);
    assert.equal(JSON.parse(added.body).id, 'c');
    const [status] = (await up) as [{ id: string }];
    assert.equal(status.id, 'c');
    assert.deepEqual(await spread(gw.port, 6), { a: 3, c: 3 });
    const listed = JSON.parse((await admin(gw.port, 'GET', '/backends')).body).backends as { id: string; healthy: boolean }[];
    assert.deepEqual(listed.map((x) => [x.id, x.healthy]), [['a', true], ['c', true]]);

    const dup = await admin(gw.port, 'POST', '/backends', { id: 'c', url: a!.url });
    assert.equal(dup.status, 409);
    assert.equal(JSON.parse(dup.body).code, 'KW_ERR_ADMIN_CONFLICT');
    const invalid = await admin(gw.port, 'POST', '/backends', { id: 'x', url: 'ftp://x' });
    assert.equal(invalid.status, 400);
    const body = JSON.parse(invalid.body) as { code: string; issues: { path: string; message: string }[] };
    assert.equal(body.code, 'KW_ERR_CONFIG_INVALID');
    assert.ok(body.issues.some((i) => /url/.test(i.path) && /http/.test(i.message)), invalid.body);
    const unknownField = await admin(gw.port, 'POST', '/backends', { id: 'y', url: c!.url, wieght: 2 });
    assert.equal(unknownField.status, 400);
    assert.ok(JSON.parse(unknownField.body).issues.some((i: { path: string }) => /wieght/.test(i.path)));
    assert.equal((await admin(gw.port, 'POST', '/backends', { url: c!.url })).status, 400, 'an id is required');
    assert.equal((await admin(gw.port, 'POST', '/backends', '{oops')).status, 400);
    assert.equal((await admin(gw.port, 'POST', '/backends', { id: 'z', url: c!.url, weight: -2 })).status, 400);
    // None of the refused ones was added.
    assert.equal(JSON.parse((await admin(gw.port, 'GET', '/backends')).body).backends.length, 2);
  } finally {
    await gw.close();
  }
});

test('a backend added with a dead address takes no traffic', async () => {
  const [a] = await start('a');
  const gw = await startGateway({ sticky: false, admin: { token: TOKEN }, health: { timeout: 300 }, backends: [{ id: 'a', url: a!.url }] });
  try {
    const added = await admin(gw.port, 'POST', '/backends', { id: 'dead', url: 'http://127.0.0.1:9' });
    assert.equal(added.status, 201);
    assert.equal(JSON.parse(added.body).healthy, false);
    assert.deepEqual(await spread(gw.port, 6), { a: 6 });
  } finally {
    await gw.close();
  }
});

test('DELETE /_lb/backends/:id removes a backend; its request in flight still completes', async () => {
  let arrived: () => void = () => undefined;
  const atBackend = new Promise<void>((resolve) => (arrived = resolve));
  const slow = await startBackend('slow', (req, res) => {
    req.resume();
    arrived();
    setTimeout(() => res.end('slow done'), 300);
  });
  const [fast] = await start('fast');
  start.track(slow);
  const gw = await startGateway({ sticky: false, admin: { token: TOKEN }, backends: [{ id: 'slow', url: slow.url }, { id: 'fast', url: fast!.url, weight: 0 }] });
  try {
    const inflight = request(gw.port, { path: '/work' });
    await atBackend;
    const removed = await admin(gw.port, 'DELETE', '/backends/slow');
    assert.equal(removed.status, 200, removed.body);
    assert.equal(JSON.parse(removed.body).id, 'slow');
    assert.equal(JSON.parse(removed.body).activeConnections, 1);
    assert.equal((await admin(gw.port, 'PATCH', '/backends/fast', { weight: 1 })).status, 200);
    const done = await inflight;
    assert.equal(done.status, 200);
    assert.equal(done.body, 'slow done');
    assert.deepEqual(await spread(gw.port, 4), { fast: 4 });
    assert.equal(slow.hits, 1);
    const listed = JSON.parse((await admin(gw.port, 'GET', '/backends')).body).backends as { id: string }[];
    assert.deepEqual(listed.map((x) => x.id), ['fast']);
    assert.equal((await admin(gw.port, 'DELETE', '/backends/slow')).status, 404);
    // Removing the last one leaves a gateway that answers 503, not one that crashes.
    assert.equal((await admin(gw.port, 'DELETE', '/backends/fast')).status, 200);
    assert.equal((await request(gw.port)).status, 503);
    assert.equal(gw.gateway.config.backends.length, 0);
  } finally {
    await gw.close();
  }
});

test('__proto__, constructor and friends as ids or routes are 404s: no crash, no pollution', async () => {
  const [a, b] = await start('a', 'b');
  const gw = await startGateway({ admin: { token: TOKEN }, backends: [{ id: 'a', url: a!.url }, { id: 'b', url: b!.url }] });
  try {
    const names = ['__proto__', 'constructor', 'prototype', 'hasOwnProperty', 'toString', '%5F%5Fproto%5F%5F', '__proto__%2F..'];
    for (const name of names) {
      const calls: Array<[string, string, unknown]> = [
        ['GET', `/backends/${name}`, undefined],
        ['PATCH', `/backends/${name}`, { weight: 5 }],
        ['DELETE', `/backends/${name}`, undefined],
        ['POST', `/backends/${name}/drain`, undefined],
        ['POST', `/backends/${name}/disable`, undefined],
        ['POST', `/backends/${name}/enable`, undefined],
        ['POST', `/backends/a/${name}`, undefined],
        ['GET', `/${name}`, undefined],
        ['POST', `/${name}`, undefined],
      ];
      for (const [method, path, body] of calls) {
        const r = await admin(gw.port, method, path, body);
        assert.equal(r.status, 404, `${method} ${path}: ${r.status} ${r.body}`);
        assert.equal(JSON.parse(r.body).code, 'KW_ERR_ADMIN_NOT_FOUND');
      }
    }
    // Bodies that try to reach a prototype stay plain data.
    const patched = await admin(gw.port, 'PATCH', '/backends/a', '{"__proto__": {"weight": 4, "polluted": true}}');
    assert.equal(patched.status, 400, 'no own weight: the body is refused, not read through a prototype');
    const added = await admin(gw.port, 'POST', '/backends', `{"id": "p", "url": "${b!.url}", "__proto__": {"polluted": true}}`);
    assert.equal(added.status, 400, added.body);
    const ctor = await admin(gw.port, 'POST', '/backends', `{"id": "q", "url": "${b!.url}", "constructor": {"prototype": {"polluted": true}}}`);
    assert.equal(ctor.status, 400, ctor.body);

    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    assert.equal(({} as Record<string, unknown>).weight, undefined);
    assert.equal(Object.prototype.hasOwnProperty.call(Object.prototype, 'polluted'), false);
    const list = JSON.parse((await admin(gw.port, 'GET', '/backends')).body).backends as { id: string; adminState: string; weight: number }[];
    assert.deepEqual(list.map((x) => [x.id, x.adminState, x.weight]), [['a', 'enabled', 1], ['b', 'enabled', 1]]);
    const served = await request(gw.port);
    assert.equal(served.status, 200);
    assert.ok(['a', 'b'].includes(served.body));
  } finally {
    await gw.close();
  }
});
