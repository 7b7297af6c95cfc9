/**
 * Fan-out across instances: 4 instances (child processes) with 250 WebSocket clients each, 1,000 members in 10
 * rooms, every room's members spread over all 4 instances. Publishers on every instance publish into every room
 * at once (through their sockets and through the instance itself): every member gets every message of its room
 * exactly once, in the room's order (consecutive sequence numbers up to the last one, none twice, none missing),
 * and nothing of any other room.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomPrefix } from '../helpers/redis.js';
import { until } from '../helpers/wait.js';
import type { RoomMember } from '../../src/rooms/index.js';
import { assertConsecutive, instanceRig, openAll, type RoomClient, type RoomInstance } from './instances.js';

const INSTANCES = 4;
const PER_INSTANCE = 250;
const ROOMS = 10;
/** Publishes per room by each instance's first client in it, and by each instance itself. */
const BY_CLIENT = 10;
const BY_INSTANCE = 10;

const rig = instanceRig();

test('1,000 WebSocket members on 4 instances in 10 rooms: each gets every message of its room once, in order, and none of another room', { timeout: 60_000 }, async () => {
  const prefix = randomPrefix('rm-fanout');
  const instances = await rig.start(prefix, INSTANCES);
  // Client k: on instance k % 4, in room (k / 4) % 10: 100 members per room, 25 of them on each instance.
  const specs = Array.from({ length: INSTANCES * PER_INSTANCE }, (_, k) => ({ k, inst: k % INSTANCES, room: `room-${Math.floor(k / INSTANCES) % ROOMS}` }));
  const clients = rig.track(await openAll(specs, (s) => (instances[s.inst] as RoomInstance).connect(s.room, `m${s.k}`), 100));
  assert.equal(clients.length, 1000);

  for (let r = 0; r < ROOMS; r++) {
    const members = await (instances[r % INSTANCES] as RoomInstance).ask<RoomMember[]>('members', { room: `room-${r}` });
    assert.equal(members.length, 100, `room-${r} has 100 members`);
    const byInstance = new Map<string, number>();
    for (const m of members) byInstance.set(m.instanceId, (byInstance.get(m.instanceId) ?? 0) + 1);
    assert.deepEqual([...byInstance.values()], [25, 25, 25, 25], `room-${r}: 25 members on each instance`);
  }

  // Every room at once: one client per instance per room publishes BY_CLIENT, every instance BY_INSTANCE more.
  const publishers = specs.filter((s) => s.k < INSTANCES * ROOMS).map((s) => clients[s.k] as RoomClient);
  const t0 = Date.now();
  for (const p of publishers) for (let i = 0; i < BY_CLIENT; i++) p.publish('msg', { room: p.room, by: p.member, i }, `${p.member}:${i}`);
  const direct = await Promise.all(
    instances.flatMap((inst) => Array.from({ length: ROOMS }, (_, r) => inst.ask<number[]>('publish', { room: `room-${r}`, n: BY_INSTANCE }).then((seqs) => ({ room: `room-${r}`, seqs })))),
  );
  await until(() => publishers.every((p) => p.published.size === BY_CLIENT), 20_000, 'every client publish acknowledged');

  // The room's numbers of what was published into it.
  const publishedSeqs = new Map<string, number[]>();
  for (let r = 0; r < ROOMS; r++) publishedSeqs.set(`room-${r}`, []);
  for (const p of publishers) publishedSeqs.get(p.room)!.push(...p.published.values());
  for (const d of direct) publishedSeqs.get(d.room)!.push(...d.seqs);
  const last = new Map<string, number>();
  for (const [room, seqs] of publishedSeqs) {
    assert.equal(new Set(seqs).size, INSTANCES * (BY_CLIENT + BY_INSTANCE), `${room}: every publish got its own number`);
    last.set(room, Math.max(...seqs));
  }

  const lastSeq = (c: RoomClient): number => c.messages.at(-1)?.seq ?? 0;
  await until(() => clients.every((c) => lastSeq(c) >= (last.get(c.room) as number)), 30_000, () => {
    const behind = clients.filter((c) => lastSeq(c) < (last.get(c.room) as number));
    return `every member to get its room's last message (${behind.length} behind, e.g. ${behind[0]?.member} at ${behind[0] ? lastSeq(behind[0]) : '-'})`;
  });
  const deliveredMs = Date.now() - t0;
  await new Promise((r) => setTimeout(r, 300)); // anything extra (a duplicate, another room's message) would show by now

  let deliveries = 0;
  // One order per room: at each number, every member of the room got the same message.
  const bySeq = new Map<string, string>();
  for (const c of clients) {
    for (const m of c.of('event')) {
      const key = `${c.room}#${m.seq}`;
      const text = JSON.stringify(m.data);
      const seen = bySeq.get(key);
      if (seen === undefined) bySeq.set(key, text);
      else assert.equal(text, seen, `${c.member}: ${key} is the same message for every member`);
    }
  }
  for (const c of clients) {
    const what = `${c.member} in ${c.room}`;
    assert.ok(c.messages.every((m) => m.room === c.room), `${what}: only its room's messages`);
    const events = c.of('event');
    assert.ok(events.every((m) => (m.data as { room: string }).room === c.room), `${what}: no event published into another room`);
    assertConsecutive(c.seqs(), what);
    assert.equal(lastSeq(c), last.get(c.room), `${what}: nothing after the last publish`);
    assert.deepEqual(events.map((m) => m.seq).sort((a, b) => a - b), [...publishedSeqs.get(c.room)!].sort((a, b) => a - b), `${what}: every event of its room, once`);
    assert.equal(c.of('resync').length, 0, `${what}: no resync`);
    deliveries += events.length;
  }
  assert.equal(deliveries, 1000 * INSTANCES * (BY_CLIENT + BY_INSTANCE));
  for (const inst of instances) {
    const s = await inst.stats();
    assert.equal(s.stats.resyncs, 0);
    assert.equal(s.stats.forged + s.stats.malformed + s.stats.handlerErrors, 0);
  }
  console.log(`# ${deliveries} event deliveries to 1,000 sockets in ${deliveredMs} ms`);
});
