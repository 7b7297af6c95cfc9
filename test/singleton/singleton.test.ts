import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startRedisServer, randomPrefix, type RedisServer } from '../helpers/redis.js';
import { until, within } from '../helpers/wait.js';
import { counterDefinition, group } from './helpers.js';
import type { SingletonGroup } from '../../src/singleton/index.js';

let redis: RedisServer;
const groups: SingletonGroup[] = [];
before(async () => {
  redis = await startRedisServer();
});
after(async () => {
  await Promise.all(groups.map((g) => g.close()));
  await redis.stop();
});

function join(prefix: string, extra: { secret?: string } = {}): SingletonGroup {
  const g = group(redis.url, prefix, extra);
  groups.push(g);
  return g;
}

test('one owner; calls from a mirror run on the owner and the mirror follows the state', async () => {
  const prefix = randomPrefix('sg');
  const a = await join(prefix).singleton('counter', counterDefinition());
  const b = await join(prefix).singleton('counter', counterDefinition());
  assert.equal(a.role, 'owner');
  assert.equal(b.role, 'mirror');
  assert.equal(b.owner, a.owner);
  assert.equal(await b.call('increment', 2), 2);
  assert.equal(await a.call('increment', 3), 5);
  await until(() => b.state.count === 5, 2000, 'mirror caught up');
  assert.equal(b.seq, a.seq);
  assert.equal(a.token, b.token);
});

test('an action that throws is rolled back and answered with its message', async () => {
  const prefix = randomPrefix('sg');
  const a = await join(prefix).singleton('counter', counterDefinition());
  const b = await join(prefix).singleton('counter', counterDefinition());
  await assert.rejects(b.call('fail'), (e: Error & { code?: string }) => e.code === 'KW_ERR_SINGLETON_ACTION_FAILED' && /no such luck/.test(e.message));
  await assert.rejects(a.call('fail'), { code: 'KW_ERR_SINGLETON_ACTION_FAILED' });
  assert.equal(a.state.count, 0);
  await assert.rejects(b.call('nope'), { code: 'KW_ERR_SINGLETON_UNKNOWN_ACTION' });
});

test('release hands off: another instance owns it and has the committed state', async () => {
  const prefix = randomPrefix('sg');
  const a = await join(prefix).singleton('counter', counterDefinition());
  const b = await join(prefix).singleton('counter', counterDefinition());
  await b.call('increment', 7);
  const lost = new Promise((r) => a.once('lost', r));
  const acquired = new Promise((r) => b.once('acquired', r));
  await a.release();
  assert.equal(((await within(lost, 2000, 'lost')) as { reason: string }).reason, 'released');
  const got = (await within(acquired, 2000, 'acquired')) as { token: number };
  assert.equal(b.role, 'owner');
  assert.ok(got.token > 0);
  assert.equal(b.state.count, 7);
  assert.equal(await a.call('increment', 1), 8);
});

test('a mirror repairs a gap and a lost subscription from Redis, never by trusting message order', async () => {
  const prefix = randomPrefix('sg');
  const ga = join(prefix);
  const gb = join(prefix);
  const a = await ga.singleton('counter', counterDefinition());
  const b = await gb.singleton('counter', counterDefinition());
  await a.call('increment', 1);
  await until(() => b.state.count === 1, 2000, 'mirror at 1');
  // A delta from the future (seq far ahead): a gap, so the mirror re-reads the snapshot instead of applying it.
  const { singletonKeys } = await import('../../src/singleton/store/index.js');
  const k = singletonKeys(prefix, 'counter');
  await redis.cli('PUBLISH', k.events, `d||[${a.token},${b.seq + 5},0,{"count":12345},[]]`);
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(b.state.count, 1, 'the out-of-order delta was not applied');
  assert.equal(b.seq, a.seq);
  // Every subscriber connection dropped; the owner commits meanwhile; the mirror catches up once it is back.
  await redis.cli('CLIENT', 'KILL', 'TYPE', 'pubsub');
  for (let i = 0; i < 5; i++) await a.call('increment', 1).catch(() => undefined);
  await until(() => b.state.count === a.state.count && b.seq === a.seq, 5000, 'mirror repaired after the reconnect');
  assert.equal(await b.call('read'), a.state.count);
});
