/**
 * @module test/replication/heal: shared state heals in both directions. A fact Redis lost without any outage being
 * seen (a write that landed on a master which a failover then demoted, simulated here by deleting it behind the
 * replicas' backs) is written again by a replica that holds it, logged, and kept.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, before, describe, it } from 'node:test';
import { RegisterBook, SharedView } from '../../src/replication/index.js';
import { RedisStore, storeKeys } from '../../src/replication/store/index.js';
import { randomPrefix, startRedisServer, testRedisConfig, waitFor, type RedisServer } from '../helpers/redis.js';
import { captureLogger, FAST, RecordingTarget } from './helpers.js';

describe('RegisterBook.lacking', () => {
  const reg = (id: string, atMs: number, by = 'a') => ({ id, value: '{}', atMs, by });

  it('names what the store lacks or holds older, only among registers known before the read', () => {
    const book = new RegisterBook();
    book.remember('admin', reg('kept', 100));
    book.remember('admin', reg('older-in-store', 200));
    book.remember('backend', reg('missing', 100));
    const mark = book.mark();
    book.remember('admin', reg('after-the-read', 100));
    const held = { admin: [reg('kept', 100), reg('older-in-store', 150)], backend: [] };
    const out = book.lacking(held, 60_000, 1000, mark).map((r) => `${r.kind} ${r.register.id}`);
    assert.deepEqual(out.sort(), ['admin older-in-store', 'backend missing']);
  });

  it('a newer write in the store is not lacking', () => {
    const book = new RegisterBook();
    book.remember('admin', reg('x', 100));
    assert.deepEqual(book.lacking({ admin: [reg('x', 300, 'b')], backend: [] }, 60_000, 1000, book.mark()), []);
  });
});

describe('SharedView over Redis: a lost fact is written again', () => {
  let server: RedisServer;
  before(async () => {
    server = await startRedisServer();
  });
  after(async () => {
    await server.stop();
  });

  it('a drain deleted from Redis behind the replicas is re-written on the next sync and seen by a new replica', { timeout: 20_000 }, async () => {
    const keyPrefix = randomPrefix('heal');
    const config = testRedisConfig({ url: server.url, keyPrefix });
    const stores: RedisStore[] = [];
    const views: SharedView[] = [];
    const open = async (replicaId: string) => {
      const store = new RedisStore({ ...config, replicaId });
      const logger = captureLogger();
      const target = new RecordingTarget();
      const view = new SharedView(store, target, { ...FAST, syncIntervalMs: 100, replicaId, logger });
      stores.push(store);
      views.push(view);
      await view.start();
      return { view, target, log: logger.entries };
    };
    try {
      const a = await open('a');
      const b = await open('b');
      a.view.setAdmin('api-1', { state: 'draining' });
      await once(b.view, 'synced');
      const key = storeKeys(keyPrefix).admin;
      await waitFor('the drain in Redis', async () => (await server.cli('HEXISTS', key, 'api-1')).trim() === '1', 5000);
      // Lost with no outage: both replicas still hold it, Redis does not.
      assert.equal((await server.cli('HDEL', key, 'api-1')).trim(), '1');
      const [count] = (await once(a.view, 'healed')) as [number];
      assert.ok(count >= 1);
      await waitFor('the drain back in Redis', async () => (await server.cli('HEXISTS', key, 'api-1')).trim() === '1', 5000);
      assert.ok([...a.log].some((e) => e.level === 'warn' && /lacked facts/.test(e.msg)), 'the re-write is logged');
      const c = await open('c');
      assert.deepEqual(c.target.admin, [['api-1', { state: 'draining' }]], 'a replica started afterwards sees the drain');
    } finally {
      await Promise.all(views.map((v) => v.close()));
      await Promise.all(stores.map((s) => s.close()));
    }
  });
});
