/**
 * Presence dies with its instance, and only then. Instances are child processes with presenceTtlMs 2000, their
 * members real WebSocket clients. `kill -9` of an instance holding 100 members: exactly those 100 are announced as
 * `leave` (reason `expired`) to every member on the surviving instances within TTL + 1 s of the kill, each once
 * (one announcement in the room's order, whichever survivor made it), none of the other members; `members()` no
 * longer lists them. An instance paused (SIGSTOP) for half the TTL at the worst moment its documented renewal
 * schedule allows (just before a renewal is due), then resumed (SIGCONT): nothing expires. And the schedule itself:
 * presence is renewed every third of the TTL, so a pause shorter than two thirds of it never costs a member.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomPrefix, waitFor } from '../helpers/redis.js';
import { until } from '../helpers/wait.js';
import type { RoomMember } from '../../src/rooms/index.js';
import { instanceRig, openAll, type RoomClient, type RoomInstance } from './instances.js';

const TTL = 2000;

const rig = instanceRig();
const start = (prefix: string, n: number): Promise<RoomInstance[]> => rig.start(prefix, n, { presenceTtlMs: TTL });

async function members(inst: RoomInstance, count: number, room: string, name: string): Promise<RoomClient[]> {
  return rig.track(await openAll(Array.from({ length: count }, (_, i) => `${name}${i}`), (m) => inst.connect(room, m)));
}

/** Server ms until which `instanceId` is alive in `room`, as Redis holds it (null when absent). */
async function aliveUntil(prefix: string, room: string, instanceId: string): Promise<number | null> {
  const v = (await rig.redis.cli('HGET', `${prefix}:rm:{${room}}:instances`, instanceId)).trim();
  return v === '' ? null : Number(v);
}

/** Resolves just after `instanceId` renews its presence in `room` (its liveness in Redis moves on). */
async function nextRenewal(prefix: string, room: string, instanceId: string, ms: number): Promise<void> {
  const from = await aliveUntil(prefix, room, instanceId);
  await waitFor(`a renewal by ${instanceId}`, async () => (await aliveUntil(prefix, room, instanceId)) !== from, ms);
}

test('kill -9 of an instance with 100 members: exactly those 100 leave as expired, once, within TTL + 1 s', { timeout: 40_000 }, async () => {
  const prefix = randomPrefix('rm-expiry');
  const [victim, s1, s2] = (await start(prefix, 3)) as [RoomInstance, RoomInstance, RoomInstance];
  const survivors = [...(await members(s1, 20, 'x', 's1-')), ...(await members(s2, 20, 'x', 's2-'))];
  const doomed = await members(victim, 100, 'x', 'v-');
  await until(() => survivors.every((c) => c.of('join').some((m) => m.member === 'v-99')), 10_000, 'every join seen');
  assert.equal((await s1.ask<RoomMember[]>('members', { room: 'x' })).length, 140);

  const killedAt = Date.now();
  await victim.kill('SIGKILL');
  const expiredOf = (c: RoomClient) => c.of('leave').filter((m) => m.reason === 'expired');
  await until(() => survivors.every((c) => expiredOf(c).length >= 100), TTL + 5000, () => `100 expired leaves on every survivor's member (least: ${Math.min(...survivors.map((c) => expiredOf(c).length))})`);
  const lastAt = Math.max(...survivors.flatMap((c) => expiredOf(c).map((m) => m.at)));
  assert.ok(lastAt - killedAt <= TTL + 1000, `the last expired leave came ${lastAt - killedAt} ms after the kill (TTL ${TTL})`);
  await new Promise((r) => setTimeout(r, 1500)); // a second announcement by the other survivor would show by now

  const doomedIds = doomed.map((c) => c.member).sort();
  const seqsOf = new Map<string, Set<number>>();
  for (const c of survivors) {
    const leaves = c.of('leave');
    assert.deepEqual(leaves.map((m) => m.member).sort(), doomedIds, `${c.member}: a leave for each of the killed instance's members, once, and no other`);
    assert.ok(leaves.every((m) => m.reason === 'expired'), `${c.member}: every leave says expired`);
    for (const m of leaves) {
      const set = seqsOf.get(m.member) ?? new Set<number>();
      seqsOf.set(m.member, set.add(m.seq));
    }
  }
  for (const [member, seqs] of seqsOf) assert.equal(seqs.size, 1, `${member} announced once in the room's order`);
  const expiredBy = await Promise.all([s1, s2].map(async (s) => (await s.stats()).stats.expired));
  assert.equal(expiredBy[0]! + expiredBy[1]!, 100, `the survivors expired 100 members between them (${expiredBy.join(' + ')})`);

  const left = await s2.ask<RoomMember[]>('members', { room: 'x' });
  assert.equal(left.length, 40);
  assert.ok(left.every((m) => m.instanceId === s1.instanceId || m.instanceId === s2.instanceId), 'only the survivors\' members are listed');
  assert.equal((await rig.redis.cli('HLEN', `${prefix}:rm:{x}:members`)).trim(), '40', 'the presence hash holds only the 40');
});

