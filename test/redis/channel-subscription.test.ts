/**
 * The one subscribe-with-retry, on a real redis-server: events arrive parsed, malformed ones are reported and not
 * delivered, the channel is subscribed again after the subscriber's connection is killed and after Redis restarts,
 * and waiting for the subscription is bounded.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { ChannelSubscription, closeClient, createRedisClient, type RedisClient } from '../../src/redis/index.js';
import { randomPrefix, startRedisServer, testRedisConfig, waitFor, type RedisServer } from '../helpers/redis.js';
import { until } from '../helpers/wait.js';

let redis: RedisServer;
before(async () => {
  redis = await startRedisServer();
});
after(() => redis?.stop());

function setup(t: { after(fn: () => Promise<void> | void): void }) {
  const client: RedisClient = createRedisClient(testRedisConfig({ url: redis.url }), { maxReconnectDelayMs: 100 });
  const channel = randomPrefix('chan');
  const events: { n: number }[] = [];
  let malformed = 0;
  const states: boolean[] = [];
  const sub = new ChannelSubscription<{ n: number }>(client, {
    channel,
    parse: (m) => {
      const v = JSON.parse(m) as unknown;
      return typeof v === 'object' && v !== null && typeof (v as { n?: unknown }).n === 'number' ? (v as { n: number }) : null;
    },
    onEvent: (e) => events.push(e),
    onMalformed: () => malformed++,
    onState: (s) => states.push(s),
  });
  t.after(async () => {
    await sub.close();
    await closeClient(client);
  });
  return { client, channel, events, sub, states, malformed: () => malformed };
}

test('events arrive parsed; a malformed message is reported, not delivered', { timeout: 15_000 }, async (t) => {
  const s = setup(t);
  await s.client.connect().catch(() => undefined);
  s.sub.start();
  await s.sub.whenSubscribed(3000);
  await s.client.publish(s.channel, JSON.stringify({ n: 1 }));
  await s.client.publish(s.channel, '{"oops":true}');
  await s.client.publish(s.channel, JSON.stringify({ n: 2 }));
  await until(() => s.events.length === 2, 3000);
  assert.deepEqual(s.events, [{ n: 1 }, { n: 2 }]);
  assert.equal(s.malformed(), 1);
  assert.deepEqual(s.states, [true]);
});

test('CLIENT KILL TYPE pubsub: subscribed again, and events flow', { timeout: 15_000 }, async (t) => {
  const s = setup(t);
  s.sub.start();
  await s.sub.whenSubscribed(3000);
  await redis.cli('CLIENT', 'KILL', 'TYPE', 'pubsub');
  await until(() => s.states.length >= 3 && s.sub.subscribed, 5000);
  assert.deepEqual(s.states.slice(0, 3), [true, false, true]);
  await waitFor('an event after the kill', async () => {
    await s.client.publish(s.channel, JSON.stringify({ n: 7 }));
    return s.events.some((e) => e.n === 7);
  }, 3000);
});

test('Redis killed and restarted: the wait is bounded while it is down, then the channel is back', { timeout: 20_000 }, async (t) => {
  const s = setup(t);
  s.sub.start();
  await s.sub.whenSubscribed(3000);
  await redis.kill('SIGKILL');
  await until(() => !s.sub.subscribed, 3000);
  await assert.rejects(s.sub.whenSubscribed(300), { code: 'KW_ERR_STORE_UNAVAILABLE' });
  await redis.restart();
  await s.sub.whenSubscribed(5000);
  await waitFor('an event after the restart', async () => {
    await s.client.publish(s.channel, JSON.stringify({ n: 9 })).catch(() => 0);
    return s.events.some((e) => e.n === 9);
  }, 5000);
});
