/**
 * The subscriber connection dropped under load. First, in-process groups: while ~1,000 messages/s are published for
 * 4 s, Redis kills every pub/sub connection three times (`CLIENT KILL TYPE pubsub`); the subscriber's connection
 * really missed messages (fewer arrived on it than were published, counted on the connection itself), yet its
 * handler gets every message exactly once, in order, no gaps and no resync: the gaps were repaired from the
 * history. Then past the history (historyLength 50): a subscribing instance (a child process) is stopped (SIGSTOP),
 * its pub/sub connection killed, 200 messages published, and it is resumed: its WebSocket client gets an explicit
 * `resync` naming the first lost number and where delivery resumes (the oldest message still kept), then every
 * kept message and every later one in order.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomPrefix, startRedisServer, type RedisServer } from '../helpers/redis.js';
import { until } from '../helpers/wait.js';
import { RoomGroup, type RoomResyncMessage } from '../../src/rooms/index.js';
import { countingClient, type CountingClient } from './fixtures/counting-client.js';
import { Recorder, roomGroup } from './helpers.js';
import { assertConsecutive, channelOf, startRoomInstance, stopAll, type RoomClient, type RoomInstance } from './instances.js';

let redis: RedisServer;
const groups: RoomGroup[] = [];
const counting: CountingClient[] = [];
const instances: RoomInstance[] = [];
const clients: RoomClient[] = [];
before(async () => {
  redis = await startRedisServer();
});
after(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await stopAll(instances);
  await Promise.all(groups.map((g) => g.close()));
  await Promise.all(counting.map((c) => c.close()));
  await redis?.stop();
});

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, Math.max(0, ms)));
const killPubsub = async (): Promise<number> => Number((await redis.cli('CLIENT', 'KILL', 'TYPE', 'pubsub')).trim());

test('pub/sub connections killed 3 times during 4 s at ~1,000 msg/s: every message once, in order, repaired from the history', { timeout: 40_000 }, async () => {
  const prefix = randomPrefix('rm-subkill');
  const publisher = roomGroup(redis.url, prefix);
  const raw = countingClient(redis.url);
  counting.push(raw);
  const subscriber = new RoomGroup({ redis: raw.client, keyPrefix: prefix });
  groups.push(publisher, subscriber);
  const rec = new Recorder();
  await subscriber.room('flow').subscribe(rec.handler);
  const room = publisher.room('flow');

  const RUN_MS = 4000;
  const t0 = Date.now();
  const killed: number[] = [];
  const killer = (async () => {
    for (const at of [800, 1800, 2800]) {
      await sleep(t0 + at - Date.now());
      killed.push(await killPubsub());
    }
  })();
  const seqs: number[] = [];
  let sent = 0;
  while (Date.now() - t0 < RUN_MS) {
    // One message per elapsed millisecond, sent in the batches the loop's pace allows.
    const due = Date.now() - t0;
    const batch: Promise<number>[] = [];
    while (sent < due) batch.push(room.publish('tick', { n: sent++ }));
    seqs.push(...(await Promise.all(batch)));
    await sleep(5);
  }
  await killer;
  const total = seqs.length;
  assert.ok(total >= 3000, `published ${total} in ${RUN_MS} ms`);
  assert.ok(killed.every((n) => n >= 1), `each CLIENT KILL dropped the subscriber connection (${killed.join(', ')})`);

  await until(() => rec.messages.at(-1)?.seq === total, 10_000, () => `the last message (${total}) delivered; at ${rec.messages.at(-1)?.seq}`);
  await sleep(200);
  assert.deepEqual(seqs.sort((a, b) => a - b), Array.from({ length: total }, (_, i) => i + 1));
  assert.deepEqual(rec.seqs('resync'), [], 'no resync: every gap was within the history');
  assert.equal(rec.messages.length, total, 'each message once');
  assertConsecutive(rec.seqs(), 'subscriber');
  assert.equal(rec.seqs()[0], 1);
  const onChannel = raw.deliveries.get(channelOf(prefix, 'flow')) ?? 0;
  assert.ok(onChannel < total, `the subscriber connection missed messages (${onChannel} of ${total} arrived on it)`);
  assert.equal(subscriber.stats.resyncs, 0);
  console.log(`# ${total} published, ${onChannel} arrived on the subscriber connection, ${total - onChannel} repaired from the history`);
});

test('past the history (historyLength 50): a stopped subscriber whose connection was killed gets a resync, then the rest in order', { timeout: 30_000 }, async () => {
  const prefix = randomPrefix('rm-subresync');
  const HISTORY = 50;
  const publisher = roomGroup(redis.url, prefix, { historyLength: HISTORY });
  groups.push(publisher);
  const room = publisher.room('lag');
  const inst = await startRoomInstance(redis.url, prefix, { historyLength: HISTORY });
  instances.push(inst);
  const w = await inst.connect('lag');
  clients.push(w);
  const last = (): number => w.messages.at(-1)?.seq ?? 0;

  for (let i = 0; i < 20; i++) await room.publish('e', { i });
  await until(() => last() === 20, 5000, 'the first 20');

  inst.pause();
  try {
    assert.ok((await killPubsub()) >= 1, 'the stopped instance\'s pub/sub connection was killed');
    // 200 more while it is stopped and cut off: only the last 50 stay in the history.
    await Promise.all(Array.from({ length: 200 }, (_, i) => room.publish('e', { i: 20 + i })));
  } finally {
    inst.resume();
  }
  await until(() => last() === 220, 10_000, () => `the instance to catch up to 220 (at ${last()})`);
  for (let i = 0; i < 30; i++) await room.publish('e', { i: 220 + i });
  await until(() => last() === 250, 5000, () => `the 30 after (at ${last()})`);
  await sleep(200);

  const seqs = w.seqs();
  const resyncAt = w.messages.findIndex((m) => m.type === 'resync');
  assert.ok(resyncAt >= 0, 'an explicit resync, not silence');
  const resync = w.messages[resyncAt] as RoomResyncMessage;
  assert.deepEqual(w.messages.slice(0, resyncAt).map((m) => m.seq), Array.from({ length: 20 }, (_, i) => i + 1), 'the first 20 before it');
  assert.equal(resync.missedFrom, 21, 'the resync names the first lost number');
  assert.equal(resync.seq, 220 - HISTORY + 1, 'delivery resumes at the oldest kept message: every kept one is delivered');
  const after = w.messages.slice(resyncAt + 1);
  assert.ok(after.every((m) => m.type === 'event'));
  assert.deepEqual(after.map((m) => m.seq), Array.from({ length: 250 - resync.seq + 1 }, (_, i) => resync.seq + i), 'then in order, none twice, none missing');
  assert.equal(w.of('resync').length, 1);
  assert.equal(seqs.length, 20 + 1 + (250 - resync.seq + 1));
  const s = await inst.stats();
  assert.equal(s.stats.resyncs, 1);
  // None of the 200 came over the channel: the kept ones were read from the history.
  assert.equal(s.deliveries[channelOf(prefix, 'lag')], 50, 'the 20 before and the 30 after arrived on the channel');
});
