import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { StoreUnavailableError } from '../../../src/errors.js';
import { createRedisClient } from '../../../src/redis/index.js';
import { createGatewayStore, RedisStore, storeKeys } from '../../../src/replication/store/index.js';
import { freePort, randomPrefix, startRedisServer, testRedisConfig, type RedisServer } from '../../helpers/redis.js';
import { EventQueue, storeConformance } from './store-conformance.js';

const verdict = { backendId: 'api-1', replicaId: 'r1', up: true, sinceMs: 1_700_000_000_000 };

let server: RedisServer;
before(async () => {
  server = await startRedisServer();
});
after(async () => {
  await server.stop();
});

storeConformance('redis (standalone)', async (count) => {
  const keyPrefix = randomPrefix('conf');
  return Array.from({ length: count }, () => new RedisStore(testRedisConfig({ url: server.url, keyPrefix })));
});

describe('RedisStore', () => {
  it('keeps every key under the hash-tagged prefix, with a TTL', async () => {
    const keyPrefix = randomPrefix('keys');
    const store = new RedisStore(testRedisConfig({ url: server.url, keyPrefix }));
    await store.start();
    await store.putVerdict(verdict, 5000);
    await store.putRegister('admin', { id: 'a', value: 'v', atMs: 1, by: 'r1' }, 60_000);
    await store.putRegister('backend', { id: 'b', value: 'v', atMs: 1, by: 'r1' }, 30_000);
    const keys = (await server.cli('--scan', '--pattern', `*${keyPrefix}*`)).trim().split('\n').sort();
    const expected = storeKeys(keyPrefix);
    assert.deepEqual(keys, [expected.verdicts, expected.admin, expected.backend].sort());
    for (const key of keys) assert.ok(key.startsWith(`{${keyPrefix}}:gw:`), key);
    const pttl = Number(await server.cli('PTTL', expected.verdicts));
    assert.ok(pttl > 0 && pttl <= 5000, `verdicts hash expires with its longest field (${pttl})`);
    assert.ok(Number(await server.cli('PTTL', expected.admin)) > 30_000);
    await store.close();
  });

  it('leaves an injected client open', async () => {
    const client = new Redis(server.port, '127.0.0.1');
    const config = testRedisConfig({ url: 'redis://unused.invalid:1' });
    const store = new RedisStore(config, { client });
    await store.start();
    await store.putVerdict(verdict, 5000);
    assert.equal((await store.read()).verdicts.length, 1);
    await store.close();
    assert.equal(await client.ping(), 'PONG');
    client.disconnect();
  });

  it('createGatewayStore(config) makes a redis store', async () => {
    const store = createGatewayStore(testRedisConfig({ url: server.url }));
    assert.equal(store.kind, 'redis');
    await store.close();
  });

  it('createRedisClient takes credentials and db from the url, or from the config', async () => {
    const secured = await startRedisServer({ args: () => ['--requirepass', 's3cret/+'] });
    try {
      const fromUrl = createRedisClient(testRedisConfig({ url: `redis://:s3cret%2F%2B@127.0.0.1:${secured.port}/3` }));
      await fromUrl.connect();
      await fromUrl.set('k', 'v');
      assert.equal(await secured.cli('-a', 's3cret/+', '--no-auth-warning', '-n', '3', 'GET', 'k'), 'v\n');
      await fromUrl.quit();
      const fromConfig = createRedisClient(testRedisConfig({ url: secured.url, password: 's3cret/+' }));
      await fromConfig.connect();
      assert.equal(await fromConfig.ping(), 'PONG');
      await fromConfig.quit();
      const wrong = createRedisClient(testRedisConfig({ url: secured.url, password: 'nope' }));
      try {
        const [err] = (await Promise.all([once(wrong, 'error'), wrong.connect().catch(() => undefined)]))[0] as [Error];
        assert.match(err.message, /WRONGPASS/);
      } finally {
        wrong.disconnect();
      }
    } finally {
      await secured.stop();
    }
  });

  it('resubscribes after losing only its subscriber connection', async () => {
    const keyPrefix = randomPrefix('resub');
    const a = new RedisStore(testRedisConfig({ url: server.url, keyPrefix }), { maxReconnectDelayMs: 100 });
    const b = new RedisStore(testRedisConfig({ url: server.url, keyPrefix }), { maxReconnectDelayMs: 100 });
    try {
      await Promise.all([a.start(), b.start()]);
      const cycle = Promise.all([once(b, 'down'), once(b, 'up')]);
      await server.cli('CLIENT', 'KILL', 'TYPE', 'pubsub');
      await cycle;
      const events = new EventQueue(b);
      await a.putRegister('admin', { id: 'x', value: 'v', atMs: 1, by: 'r1' }, 5000);
      assert.equal((await events.next()).type, 'register');
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('a command Redis does not answer rejects after connectTimeoutMs', async () => {
    const store = new RedisStore(testRedisConfig({ url: server.url, connectTimeoutMs: 300 }));
    try {
      await store.start();
      await server.cli('CLIENT', 'PAUSE', '1500', 'WRITE');
      const started = Date.now();
      await assert.rejects(store.putVerdict(verdict, 1000), StoreUnavailableError);
      assert.ok(Date.now() - started < 1200, 'rejected by the command timeout, not by the pause ending');
    } finally {
      await server.cli('CLIENT', 'UNPAUSE');
      await store.close();
    }
  });

  it('start() rejects after connectTimeoutMs when Redis is down, then comes up by itself', async () => {
    const port = await freePort();
    const store = new RedisStore(testRedisConfig({ url: `redis://127.0.0.1:${port}`, connectTimeoutMs: 300 }), {
      maxReconnectDelayMs: 100,
    });
    let late: RedisServer | undefined;
    try {
      const started = Date.now();
      await assert.rejects(store.start(), StoreUnavailableError);
      assert.ok(Date.now() - started < 2000);
      assert.equal(store.available, false);
      await assert.rejects(store.putVerdict(verdict, 1000), StoreUnavailableError);
      const up = once(store, 'up');
      late = await startRedisServer({ port });
      await up;
      assert.equal(store.available, true);
      assert.equal(await store.putVerdict(verdict, 1000), true);
    } finally {
      await store.close();
      await late?.stop();
    }
  });

  it('survives an outage: down once, fast failures, up again with events flowing', async () => {
    const victim = await startRedisServer();
    const keyPrefix = randomPrefix('outage');
    const options = { maxReconnectDelayMs: 100 };
    const a = new RedisStore(testRedisConfig({ url: victim.url, keyPrefix, connectTimeoutMs: 1000 }), options);
    const b = new RedisStore(testRedisConfig({ url: victim.url, keyPrefix, connectTimeoutMs: 1000 }), options);
    try {
      await Promise.all([a.start(), b.start()]);
      const downs: Error[] = [];
      a.on('down', (err) => downs.push(err));
      const down = once(a, 'down');
      await victim.kill('SIGKILL');
      await down;
      assert.equal(a.available, false);
      assert.ok(downs[0] instanceof StoreUnavailableError);
      const started = Date.now();
      await assert.rejects(a.putVerdict(verdict, 1000), StoreUnavailableError);
      await assert.rejects(a.read(), StoreUnavailableError);
      assert.ok(Date.now() - started < 500, 'calls during an outage fail fast');

      const ups = Promise.all([once(a, 'up'), once(b, 'up')]);
      await victim.restart();
      await ups;
      assert.equal(downs.length, 1, 'down is emitted once per outage');
      const events = new EventQueue(b);
      assert.equal(await a.putVerdict(verdict, 1000), true, 'the restarted server lost the data');
      const event = await events.next();
      assert.equal(event.type === 'verdict' && event.verdict.backendId, 'api-1');
    } finally {
      await Promise.all([a.close(), b.close()]);
      await victim.stop();
    }
  });
});
