/**
 * Room traffic goes only where the room has local subscribers. Three instances (child processes): A has members in
 * room `busy`, B only in room `quiet`, C in no room; all three publish into `busy`. What arrives on each
 * instance's Redis subscriber connection is counted there, per channel, before the library sees it: B and C get
 * none of `busy`'s messages (and `PUBSUB NUMSUB` shows only A subscribed to its channel), while A gets all of them
 * and B all of `quiet`'s. Then B gets two subscribers in `busy`: it subscribes the channel, receives, keeps it while
 * one is left, and unsubscribes when the last one leaves (NUMSUB drops, nothing more arrives on B).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomPrefix, waitFor } from '../helpers/redis.js';
import { until } from '../helpers/wait.js';
import { channelOf, instanceRig, numsub, openAll, type RoomClient, type RoomInstance } from './instances.js';

const rig = instanceRig();

/** Messages of room channels that arrived on `inst`'s subscriber connection, per channel. */
async function roomDeliveries(inst: RoomInstance): Promise<Record<string, number>> {
  const { deliveries } = await inst.stats();
  return Object.fromEntries(Object.entries(deliveries).filter(([channel]) => channel.includes(':rm:')));
}

const seqOf = async (inst: RoomInstance, room: string): Promise<number> => (await inst.ask<{ seq: number }>('state', { room })).seq;

test('an instance with no subscriber in a room receives none of its traffic, and unsubscribes when its last subscriber leaves', { timeout: 45_000 }, async () => {
  const prefix = randomPrefix('rm-traffic');
  const busy = channelOf(prefix, 'busy');
  const quiet = channelOf(prefix, 'quiet');
  const [a, b, c] = (await rig.start(prefix, 3)) as [RoomInstance, RoomInstance, RoomInstance];
  const onA = await openAll(Array.from({ length: 10 }, (_, i) => i), (i) => a.connect('busy', `a${i}`));
  const onB = await openAll(Array.from({ length: 5 }, (_, i) => i), (i) => b.connect('quiet', `b${i}`));
  rig.track([...onA, ...onB]);

  // Everybody publishes into busy (a publisher need not subscribe); A publishes into quiet.
  await Promise.all([
    a.ask('publish', { room: 'busy', n: 300 }),
    b.ask('publish', { room: 'busy', n: 200 }),
    c.ask('publish', { room: 'busy', n: 100 }),
    a.ask('publish', { room: 'quiet', n: 50 }),
  ]);
  const busySeq = await seqOf(c, 'busy');
  const quietSeq = await seqOf(c, 'quiet');
  assert.equal(busySeq, 10 + 600, 'busy: 10 joins and 600 events');
  assert.equal(quietSeq, 5 + 50, 'quiet: 5 joins and 50 events');
  await until(() => onA.every((x) => x.messages.at(-1)?.seq === busySeq) && onB.every((x) => x.messages.at(-1)?.seq === quietSeq), 10_000, 'every message delivered');
  await new Promise((r) => setTimeout(r, 200));

  assert.equal(await numsub(rig.redis.cli, busy), 1, 'only A is subscribed to busy');
  assert.equal(await numsub(rig.redis.cli, quiet), 1, 'only B is subscribed to quiet');
  // A subscribed before its first member joined: every message of busy came over its connection, once.
  assert.deepEqual(await roomDeliveries(a), { [busy]: busySeq });
  assert.deepEqual(await roomDeliveries(b), { [quiet]: quietSeq }, 'B received quiet only, none of busy');
  assert.deepEqual(await roomDeliveries(c), {}, 'C received no room traffic at all');

  // Two subscribers in busy on B: B subscribes its channel and gets its traffic.
  const [x, y] = (await openAll(['bx', 'by'], (m) => b.connect('busy', m))) as [RoomClient, RoomClient];
  rig.track([x, y]);
  assert.equal(await numsub(rig.redis.cli, busy), 2);
  await a.ask('publish', { room: 'busy', n: 20 });
  const seq1 = await seqOf(a, 'busy');
  await until(() => x.messages.at(-1)?.seq === seq1 && y.messages.at(-1)?.seq === seq1, 5000, 'B\'s subscribers to get busy');
  const onB1 = (await roomDeliveries(b))[busy] ?? 0;
  assert.ok(onB1 >= 21, `B received busy's traffic while subscribed (${onB1})`);

  // One leaves: B keeps the channel for the other.
  await x.close();
  await waitFor('B to have one subscriber in busy', async () => (await b.stats()).rooms.find((r) => r.name === 'busy')?.subscribers === 1, 5000);
  assert.equal(await numsub(rig.redis.cli, busy), 2, 'B still subscribed for its remaining subscriber');
  await a.ask('publish', { room: 'busy', n: 10 });
  const seq2 = await seqOf(a, 'busy');
  await until(() => y.messages.at(-1)?.seq === seq2, 5000, 'the remaining subscriber to get busy');
  const onB2 = (await roomDeliveries(b))[busy] ?? 0;
  assert.equal(onB2, onB1 + (seq2 - seq1), 'B received every later message of busy');

  // The last one leaves: B unsubscribes, and busy's traffic no longer reaches it.
  await y.close();
  await waitFor('NUMSUB of busy to drop to 1', async () => (await numsub(rig.redis.cli, busy)) === 1, 5000);
  assert.equal((await b.stats()).rooms.find((r) => r.name === 'busy')?.subscribers, 0);
  const onB3 = (await roomDeliveries(b))[busy] ?? 0;
  await a.ask('publish', { room: 'busy', n: 100 });
  const seq3 = await seqOf(a, 'busy');
  await until(() => onA.every((m) => m.messages.at(-1)?.seq === seq3), 5000, 'A\'s members to get busy');
  await new Promise((r) => setTimeout(r, 200));
  assert.equal((await roomDeliveries(b))[busy] ?? 0, onB3, 'nothing of busy arrives on B after its last subscriber left');
  assert.equal((await roomDeliveries(a))[busy], seq3, 'A still gets all of it');
  assert.deepEqual(await roomDeliveries(c), {}, 'C never received room traffic');
  // quiet was not touched by any of it.
  assert.equal((await roomDeliveries(b))[quiet], quietSeq);
});
