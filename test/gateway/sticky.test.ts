import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { startBackend, type TestBackend } from '../helpers/backends.js';
import { startGateway } from '../helpers/gateway.js';
import { cookieFrom, request } from '../helpers/http.js';

const backends: TestBackend[] = [];
after(() => Promise.all(backends.map((b) => b.close())));

async function pair() {
  const bs = await Promise.all(['a', 'b'].map((n) => startBackend(n)));
  backends.push(...bs);
  return bs as [TestBackend, TestBackend];
}

test('first response sets a signed HttpOnly SameSite=Lax cookie and later requests stay', async () => {
  const [a, b] = await pair();
  const gw = await startGateway({ backends: [{ id: 'a', url: a.url }, { id: 'b', url: b.url }] });
  try {
    const first = await request(gw.port);
    const line = (first.headers['set-cookie'] ?? [])[0] ?? '';
    assert.match(line, /^keyway_sticky=[^;]+\.[^;]+; Path=\/; HttpOnly; SameSite=Lax$/);
    const cookie = cookieFrom(first, 'keyway_sticky')!;
    for (let i = 0; i < 10; i++) {
      const r = await request(gw.port, { headers: { cookie } });
      assert.equal(r.body, first.body, 'stays on its backend');
      assert.equal(r.headers['set-cookie'], undefined, 'no rewrite while the cookie is right');
    }
  } finally {
    await gw.close();
  }
});

test('sticky client fails over when its backend goes down, and the cookie is rewritten', async () => {
  const [a, b] = await pair();
  const gw = await startGateway({
    health: { interval: 40, rise: 1, fall: 1, timeout: 200 },
    backends: [{ id: 'a', url: a.url }, { id: 'b', url: b.url }],
  });
  try {
    let first = await request(gw.port);
    while (first.body !== 'a') first = await request(gw.port);
    const cookie = cookieFrom(first, 'keyway_sticky')!;
    const down = once(gw.gateway, 'backend:down');
    await a.close();
    await down;
    const moved = await request(gw.port, { headers: { cookie } });
    assert.equal(moved.body, 'b');
    const rewritten = cookieFrom(moved, 'keyway_sticky');
    assert.ok(rewritten && rewritten !== cookie, 'cookie rewritten to the new backend');
    const again = await request(gw.port, { headers: { cookie: rewritten } });
    assert.equal(again.body, 'b');
  } finally {
    await gw.close();
  }
});

test('forged, tampered and unknown cookies are treated as absent', async () => {
  const [a, b] = await pair();
  const gw = await startGateway({ sticky: { secret: 's1' }, backends: [{ id: 'a', url: a.url }, { id: 'b', url: b.url }] });
  const other = await startGateway({ sticky: { secret: 's2' }, backends: [{ id: 'a', url: a.url }, { id: 'b', url: b.url }] });
  try {
    let onB = await request(other.port);
    while (onB.body !== 'b') onB = await request(other.port);
    const foreign = cookieFrom(onB, 'keyway_sticky')!; // signed with another secret
    const value = foreign.split('=')[1]!;
    const forged = [
      foreign,
      `keyway_sticky=${Buffer.from('b').toString('base64url')}`,
      `keyway_sticky=${Buffer.from('b').toString('base64url')}.AAAAAAAAAAAAAAAAAAAAAA`,
      `keyway_sticky=${value.slice(0, -2)}xx`,
      'keyway_sticky=b',
      'keyway_sticky=',
      'keyway_sticky=...',
    ];
    for (const cookie of forged) {
      const seen = new Set<string>();
      for (let i = 0; i < 6; i++) {
        const r = await request(gw.port, { headers: { cookie } });
        assert.equal(r.status, 200);
        assert.ok(r.headers['set-cookie'], `a fresh cookie is issued for ${cookie}`);
        seen.add(r.body);
      }
      assert.deepEqual([...seen].sort(), ['a', 'b'], `"${cookie}" must not pin a backend`);
    }
  } finally {
    await gw.close();
    await other.close();
  }
});

test('sticky applies to WebSocket-free requests with sticky: false disabled entirely', async () => {
  const [a, b] = await pair();
  const gw = await startGateway({ sticky: false, backends: [{ id: 'a', url: a.url }, { id: 'b', url: b.url }] });
  try {
    const r = await request(gw.port);
    assert.equal(r.headers['set-cookie'], undefined);
  } finally {
    await gw.close();
  }
});

test('sticky options: cookie name, Secure, Max-Age', async () => {
  const [a] = await pair();
  const gw = await startGateway({
    sticky: { cookie: 'route', secure: true, maxAgeMs: 3_600_000, sameSite: 'strict' },
    backends: [{ id: 'a', url: a.url }],
  });
  try {
    const r = await request(gw.port);
    assert.match((r.headers['set-cookie'] ?? [])[0] ?? '', /^route=[^;]+; Path=\/; HttpOnly; SameSite=Strict; Secure; Max-Age=3600$/);
  } finally {
    await gw.close();
  }
});

test('a sticky client whose pinned backend refuses the connection is retried on the other and re-pinned there', async () => {
  const [a, b] = await pair();
  // Health checks far apart and no ejection: only the retry can save the request, and only if it leaves `a`.
  const gw = await startGateway({ outlier: false, health: { interval: 60_000 }, backends: [{ id: 'a', url: a.url }, { id: 'b', url: b.url }] });
  try {
    let first = await request(gw.port);
    while (first.body !== 'a') first = await request(gw.port);
    const cookie = cookieFrom(first, 'keyway_sticky')!;
    await a.close(); // refused from now on; the gateway still counts it healthy
    for (let i = 0; i < 5; i++) {
      const moved = await request(gw.port, { headers: { cookie } });
      assert.equal(moved.status, 200, moved.body);
      assert.equal(moved.body, 'b', 'retried on the other backend');
      const rewritten = cookieFrom(moved, 'keyway_sticky');
      assert.ok(rewritten && rewritten !== cookie, 'a new Set-Cookie pins the client to b');
      const again = await request(gw.port, { headers: { cookie: rewritten } });
      assert.equal(again.body, 'b');
      assert.equal(again.headers['set-cookie'], undefined, 'the new pin holds');
    }
  } finally {
    await gw.close();
  }
});
