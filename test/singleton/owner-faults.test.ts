import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startRedisServer, randomPrefix, type RedisServer } from '../helpers/redis.js';
import { acksOf, ownerOf, startInstance, stopAll, type Instance } from './instances.js';

let redis: RedisServer;
const started: Instance[] = [];
before(async () => {
  redis = await startRedisServer();
});
after(async () => {
  await stopAll(started);
  await redis.stop();
});

async function three(prefix: string, options: { leaseMs?: number; ignoreLocalLease?: boolean } = {}): Promise<{ owner: Instance; others: Instance[] }> {
  const first = await startInstance(redis.url, prefix, options);
  const rest = await Promise.all([0, 1].map(() => startInstance(redis.url, prefix, options)));
  started.push(first, ...rest);
  assert.equal(ownerOf([first, ...rest]), first, 'the first instance owns the singleton');
  return { owner: first, others: rest };
}

async function finishLoad(instances: Instance[]): Promise<{ acks: number; nacks: number }> {
  for (const i of instances) i.send({ cmd: 'stop-load' });
  const done = await Promise.all(instances.map((i) => i.next((e) => e.ev === 'load-done', 30_000)));
  return { acks: done.reduce((s, e) => s + Number(e.acks), 0), nacks: done.reduce((s, e) => s + Number(e.nacks), 0) };
}

test('kill -9 the owner while calls flow at ~200/s: a survivor serves within 1 s; count = acknowledged calls', { timeout: 60_000 }, async () => {
  const { owner, others } = await three(randomPrefix('kill'));
  for (const i of others) i.send({ cmd: 'load', ratePerSec: 100, concurrency: 64, deadlineMs: 10_000, keyed: true });
  await new Promise((r) => setTimeout(r, 1000));
  const oldToken = Number(owner.events.find((e) => e.ev === 'acquired')!.token);
  const killedAt = Date.now();
  await owner.kill('SIGKILL');
  // The first call answered under a newer token: a survivor claimed, loaded the snapshot and served.
  const first = await Promise.race(others.map((i) => i.next((e) => e.ev === 'ack' && Number(e.token) > oldToken, 5000)));
  const failoverMs = Number(first.at) - killedAt;
  assert.ok(failoverMs <= 1000, `a survivor served ${failoverMs} ms after the kill`);
  await new Promise((r) => setTimeout(r, 1000));
  const { acks, nacks } = await finishLoad(others);
  assert.equal(nacks, 0, 'no call failed');
  const count = await others[0]!.ask('call', { action: 'read' });
  assert.equal(count.value, acks, 'none lost, none applied twice');
  const results = acksOf(others).map((e) => Number(e.result));
  assert.equal(new Set(results).size, results.length);
  console.log(`# failover after kill -9: ${failoverMs} ms; ${acks} calls acknowledged`);
});

test('SIGSTOP the owner for twice the lease, then SIGCONT: another took over; the resumed one reports lost before running a queued action', { timeout: 60_000 }, async () => {
  const { owner, others } = await three(randomPrefix('stop'), { leaseMs: 1000 });
  for (const i of others) i.send({ cmd: 'load', ratePerSec: 50, concurrency: 64, deadlineMs: 10_000, keyed: true });
  await new Promise((r) => setTimeout(r, 500));
  const oldToken = Number(owner.events.find((e) => e.ev === 'acquired')!.token);
  owner.child.kill('SIGSTOP');
  const from = owner.events.length;
  await new Promise((r) => setTimeout(r, 2000));
  const successor = ownerOf(others);
  assert.ok(successor, 'another instance took over during the pause');
  owner.child.kill('SIGCONT');
  const lost = await owner.next((e) => e.ev === 'lost', 5000, from);
  assert.ok(lost.reason === 'lease-expired' || lost.reason === 'superseded', String(lost.reason));
  await new Promise((r) => setTimeout(r, 500));
  const after = owner.events.slice(from);
  const lostAt = after.indexOf(lost);
  assert.ok(!after.slice(0, lostAt).some((e) => e.ev === 'ran'), 'no queued action ran before lost');
  assert.ok(!after.some((e) => e.ev === 'ran' && Number(e.token) === oldToken), 'nothing ran under the old token after the pause');
  const { acks, nacks } = await finishLoad(others);
  assert.equal(nacks, 0);
  const count = await others[0]!.ask('call', { action: 'read' });
  assert.equal(count.value, acks);
});

test('a paused owner that ignores its own lease clock: its late commit is refused and it demotes (fenced)', { timeout: 60_000 }, async () => {
  const { owner, others } = await three(randomPrefix('fence'), { leaseMs: 1000, ignoreLocalLease: true });
  for (const i of others) i.send({ cmd: 'load', ratePerSec: 50, concurrency: 64, deadlineMs: 10_000, keyed: true });
  await new Promise((r) => setTimeout(r, 500));
  const oldToken = Number(owner.events.find((e) => e.ev === 'acquired')!.token);
  owner.child.kill('SIGSTOP');
  const from = owner.events.length;
  await new Promise((r) => setTimeout(r, 2500));
  assert.ok(ownerOf(others), 'another instance took over during the pause');
  owner.child.kill('SIGCONT');
  const lost = await owner.next((e) => e.ev === 'lost', 5000, from);
  const stats = await owner.ask('stats');
  const ranLate = owner.events.slice(from).some((e) => e.ev === 'ran' && Number(e.token) === oldToken);
  // It ran queued actions under the old token (nothing stopped it locally); the commit script refused each one.
  assert.ok(ranLate, 'the resumed owner ran a queued action');
  assert.ok((stats.stats as { fenced: number }).fenced >= 1, 'its commit was refused');
  assert.ok(lost.reason === 'fenced' || lost.reason === 'superseded', String(lost.reason));
  const { acks, nacks } = await finishLoad(others);
  assert.equal(nacks, 0);
  const count = await others[0]!.ask('call', { action: 'read' });
  assert.equal(count.value, acks, 'the late action is not applied');
});
