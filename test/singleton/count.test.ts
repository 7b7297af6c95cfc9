import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startRedisServer, randomPrefix, type RedisServer } from '../helpers/redis.js';
import { acksOf, startInstance, stopAll, type Instance } from './instances.js';

let redis: RedisServer;
let instances: Instance[] = [];
before(async () => {
  redis = await startRedisServer();
});
after(async () => {
  await stopAll(instances);
  await redis.stop();
});

test('3 instances call increment 10,000 times concurrently: the count equals the acknowledged calls', { timeout: 90_000 }, async () => {
  const prefix = randomPrefix('count');
  instances = await Promise.all([0, 1, 2].map(() => startInstance(redis.url, prefix)));
  const totals = [3334, 3333, 3333];
  instances.forEach((i, n) => i.send({ cmd: 'load', total: totals[n], concurrency: 32, deadlineMs: 20_000, keyed: true }));
  const done = await Promise.all(instances.map((i) => i.next((e) => e.ev === 'load-done', 60_000)));
  const acks = done.reduce((sum, e) => sum + Number(e.acks), 0);
  const nacks = done.reduce((sum, e) => sum + Number(e.nacks), 0);
  assert.equal(acks + nacks, 10_000);
  assert.equal(nacks, 0, 'every call is answered within its deadline');
  const answer = await instances[0]!.ask('call', { action: 'read' });
  assert.equal(answer.value, acks);
  // Every result is a distinct count: no two calls were applied as one, none twice.
  const results = acksOf(instances).map((e) => Number(e.result));
  assert.equal(new Set(results).size, acks);
  assert.equal(Math.max(...results), acks);
});
