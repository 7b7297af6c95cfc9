import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startRedisServer, randomPrefix, type RedisServer } from '../helpers/redis.js';
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

async function pair(): Promise<ReturnType<typeof make>> {
  return make(randomPrefix('dl'));
}
async function make(prefix: string) {
  const ga = group(redis.url, prefix);
  const gb = group(redis.url, prefix);
  groups.push(ga, gb);
  const a = await ga.singleton('counter', counterDefinition());
  const b = await gb.singleton('counter', counterDefinition());
  return { a, b, ga, gb };
}

test('an action slower than the deadline is answered with the deadline error in time, and its effect is never applied', async () => {
  const { a, b } = await pair();
  for (const caller of [b, a]) {
    const t0 = Date.now();
    await assert.rejects(caller.call('slow', 400, { deadlineMs: 150 }), { code: 'KW_ERR_SINGLETON_DEADLINE' });
    const took = Date.now() - t0;
    assert.ok(took >= 140 && took < 300, `answered after ${took} ms`);
  }
  await new Promise((r) => setTimeout(r, 600));
  assert.equal(a.state.count, 0, 'the late effect was not applied');
  assert.equal(await b.call('read'), 0);
});

test('an action whose deadline passed while it waited in the queue is never run', async () => {
  const { a, b } = await pair();
  const first = b.call('slow', 300, { deadlineMs: 2000 });
  await new Promise((r) => setTimeout(r, 20));
  const late = b.call('increment', 100, { deadlineMs: 100 });
  await assert.rejects(late, { code: 'KW_ERR_SINGLETON_DEADLINE' });
  assert.equal(await first, 1);
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(a.state.count, 1, 'the expired increment did not run');
});

test('a call with an idempotency key is applied once however often it is made', async () => {
  const { a, b } = await pair();
  const results = await Promise.all([b.call('increment', 5, { idempotencyKey: 'k1' }), a.call('increment', 5, { idempotencyKey: 'k1' })]);
  assert.equal(await b.call('increment', 5, { idempotencyKey: 'k1' }), results[0]);
  assert.deepEqual(results, [5, 5]);
  assert.equal(a.state.count, 5);
});

test('bad definitions and options fail at once with the option named', async () => {
  const g = group(redis.url, randomPrefix('dl'));
  groups.push(g);
  await assert.rejects(g.singleton('x', { ...counterDefinition(), leaseMs: 5 }), /option leaseMs must be a whole number >= 100/);
  await assert.rejects(g.singleton('bad{name}', counterDefinition()), /singleton name must be/);
  await assert.rejects(g.singleton('y', { initialState: [] as never, actions: {} }), /initialState must be a JSON object/);
  assert.throws(() => group(redis.url, 'p', { secret: 'short' }), /secret must be a string of at least 16/);
});

test('pending calls and the queue are bounded: past maxPendingCalls a call is refused at once', async () => {
  const prefix = randomPrefix('dl');
  const ga = group(redis.url, prefix);
  const gb = group(redis.url, prefix);
  groups.push(ga, gb);
  await ga.singleton('counter', counterDefinition());
  const b = await gb.singleton('counter', counterDefinition({ maxPendingCalls: 2 } as never));
  const calls = [b.call('slow', 100), b.call('slow', 100)];
  await assert.rejects(b.call('increment'), { code: 'KW_ERR_SINGLETON_OVERLOADED' });
  await Promise.all(calls);
});
