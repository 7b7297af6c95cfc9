/**
 * Rooms against a real redis-server: order and once across groups, presence, the shared state (JSON text per
 * field: arrays, nested objects and BigInts as written), history with `fromSeq` and `resync` past it.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { RoomError } from '../../src/errors.js';
import { randomPrefix, startRedisServer, type RedisServer } from '../helpers/redis.js';
import { Recorder, roomGroup } from './helpers.js';
import type { RoomGroup } from '../../src/rooms/index.js';

let redis: RedisServer;
const groups: RoomGroup[] = [];
const open = (prefix: string, extra = {}): RoomGroup => {
  const g = roomGroup(redis.url, prefix, extra);
  groups.push(g);
  return g;
};

before(async () => {
  redis = await startRedisServer();
});
after(async () => {
  await Promise.all(groups.map((g) => g.close()));
  await redis?.stop();
});

test('an event reaches every subscriber on every group, this one too, numbered in order', { timeout: 10_000 }, async () => {
  const prefix = randomPrefix('rm');
  const [a, b] = [open(prefix), open(prefix)];
  const ra = new Recorder();
  const rb = new Recorder();
  await a.room('lobby').subscribe(ra.handler);
  await b.room('lobby').subscribe(rb.handler);
  const seqs: number[] = [];
  for (let i = 0; i < 20; i++) seqs.push(await (i % 2 ? a : b).room('lobby').publish('msg', { i }));
  assert.deepEqual(seqs, Array.from({ length: 20 }, (_, i) => i + 1));
  await ra.waitFor(20);
  await rb.waitFor(20);
  for (const r of [ra, rb]) {
    assert.deepEqual(r.seqs(), seqs);
    assert.deepEqual(r.messages.map((m) => (m.type === 'event' ? (m.data as { i: number }).i : -1)), Array.from({ length: 20 }, (_, i) => i));
  }
});

test('fromSeq replays the history; past it a resync comes first', { timeout: 10_000 }, async () => {
  const prefix = randomPrefix('rm');
  const g = open(prefix, { historyLength: 5 });
  const room = g.room('r');
  for (let i = 0; i < 4; i++) await room.publish('e', i);
  const r = new Recorder();
  await room.subscribe(r.handler, { fromSeq: 2 });
  await room.publish('e', 4);
  await r.waitFor(4);
  assert.deepEqual(r.seqs(), [2, 3, 4, 5]);
  for (let i = 5; i < 40; i++) await room.publish('e', i);
  const late = new Recorder();
  await room.subscribe(late.handler, { fromSeq: 3 });
  const first = late.messages[0];
  assert.equal(first?.type, 'resync');
  assert.equal(first.type === 'resync' && first.missedFrom, 3);
  assert.ok(first.seq > 3 && first.seq <= 40, `resumes at ${first.seq}`);
  assert.deepEqual(late.seqs().slice(1), Array.from({ length: 41 - first.seq }, (_, i) => first.seq + i));
});

test('presence: join, members() in one call, leave only from the instance that holds the member', { timeout: 10_000 }, async () => {
  const prefix = randomPrefix('rm');
  const [a, b] = [open(prefix), open(prefix)];
  const r = new Recorder();
  await b.room('p').subscribe(r.handler);
  await a.room('p').join('alice', { name: 'Alice' });
  await b.room('p').join('bob');
  const members = await a.room('p').members();
  assert.deepEqual(members.map((m) => [m.id, m.instanceId, m.meta]).sort(), [
    ['alice', a.instanceId, { name: 'Alice' }],
    ['bob', b.instanceId, null],
  ]);
  assert.equal(await b.room('p').leave('alice'), null, 'b does not hold alice');
  assert.ok((await a.room('p').leave('alice')) !== null);
  await r.waitFor(3);
  assert.deepEqual(r.messages.map((m) => `${m.type}:${m.type === 'join' || m.type === 'leave' ? m.member : ''}`), ['join:alice', 'join:bob', 'leave:alice']);
  assert.deepEqual((await a.room('p').members()).map((m) => m.id), ['bob']);
});

test('shared state: merge, delete with null, and values read back as written (arrays, nesting, 2^53 + 1)', { timeout: 10_000 }, async () => {
  const prefix = randomPrefix('rm');
  const [a, b] = [open(prefix), open(prefix)];
  const r = new Recorder();
  await b.room('s').subscribe(r.handler);
  const big = 2n ** 53n + 1n;
  const first = await a.room('s').mergeState({ list: [], nested: { x: [1, { y: [] }] }, big, gone: 1 });
  assert.equal(first.version, 1);
  const second = await a.room('s').mergeState({ gone: null, more: 'yes' });
  assert.equal(second.version, 2);
  const read = await b.room('s').getState();
  assert.deepEqual(read.state, { list: [], nested: { x: [1, { y: [] }] }, big, more: 'yes' });
  assert.equal(read.version, 2);
  assert.equal((await redis.cli('HGET', `${prefix}:rm:{s}:state`, 'big')).trim(), '9007199254740993');
  assert.equal((await redis.cli('HGET', `${prefix}:rm:{s}:state`, 'list')).trim(), '[]');
  await r.waitFor(2);
  const change = r.messages[1];
  assert.ok(change?.type === 'state');
  assert.deepEqual(change.patch, { more: 'yes', gone: null });
  assert.equal(change.version, 2);
});

test('updateState retries on a newer version; ROOM_CONFLICT after maxAttempts', { timeout: 10_000 }, async () => {
  const prefix = randomPrefix('rm');
  const [a, b] = [open(prefix), open(prefix)];
  await a.room('u').mergeState({ n: 0 });
  await Promise.all(
    Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).room('u').updateState<{ n: number }>((s) => ({ ...s, n: s.n + 1 }), { maxAttempts: 100 })),
  );
  const { state, version } = await a.room('u').getState<{ n: number }>();
  assert.equal(state.n, 20);
  assert.equal(version, 21);
  await assert.rejects(
    a.room('u').updateState<{ n: number }>(async (s) => {
      await b.room('u').mergeState({ n: -1 });
      return { n: s.n + 100 };
    }, { maxAttempts: 1 }),
    (err: unknown) => err instanceof RoomError && err.code === 'KW_ERR_ROOM_CONFLICT',
  );
});

test('a closed room refuses, and the group bounds open rooms', { timeout: 10_000 }, async () => {
  const g = open(randomPrefix('rm'), { maxRooms: 2 });
  const r = g.room('x');
  g.room('y');
  assert.throws(() => g.room('z'), (err: unknown) => err instanceof RoomError && err.code === 'KW_ERR_ROOM_LIMIT');
  await r.close();
  await assert.rejects(r.publish('e'), (err: unknown) => err instanceof RoomError && err.code === 'KW_ERR_ROOM_CLOSED');
  assert.notEqual(g.room('x'), r, 'a closed room is forgotten; the name opens a new one');
  assert.throws(() => g.room('bad name'), /room name/);
  assert.throws(() => open('p', { historyLength: -1 }), /historyLength must be a whole number >= 0/);
});

test('with a secret: a raw PUBLISH and a group with another secret are dropped and counted; signed ones arrive', { timeout: 10_000 }, async () => {
  const prefix = randomPrefix('rm');
  const secret = 'rooms-secret-0123456789';
  const [a, b, other] = [open(prefix, { secret }), open(prefix, { secret }), open(prefix, { secret: 'another-secret-987654321' })];
  const r = new Recorder();
  await b.room('sec').subscribe(r.handler);
  await other.room('sec').publish('e', 'forged');
  await redis.cli('PUBLISH', `${prefix}:rm:{sec}:ch`, 'E|99|e||xxxxxxxxxxxxxxxxxxxxxx|{"o":"z","e":"e","d":"raw"}');
  await redis.cli('PUBLISH', `${prefix}:rm:{sec}:ch`, 'not an envelope');
  await a.room('sec').publish('e', 'signed');
  await r.waitFor(2);
  const events = r.messages.filter((m) => m.type === 'event').map((m) => (m.type === 'event' ? m.data : null));
  assert.deepEqual(events, ['signed']);
  assert.equal(r.messages[0]?.type, 'resync', 'the forged message took number 1: it shows as a gap, never as content');
  assert.equal(b.stats.forged, 3, 'the other group\'s event in the channel and in the history, and the raw PUBLISH');
  assert.equal(b.stats.malformed, 1);
});

test('a client ahead of this instance\'s feed by a moment (same epoch) gets no resync and nothing below fromSeq', { timeout: 20_000 }, async () => {
  const prefix = randomPrefix('rm');
  const [a, b] = [open(prefix), open(prefix)];
  await a.room('lag').subscribe(() => undefined);
  await b.room('lag').subscribe(() => undefined);
  await a.room('lag').publish('chat', 'first');
  const { epoch } = await a.room('lag').getState();
  for (let i = 0; i < 50; i++) {
    const seq = await a.room('lag').publish('chat', { i });
    const got = new Recorder();
    const unsubscribe = await b.room('lag').subscribe(got.handler, { fromSeq: seq + 1, epoch });
    const next = await a.room('lag').publish('chat', { after: i });
    await got.waitFor(1);
    assert.deepEqual(got.messages.map((m) => `${m.type}:${m.seq}`), [`event:${next}`]);
    await unsubscribe();
  }
});

test('the history is trimmed by age: past historyMaxAgeMs a subscriber from an old number gets a resync', { timeout: 10_000 }, async () => {
  const prefix = randomPrefix('rm');
  const g = open(prefix, { historyMaxAgeMs: 300 });
  const room = g.room('aged');
  for (let i = 0; i < 5; i++) await room.publish('e', i);
  await new Promise((r) => setTimeout(r, 400));
  await room.publish('e', 5);
  assert.equal((await redis.cli('XLEN', `${prefix}:rm:{aged}:hist`)).trim(), '1');
  const r = new Recorder();
  await room.subscribe(r.handler, { fromSeq: 1 });
  assert.deepEqual(r.messages.map((m) => `${m.type}:${m.seq}`), ['resync:6', 'event:6']);
  for (let i = 0; i < 3; i++) await room.publish('e', 10 + i);
  assert.equal((await redis.cli('XLEN', `${prefix}:rm:{aged}:hist`)).trim(), '4', 'young entries stay');
});
