/**
 * Gateway replicas sharing one view through a real redis-server: health verdicts, admin state, sticky cookies,
 * runtime backends, and a Redis that dies under load and comes back empty.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { backendSet, type TestBackend } from '../helpers/backends.js';
import { replicaStarter, startGateway, upstreamOf, type Started } from '../helpers/gateway.js';
import { cookieFrom, request } from '../helpers/http.js';
import { LoadGenerator } from '../helpers/load.js';
import { randomPrefix, startRedisServer, type RedisServer } from '../helpers/redis.js';
import { until } from '../helpers/wait.js';

const start = backendSet();
after(start.closeAll);
let redis: RedisServer;
before(async () => {
  redis = await startRedisServer();
});
after(() => redis.stop());

const ADMIN = { token: 'admin-token' };

/** Starts replicas on the shared Redis with `prefix`, serving `servers`: see `replicaStarter`. */
function replicasOn(prefix: string, servers: TestBackend[]): (intervalMs: number) => Promise<Started> {
  return replicaStarter(servers, { redis: { url: redis.url, keyPrefix: prefix, syncIntervalMs: 300 }, admin: ADMIN });
}

describe('replicas on one Redis', () => {
  test('a backend going down and up is seen by a replica that does not probe it within two intervals', { timeout: 30_000 }, async () => {
    const [a, b] = await start('a', 'b');
    const replica = replicasOn(randomPrefix('health'), [a!, b!]);
    const prober = await replica(200);
    // This one probes once a minute: what it learns in between comes from the other replica.
    const follower = await replica(60_000);
    const fa = upstreamOf(follower, 'a');
    assert.equal(fa.healthy, true);

    await a!.close();
    const downAt = Date.now();
    await until(() => !upstreamOf(prober, 'a').healthy, 2000);
    await until(() => !fa.healthy, 2000);
    assert.ok(Date.now() - downAt <= 2 * 200 + 300, `follower saw it down after ${Date.now() - downAt} ms`);
    assert.deepEqual(new Set((await Promise.all([1, 2, 3, 4].map(() => request(follower.port)))).map((r) => r.body)), new Set(['b']));

    await a!.restart();
    const upAt = Date.now();
    await until(() => fa.healthy, 2000);
    assert.ok(Date.now() - upAt <= 2 * 200 + 300, `follower saw it up after ${Date.now() - upAt} ms`);
    assert.ok(follower.gateway.shared.peers.length >= 1, 'the follower knows its peer');
  });

  test('a drain issued on one replica completes on the other: the backend is disabled there after drainTimeoutMs', { timeout: 30_000 }, async () => {
    const [a, b] = await start('a', 'b');
    const replica = replicaStarter([a!, b!], { redis: { url: redis.url, keyPrefix: randomPrefix('drained'), syncIntervalMs: 300 }, admin: ADMIN, drainTimeoutMs: 600 });
    const one = await replica(60_000);
    const two = await replica(60_000);
    const drained = await request(one.port, { method: 'POST', path: '/_lb/backends/a/drain', headers: { authorization: 'Bearer admin-token' } });
    assert.equal(drained.status, 200);
    const issuedAt = Date.now();
    await until(() => upstreamOf(two, 'a').adminState === 'draining', 1500);
    await until(() => upstreamOf(two, 'a').adminState === 'disabled', 600 + 2000);
    assert.ok(Date.now() - issuedAt >= 500, 'not before the drain timeout');
    await until(() => upstreamOf(one, 'a').adminState === 'disabled', 2000);
    for (let i = 0; i < 4; i++) assert.equal((await request(two.port)).body, 'b');
  });

  test('a drain issued on one replica is honoured by the other within a second; weights and runtime backends too', { timeout: 30_000 }, async () => {
    const [a, b, c] = await start('a', 'b', 'c');
    const replica = replicasOn(randomPrefix('admin'), [a!, b!]);
    const one = await replica(60_000);
    const two = await replica(60_000);
    const auth = { authorization: 'Bearer admin-token' };

    const drained = await request(one.port, { method: 'POST', path: '/_lb/backends/a/drain', headers: auth });
    assert.equal(drained.status, 200);
    const t0 = Date.now();
    await until(() => upstreamOf(two, 'a').adminState === 'draining', 1000);
    assert.ok(Date.now() - t0 < 1000);
    for (let i = 0; i < 6; i++) assert.equal((await request(two.port)).body, 'b', 'no new client goes to a draining backend');

    await request(one.port, { method: 'PATCH', path: '/_lb/backends/b', headers: { ...auth, 'content-type': 'application/json' }, body: '{"weight":4}' });
    await until(() => upstreamOf(two, 'b').configuredWeight === 4, 1000);
    assert.equal(upstreamOf(two, 'a').adminState, 'draining', 'a weight change keeps the admin state');

    const added = await request(one.port, {
      method: 'POST',
      path: '/_lb/backends',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ id: 'c', url: c!.url }),
    });
    assert.equal(added.status, 201);
    await until(() => two.gateway.upstreams.some((u) => u.id === 'c' && u.healthy), 3000);
    await request(one.port, { method: 'DELETE', path: '/_lb/backends/c', headers: auth });
    await until(() => !two.gateway.upstreams.some((u) => u.id === 'c'), 1000);

    // A replica started later learns all of it from Redis.
    const three = await replica(60_000);
    assert.equal(upstreamOf(three, 'a').adminState, 'draining');
    assert.equal(upstreamOf(three, 'b').configuredWeight, 4);
    assert.ok(!three.gateway.upstreams.some((u) => u.id === 'c'));
  });

  test('a sticky cookie issued by one replica is honoured by the other', { timeout: 20_000 }, async () => {
    const [a, b, c] = await start('a', 'b', 'c');
    const replica = replicasOn(randomPrefix('sticky'), [a!, b!, c!]);
    const one = await replica(60_000);
    const two = await replica(60_000);
    for (let i = 0; i < 6; i++) {
      const first = await request(one.port);
      const cookie = cookieFrom(first, 'keyway_sticky');
      assert.ok(cookie);
      for (let j = 0; j < 3; j++) {
        const next = await request(two.port, { headers: { cookie: cookie! } });
        assert.equal(next.body, first.body);
        assert.equal(cookieFrom(next, 'keyway_sticky'), undefined, 'already pinned right: no new cookie');
      }
    }
  });

  test('redis-server killed under load: zero failed requests; restarted empty, both replicas resynchronise', { timeout: 60_000 }, async () => {
    const [a, b] = await start('a', 'b');
    const replica = replicasOn(randomPrefix('outage'), [a!, b!]);
    const one = await replica(200);
    const two = await replica(200);
    one.gateway.setAdminState('a', 'disabled');
    await until(() => upstreamOf(two, 'a').adminState === 'disabled', 1000);

    const loads = [one, two].map((r) => new LoadGenerator({ port: r.port, ratePerSecond: 150, maxInflight: 20 }));
    /** Until each replica has answered `n` requests sent since `since` (`what` names the phase). */
    const flowed = (n: number, since: number, what: string): Promise<unknown> =>
      Promise.all(loads.map((l) => l.answered(n, 5000, (o) => o.sentAt >= since, `answered requests sent ${what}`)));
    for (const l of loads) l.start();
    await flowed(75, 0, 'before the kill');
    await redis.kill('SIGKILL');
    await until(() => !one.gateway.shared.available && !two.gateway.shared.available, 5000);
    // Serving on the last known view: at this rate, 225 answers take at least 1.5 s, five sync intervals.
    await flowed(225, Date.now(), 'while Redis is down');
    assert.equal(upstreamOf(two, 'a').adminState, 'disabled', 'fail-static: the view stays');
    await redis.restart(); // no persistence: it comes back empty
    await until(() => one.gateway.shared.available && two.gateway.shared.available, 10_000);
    await flowed(75, Date.now(), 'after the resynchronisation');
    await Promise.all(loads.map((l) => l.stop()));
    for (const s of loads.map((l) => l.summary())) {
      assert.ok(s.sent > 200, `sent ${s.sent}`);
      assert.equal(s.failed, 0, `failed requests: ${JSON.stringify(s)}`);
    }
    for (const l of loads) assert.ok(l.outcomes.every((o) => o.status === 200 && o.body === 'b'));

    // Resynchronised: the shared state is back in Redis (a new replica learns it) and changes flow again.
    const three = await replica(60_000);
    assert.equal(upstreamOf(three, 'a').adminState, 'disabled', 'the replicas re-seeded the emptied Redis');
    two.gateway.setAdminState('a', 'enabled');
    await until(() => upstreamOf(one, 'a').adminState === 'enabled' && upstreamOf(three, 'a').adminState === 'enabled', 1000);
    await b!.close();
    await until(() => !upstreamOf(three, 'b').healthy, 2000);
  });
});

describe('startup without Redis', () => {
  test('serves locally and warns when Redis is unreachable; refuses with redis.required', { timeout: 20_000 }, async () => {
    const [a] = await start('a');
    const dead = `redis://127.0.0.1:${(await startRedisServer().then(async (r) => (await r.stop(), r))).port}`;
    const alone = await startGateway({ backends: [{ id: 'a', url: a!.url }], redis: { url: dead, connectTimeoutMs: 300 } });
    after(alone.close);
    assert.equal((await request(alone.port)).body, 'a');
    assert.equal(alone.gateway.shared.available, false);
    await assert.rejects(
      startGateway({ backends: [{ id: 'a', url: a!.url }], redis: { url: dead, connectTimeoutMs: 300, required: true } }),
      (err: Error & { code?: string }) => err.code === 'KW_ERR_STORE_UNAVAILABLE' && /redis/i.test(err.message),
    );
  });
});
