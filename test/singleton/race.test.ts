import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startRedisServer, randomPrefix, type RedisServer } from '../helpers/redis.js';
import { ownerOf, startInstance, stopAll, type Instance } from './instances.js';

let redis: RedisServer;
let instances: Instance[] = [];
before(async () => {
  redis = await startRedisServer();
});
after(async () => {
  await stopAll(instances);
  await redis.stop();
});

test('8 processes race to claim one singleton 200 times: one owner per token, tokens strictly increasing', { timeout: 90_000 }, async () => {
  const prefix = randomPrefix('race');
  instances = await Promise.all(Array.from({ length: 8 }, () => startInstance(redis.url, prefix)));
  const acquired = (): { token: number; who: string; at: number }[] =>
    instances.flatMap((i) => i.events.filter((e) => e.ev === 'acquired').map((e) => ({ token: Number(e.token), who: i.instanceId, at: Number(e.at) })));
  for (let round = 0; round < 200; round++) {
    const before = acquired().length;
    let owner = ownerOf(instances);
    for (let wait = 0; owner === undefined && wait < 100; wait++) {
      await new Promise((r) => setTimeout(r, 20));
      owner = ownerOf(instances);
    }
    assert.ok(owner, `round ${round}: nobody owns the singleton`);
    const from = owner.events.length;
    owner.send({ cmd: 'release' });
    await owner.next((e) => e.ev === 'released', 5000, from);
    for (let wait = 0; acquired().length === before && wait < 250; wait++) await new Promise((r) => setTimeout(r, 10));
    assert.ok(acquired().length > before, `round ${round}: nobody claimed after the release`);
  }
  const all = acquired();
  const tokens = all.map((a) => a.token);
  assert.equal(new Set(tokens).size, tokens.length, 'a token was acquired twice');
  const byTime = [...all].sort((a, b) => a.at - b.at || a.token - b.token);
  for (let i = 1; i < byTime.length; i++) assert.ok(byTime[i]!.token > byTime[i - 1]!.token, `token went down at ${i}`);
  assert.ok(all.length >= 201);
  assert.ok(new Set(all.map((a) => a.who)).size >= 4, 'ownership moved between processes');
  // Never two owners at once: replaying acquired/lost in time order, at most one instance holds at any moment.
  // A loss is stamped with when it stopped serving (`servedUntil`). Within one ms, one instance's own events keep
  // their order (it may acquire and lose in the same ms), and another's loss comes before an acquisition.
  const timeline = instances
    .flatMap((i) => i.events.filter((e) => e.ev === 'acquired' || e.ev === 'lost').map((e, n) => ({ ev: e.ev, at: Number(e.at), who: i.instanceId, n })))
    .sort((a, b) => a.at - b.at || (a.who === b.who ? a.n - b.n : a.ev === 'lost' ? -1 : 1));
  const holding = new Set<string>();
  for (const e of timeline) {
    if (e.ev === 'lost') holding.delete(e.who);
    else holding.add(e.who);
    assert.ok(holding.size <= 1, `two owners at ${e.at}`);
  }
});
