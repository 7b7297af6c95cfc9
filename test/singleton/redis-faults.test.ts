/**
 * Singletons through Redis faults: `kill -9` of redis-server under load and a restart with nothing in it; a Sentinel
 * failover with the master paused (`SIGSTOP`) past it, then resumed. Each time: one owner again, tokens only go up,
 * and no acknowledged action is lost.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { startRedisServer, randomPrefix } from '../helpers/redis.js';
import { startRedisSentinel } from '../helpers/redis-sentinel.js';
import { masterPort, newMasterElected } from '../failover/helpers.js';
import { ownerOf, startInstance, stopAll, type Instance } from './instances.js';

const started: Instance[] = [];
after(() => stopAll(started));

async function three(redis: string | object, prefix: string): Promise<{ owner: Instance; others: Instance[] }> {
  const first = await startInstance(redis, prefix);
  const rest = await Promise.all([0, 1].map(() => startInstance(redis, prefix)));
  started.push(first, ...rest);
  return { owner: first, others: rest };
}

async function finish(instances: Instance[]): Promise<{ acks: number; nacks: number }> {
  for (const i of instances) i.send({ cmd: 'stop-load' });
  const done = await Promise.all(instances.map((i) => i.next((e) => e.ev === 'load-done', 40_000)));
  const codes = instances.flatMap((i) => i.events.filter((e) => e.ev === 'nack').map((e) => String(e.code)));
  if (codes.length > 0) console.log(`# failed calls: ${JSON.stringify(codes.slice(0, 10))}`);
  return { acks: done.reduce((s, e) => s + Number(e.acks), 0), nacks: done.reduce((s, e) => s + Number(e.nacks), 0) };
}

function tokens(instances: Instance[]): { token: number; at: number }[] {
  return instances
    .flatMap((i) => i.events.filter((e) => e.ev === 'acquired').map((e) => ({ token: Number(e.token), at: Number(e.at) })))
    .sort((a, b) => a.at - b.at);
}

function assertIncreasing(list: { token: number }[]): void {
  for (let i = 1; i < list.length; i++) assert.ok(list[i]!.token > list[i - 1]!.token, `token ${list[i]!.token} after ${list[i - 1]!.token}`);
}

async function oneOwnerServing(instances: Instance[], ms: number): Promise<Instance> {
  const deadline = Date.now() + ms;
  for (;;) {
    const owner = ownerOf(instances);
    const holders = instances.filter((i) => {
      const last = [...i.events].reverse().find((e) => e.ev === 'acquired' || e.ev === 'lost');
      return last?.ev === 'acquired';
    });
    if (owner && holders.length === 1) return owner;
    if (Date.now() > deadline) throw new Error(`${holders.length} owners after ${ms} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('kill -9 redis-server under load, restart it empty: one owner again, tokens still increasing, no acknowledged state lost', { timeout: 90_000 }, async () => {
  const redis = await startRedisServer();
  try {
    const prefix = randomPrefix('sg-restart');
    const all = await three(redis.url, prefix);
    const instances = [all.owner, ...all.others];
    for (const i of all.others) i.send({ cmd: 'load', ratePerSec: 100, concurrency: 64, deadlineMs: 15_000, keyed: true });
    await new Promise((r) => setTimeout(r, 1000));
    const before = tokens(instances).length;
    await redis.kill('SIGKILL');
    await new Promise((r) => setTimeout(r, 300));
    await redis.restart();
    assert.equal((await redis.cli('DBSIZE')).trim(), '0', 'redis came back empty');
    await new Promise((r) => setTimeout(r, 2000));
    await oneOwnerServing(instances, 10_000);
    const { acks, nacks } = await finish(all.others);
    const count = Number((await all.others[0]!.ask('call', { action: 'read' }, 10_000)).value);
    assert.ok(count >= acks, `count ${count} < ${acks} acknowledged: acknowledged state lost`);
    // A call that failed (its deadline passed during the outage) may still have been applied: it was never
    // acknowledged. Calls committed just before the crash whose replies died with it are retried, and their
    // idempotency records died too: at most one per call in flight (64 per caller).
    assert.ok(count - acks <= nacks + 128, `count ${count} is ${count - acks} above the acknowledged calls`);
    console.log(`# redis restarted empty: ${acks} acknowledged, ${nacks} failed, count ${count}`);
    const list = tokens(instances);
    assertIncreasing(list);
    assert.ok(list.length > before, 'a claim after the restart');
  } finally {
    await stopAll(started.splice(0));
    await redis.stop();
  }
});

test('Sentinel: SIGSTOP the master past the failover under load, then SIGCONT: one owner, tokens increasing, no acknowledged action lost', { timeout: 120_000 }, async () => {
  const setup = await startRedisSentinel({ sentinels: 1, replica: true });
  try {
    const redis = { sentinels: setup.sentinels.map((s) => ({ host: s.host, port: s.port })), name: setup.name };
    const prefix = randomPrefix('sg-sentinel');
    const all = await three(redis, prefix);
    const instances = [all.owner, ...all.others];
    for (const i of all.others) i.send({ cmd: 'load', ratePerSec: 100, concurrency: 64, deadlineMs: 20_000, keyed: true });
    await new Promise((r) => setTimeout(r, 1000));
    const oldPort = await masterPort(setup);
    const master = setup.master.port === oldPort ? setup.master : setup.replica!;
    master.pause();
    await newMasterElected(setup, oldPort, 30_000);
    await new Promise((r) => setTimeout(r, 1000));
    master.resume();
    await new Promise((r) => setTimeout(r, 3000));
    await oneOwnerServing(instances, 15_000);
    const { acks, nacks } = await finish(all.others);
    const count = Number((await all.others[0]!.ask('call', { action: 'read' }, 10_000)).value);
    assert.ok(count >= acks, `count ${count} < ${acks} acknowledged: acknowledged action lost`);
    assert.ok(count - acks <= nacks, `count ${count}: ${count - acks} applied beyond the acknowledged and failed calls`);
    console.log(`# sentinel failover: ${acks} acknowledged, ${nacks} failed, count ${count}`);
    assertIncreasing(tokens(instances));
  } finally {
    await stopAll(started.splice(0));
    await setup.stop();
  }
});
