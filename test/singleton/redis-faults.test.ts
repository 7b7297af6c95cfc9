/**
 * Singletons through a Redis fault: `kill -9` of redis-server under load and a restart with nothing in it: one owner
 * again, tokens only go up, and no acknowledged action is lost. (The Sentinel failover is in test/failover/sentinel,
 * so that Sentinel elections never run side by side.)
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { startRedisServer, randomPrefix } from '../helpers/redis.js';
import { stopAll, type Instance } from './instances.js';
import { assertIncreasing, finish, oneOwnerServing, three, tokens } from './load-run.js';

const started: Instance[] = [];
after(() => stopAll(started));

test('kill -9 redis-server under load, restart it empty: one owner again, tokens still increasing, no acknowledged state lost', { timeout: 90_000 }, async () => {
  const redis = await startRedisServer();
  try {
    const prefix = randomPrefix('sg-restart');
    const all = await three(started, redis.url, prefix);
    const instances = [all.owner, ...all.others];
    for (const i of all.others) i.send({ cmd: 'load', ratePerSec: 100, concurrency: 64, deadlineMs: 15_000, keyed: true });
    await new Promise((r) => setTimeout(r, 1000));
    const before = tokens(instances).length;
    await redis.kill('SIGKILL');
    await new Promise((r) => setTimeout(r, 300));
    await redis.restart();
    assert.equal((await redis.cli('DBSIZE')).trim(), '0', 'redis came back empty');
    await new Promise((r) => setTimeout(r, 2000));
    await oneOwnerServing(instances, 10_000);
    const { acks, nacks } = await finish(all.others);
    const count = Number((await all.others[0]!.ask('call', { action: 'read' }, 10_000)).value);
    assert.ok(count >= acks, `count ${count} < ${acks} acknowledged: acknowledged state lost`);
    // A call that failed (its deadline passed during the outage) may still have been applied: it was never
    // acknowledged. Calls committed just before the crash whose replies died with it are retried, and their
    // idempotency records died too: at most one per call in flight (64 per caller).
    assert.ok(count - acks <= nacks + 128, `count ${count} is ${count - acks} above the acknowledged calls`);
    console.log(`# redis restarted empty: ${acks} acknowledged, ${nacks} failed, count ${count}`);
    const list = tokens(instances);
    assertIncreasing(list);
    assert.ok(list.length > before, 'a claim after the restart');
  } finally {
    await stopAll(started.splice(0));
    await redis.stop();
  }
});
