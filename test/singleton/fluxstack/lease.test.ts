/**
 * The local lease: when Redis stops answering, an owner whose claim has not been renewed within singletonTtl stops
 * calling it its own (another instance may have claimed it once it expired). Its own server: the test pauses it.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Redis } from 'ioredis';
import { RedisClusterAdapter } from '../../../src/singleton/fluxstack/index.js';
import { randomPrefix, startRedisServer, type RedisServer } from '../../helpers/redis.js';
import { until } from '../../helpers/wait.js';

let server: RedisServer;
let redis: Redis;
let adapter: RedisClusterAdapter;

before(async () => {
  server = await startRedisServer();
  redis = new Redis(server.port, server.host);
  adapter = new RedisClusterAdapter({ redis, prefix: `${randomPrefix('fx-lease')}:`, singletonTtl: 0.5, heartbeatInterval: 100 });
  await adapter.start();
});
after(async () => {
  server.resume();
  await adapter.shutdown();
  redis.disconnect();
  await server.stop();
});

test('an owner that cannot renew reports the loss once its lease has run out', async () => {
  const lost: string[] = [];
  adapter.onOwnershipLost((name) => lost.push(name));
  const claimedAt = Date.now();
  assert.equal((await adapter.claimSingleton('Counter', 'comp-1')).claimed, true);
  server.pause(); // the renewals now hang
  try {
    await until(() => lost.length > 0, 3000, 'the ownership loss');
  } finally {
    server.resume();
  }
  const after = Date.now() - claimedAt;
  assert.deepEqual(lost, ['Counter']);
  assert.ok(after >= 450 && after < 2000, `lost after ${after} ms`);
});