test('SIGSTOP of an instance for half the TTL, at the latest point its renewal schedule allows, then SIGCONT: nothing expires', { timeout: 30_000 }, async () => {
  const prefix = randomPrefix('rm-pause');
  const [paused, s1, s2] = (await start(prefix, 3)) as [RoomInstance, RoomInstance, RoomInstance];
  const watchers = [...(await members(s1, 5, 'x', 's1-')), ...(await members(s2, 5, 'x', 's2-'))];
  const own = await members(paused, 30, 'x', 'p-');
  await until(() => watchers.every((c) => c.of('join').some((m) => m.member === 'p-29')), 10_000, 'every join seen');

  // Renewed every third of the TTL: stopped just before the next renewal is due, it is alive for 2/3 TTL more.
  await nextRenewal(prefix, 'x', paused.instanceId, TTL);
  await new Promise((r) => setTimeout(r, TTL / 3 - 80));
  const before = [...watchers, ...own].map((c) => c.messages.length);
  paused.pause();
  await new Promise((r) => setTimeout(r, TTL / 2));
  paused.resume();
  await new Promise((r) => setTimeout(r, 2 * TTL)); // an expiry, and a rejoin after it, would show by now

  for (const c of [...watchers, ...own]) assert.deepEqual(c.of('leave'), [], `${c.member}: no leave`);
  [...watchers, ...own].forEach((c, i) => assert.equal(c.messages.length, before[i], `${c.member}: nothing happened in the room (no leave, no join again)`));
  for (const s of [s1, s2, paused]) assert.equal((await s.stats()).stats.expired, 0);
  const listed = await s1.ask<RoomMember[]>('members', { room: 'x' });
  assert.equal(listed.filter((m) => m.instanceId === paused.instanceId).length, 30, 'the paused instance\'s members are still listed');
  assert.equal(listed.length, 40);
});

test('presence is renewed at least every third of presenceTtlMs (what makes a pause under 2/3 TTL safe)', { timeout: 20_000 }, async () => {
  const prefix = randomPrefix('rm-renew');
  const [inst] = (await start(prefix, 1)) as [RoomInstance];
  await members(inst, 1, 'x', 'm');
  await nextRenewal(prefix, 'x', inst.instanceId, TTL);
  const gaps: number[] = [];
  let value = await aliveUntil(prefix, 'x', inst.instanceId);
  let at = Date.now();
  const end = at + 3 * TTL;
  while (Date.now() < end) {
    const v = await aliveUntil(prefix, 'x', inst.instanceId);
    if (v !== value) {
      gaps.push(Date.now() - at);
      value = v;
      at = Date.now();
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.ok(gaps.length >= 3, `renewals seen: ${gaps.length}`);
  // 250 ms for the timer, the round trip and this loop's polling (a redis-cli each) on a loaded machine.
  assert.ok(Math.max(...gaps) <= TTL / 3 + 250, `renewed every ${gaps.join(', ')} ms; presenceTtlMs ${TTL} says at most ${Math.round(TTL / 3)}`);
});
