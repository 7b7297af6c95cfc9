/**
 * @module test/redis/confirmed-script: `runScriptConfirmed` pipelines a script with `WAIT` on the same connection:
 * 1 when the replica holds the write, 0 (within about 200 ms) when the replica is paused; and the `ReadyGate` gives
 * each waiting caller its own deadline and refuses waiters past its bound.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { closeClient, createRedisClient, defineScript, defineScripts, ReadyGate, runScriptConfirmed } from '../../src/redis/index.js';
import { startRedisServer, testRedisConfig, waitFor, type RedisServer } from '../helpers/redis.js';

const INCR = defineScript('kwTestIncr', 1, "return redis.call('INCR', KEYS[1])");

describe('runScriptConfirmed', () => {
  let master: RedisServer;
  let replica: RedisServer;
  before(async () => {
    master = await startRedisServer({ args: () => ['--repl-diskless-sync-delay', '0'] });
    replica = await startRedisServer({ args: () => ['--replicaof', master.host, String(master.port)] });
    await waitFor('the replica in sync', async () => (await replica.cli('INFO', 'replication')).includes('master_link_status:up'), 10_000);
  });
  after(async () => {
    replica.resume();
    await Promise.all([replica.stop(), master.stop()]);
  });

  it('counts the replica that holds the write, and none while it is paused', async () => {
    const client = createRedisClient(testRedisConfig({ url: master.url }));
    try {
      await client.connect();
      defineScripts(client, { INCR });
      // Right after its first sync a replica may not acknowledge yet (the master learns its offset a moment later).
      await waitFor('the replica acknowledging', async () => (await master.cli('INFO', 'replication')).includes('state=online'), 10_000);
      let held = { reply: 0 as unknown, acked: 0 };
      await waitFor('a write the replica acknowledged', async () => {
        held = await runScriptConfirmed(client, INCR, ['n'], [], 1, 100);
        return held.acked === 1;
      }, 10_000);
      assert.equal(held.acked, 1);
      const count = Number(held.reply);
      replica.pause();
      const t0 = Date.now();
      const lost = await runScriptConfirmed(client, INCR, ['n'], [], 1, 100);
      const waited = Date.now() - t0;
      assert.deepEqual(lost, { reply: count + 1, acked: 0 });
      assert.ok(waited >= 90 && waited < 1000, `WAIT took ${waited} ms`);
    } finally {
      replica.resume();
      await closeClient(client);
    }
  });
});

describe('ReadyGate', () => {
  it('each caller gets its own deadline, measured from when it asked', async () => {
    const client = createRedisClient(testRedisConfig({ url: 'redis://127.0.0.1:1', connectTimeoutMs: 200 }));
    client.on('error', () => undefined);
    const gate = new ReadyGate(client);
    try {
      const t0 = Date.now();
      const first = gate.wait(t0 + 300).then(() => -1, () => Date.now() - t0);
      await new Promise((r) => setTimeout(r, 200));
      const t1 = Date.now();
      const second = gate.wait(t1 + 300).then(() => -1, () => Date.now() - t1);
      const [a, b] = await Promise.all([first, second]);
      assert.ok(a >= 280 && a < 1000, `first ${a} ms`);
      assert.ok(b >= 280 && b < 1000, `second waited its own 300 ms, not the first's remaining 100 (${b} ms)`);
      await assert.rejects(gate.wait(Date.now() - 1), /not ready/);
    } finally {
      await closeClient(client);
    }
  });
});
