import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { startRedisServer, randomPrefix, type RedisServer } from '../helpers/redis.js';
import { until } from '../helpers/wait.js';
import { counterDefinition, group } from './helpers.js';
import { singletonKeys } from '../../src/singleton/store/index.js';
import type { SingletonGroup } from '../../src/singleton/index.js';

let redis: RedisServer;
let raw: Redis;
const groups: SingletonGroup[] = [];
const SECRET = 'a shared secret of some length';
before(async () => {
  redis = await startRedisServer();
  raw = new Redis(redis.port, '127.0.0.1');
});
after(async () => {
  await Promise.all(groups.map((g) => g.close()));
  raw.disconnect();
  await redis.stop();
});

test('with a secret, forged requests, deltas and replies are dropped and counted; signed calls work', async () => {
  const prefix = randomPrefix('sec');
  const ga = group(redis.url, prefix, { secret: SECRET });
  const gb = group(redis.url, prefix, { secret: SECRET });
  groups.push(ga, gb);
  const a = await ga.singleton('counter', counterDefinition());
  const b = await gb.singleton('counter', counterDefinition());
  assert.equal(await b.call('increment', 1), 1);
  const k = singletonKeys(prefix, 'counter');
  const body = JSON.stringify(['forged-1', gb.instanceId, 'increment', 1000, Date.now() + 60_000, 'forged-1']);
  await raw.publish(k.requests, `${a.token}|${ga.instanceId}|AAAAAAAAAAAAAAAAAAAAAA|${body}`);
  await raw.publish(k.requests, `${a.token}|${ga.instanceId}||${body}`);
  await raw.publish(k.events, `d|AAAAAAAAAAAAAAAAAAAAAA|[${a.token},${b.seq + 1},0,{"count":999},[]]`);
  await raw.publish(k.reply(gb.instanceId), `AAAAAAAAAAAAAAAAAAAAAA|["x",1,5,${a.token}]`);
  await until(() => ga.stats.forged >= 2 && gb.stats.forged >= 2, 2000, 'forged messages counted');
  assert.equal(a.state.count, 1);
  assert.equal(b.state.count, 1);
  assert.equal(await b.call('increment', 1), 2);
});

test('an instance without the secret cannot run actions on a signing owner', async () => {
  const prefix = randomPrefix('sec');
  const ga = group(redis.url, prefix, { secret: SECRET });
  const gx = group(redis.url, prefix);
  groups.push(ga, gx);
  const a = await ga.singleton('counter', counterDefinition());
  const x = await gx.singleton('counter', counterDefinition());
  await assert.rejects(x.call('increment', 1, { deadlineMs: 300 }), { code: 'KW_ERR_SINGLETON_DEADLINE' });
  assert.ok(ga.stats.forged >= 1);
  assert.equal(a.state.count, 0);
});

test('malformed messages are dropped and counted, never a crash', async () => {
  const prefix = randomPrefix('sec');
  const ga = group(redis.url, prefix);
  groups.push(ga);
  const a = await ga.singleton('counter', counterDefinition());
  const k = singletonKeys(prefix, 'counter');
  for (const junk of ['', '|', 'x|y|z|{', `${a.token}|${ga.instanceId}||[1,2]`, 'd||{', 'a|notanumber|x', 'zzz']) {
    await raw.publish(k.requests, junk);
    await raw.publish(k.events, junk);
    await raw.publish(k.reply(ga.instanceId), junk);
  }
  await until(() => ga.stats.malformed >= 10, 2000, 'malformed messages counted');
  assert.equal(await a.call('increment', 1), 1);
});
