/**
 * The room feed's order logic over a scripted history (no Redis): in order and once whatever the channel does,
 * gaps read from the history, a `resync` past it or on a new epoch.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RoomFeed, type FeedIo, type HistoryPage } from '../../src/rooms/room-feed.js';
import type { Envelope } from '../../src/rooms/room-messages.js';

const env = (seq: number, epoch = 'E'): Envelope => ({ epoch, seq, kind: 'e', ver: '', mac: '', json: '{}' });

function rig(history: { seq: number; epoch: string; kept: number[] }) {
  const out: string[] = [];
  const io: FeedIo = {
    read: async (from, count): Promise<HistoryPage> => ({
      seq: history.seq,
      epoch: history.epoch,
      messages: count === 0 ? [] : history.kept.filter((s) => s >= from).slice(0, count).map((s) => env(s, history.epoch)),
    }),
    deliver: (e) => out.push(`${e.epoch}:${e.seq}`),
    resync: (epoch, missedFrom, resume) => out.push(`resync ${epoch} ${missedFrom}->${resume}`),
    failed: (err) => out.push(`failed ${String(err)}`),
  };
  return { feed: new RoomFeed(io, { maxPending: 100, pageSize: 2 }), out };
}

test('starts after the position it read; duplicates are dropped; messages that came while starting are kept', async () => {
  const { feed, out } = rig({ seq: 3, epoch: 'E', kept: [1, 2, 3] });
  const started = feed.start();
  feed.onLive(env(4));
  await started;
  feed.onLive(env(4));
  feed.onLive(env(3));
  feed.onLive(env(5));
  assert.deepEqual(out, ['E:4', 'E:5']);
  assert.equal(feed.duplicates, 2);
});

test('a gap is read from the history in pages, then the held messages follow', async () => {
  const h = { seq: 3, epoch: 'E', kept: [1, 2, 3] };
  const { feed, out } = rig(h);
  await feed.start();
  h.seq = 9;
  h.kept = [1, 2, 3, 4, 5, 6, 7, 8, 9];
  feed.onLive(env(9));
  await feed.settled();
  assert.deepEqual(out, ['E:4', 'E:5', 'E:6', 'E:7', 'E:8', 'E:9']);
});

test('past the history: one resync, then on from the first kept message', async () => {
  const h = { seq: 2, epoch: 'E', kept: [1, 2] };
  const { feed, out } = rig(h);
  await feed.start();
  h.seq = 10;
  h.kept = [8, 9, 10];
  feed.onLive(env(10));
  await feed.settled();
  assert.deepEqual(out, ['resync E 3->8', 'E:8', 'E:9', 'E:10']);
});

test('catchUp after a reconnect delivers what was published meanwhile; nothing kept is a resync to the head', async () => {
  const h = { seq: 2, epoch: 'E', kept: [1, 2] };
  const { feed, out } = rig(h);
  await feed.start();
  h.seq = 4;
  h.kept = [3, 4];
  feed.catchUp();
  await feed.settled();
  h.seq = 7;
  h.kept = [];
  feed.catchUp();
  await feed.settled();
  assert.deepEqual(out, ['E:3', 'E:4', 'resync E 5->8']);
});

test('a new epoch (Redis lost the room) is a resync, then the new numbering from 1', async () => {
  const h = { seq: 5, epoch: 'E', kept: [5] };
  const { feed, out } = rig(h);
  await feed.start();
  h.seq = 2;
  h.epoch = 'F';
  h.kept = [1, 2];
  feed.onLive(env(2, 'F'));
  await feed.settled();
  assert.deepEqual(out, ['resync F 6->1', 'F:1', 'F:2']);
  assert.equal(feed.epoch, 'F');
});

test('a failed read is reported and tried again on the next message', async () => {
  let fail = true;
  const events: string[] = [];
  const feed = new RoomFeed(
    {
      read: async (from, count) => {
        if (count > 0 && fail) {
          fail = false;
          throw new Error('down');
        }
        const seq = count === 0 ? 3 : 7;
        return { seq, epoch: 'E', messages: count === 0 ? [] : [4, 5, 6, 7].filter((s) => s >= from).map((s) => env(s)) };
      },
      deliver: (e) => events.push(String(e.seq)),
      resync: () => events.push('resync'),
      failed: (err) => events.push(`failed ${(err as Error).message}`),
    },
    { maxPending: 10, pageSize: 10 },
  );
  await feed.start();
  feed.onLive(env(6));
  await feed.settled();
  assert.deepEqual(events, ['failed down']);
  feed.onLive(env(7));
  await feed.settled();
  assert.deepEqual(events, ['failed down', '4', '5', '6', '7']);
});

test('a number delivered before that comes again with other content (a failover lost writes) is a resync, then followed', async () => {
  const h = { seq: 0, epoch: '', kept: [] as number[] };
  const { feed, out } = rig(h);
  await feed.start();
  feed.onLive(env(1));
  feed.onLive(env(2));
  feed.onLive(env(2));
  feed.onLive({ ...env(2), json: '{"other":1}' });
  feed.onLive(env(3));
  assert.deepEqual(out, ['E:1', 'E:2', 'resync E 2->2', 'E:2', 'E:3']);
  assert.equal(feed.duplicates, 1);
});

test('catchUp finding the head behind what was delivered follows the new master from its head', async () => {
  const h = { seq: 5, epoch: 'E', kept: [5] };
  const { feed, out } = rig(h);
  await feed.start();
  feed.onLive(env(6));
  feed.onLive(env(7));
  h.seq = 6;
  h.kept = [6];
  feed.catchUp();
  await feed.settled();
  feed.onLive({ ...env(7), json: '{"new":1}' });
  assert.deepEqual(out, ['E:6', 'E:7', 'resync E 7->7', 'E:7']);
});

test('two or more messages held across start() are all delivered, in order', async () => {
  let release: () => void = () => undefined;
  const delivered: number[] = [];
  const feed = new RoomFeed(
    {
      read: () => new Promise((r) => (release = () => r({ seq: 0, epoch: 'E', messages: [] }))),
      deliver: (e) => delivered.push(e.seq),
      resync: () => undefined,
      failed: () => undefined,
    },
    { maxPending: 100, pageSize: 10 },
  );
  const started = feed.start();
  feed.onLive(env(2));
  feed.onLive(env(1));
  feed.onLive(env(3));
  release();
  await started;
  assert.deepEqual(delivered, [1, 2, 3]);
});
