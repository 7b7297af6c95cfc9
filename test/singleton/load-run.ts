/**
 * @module test/singleton/load-run: three singleton instances under load and what the fault tests check afterwards
 * (one owner serving, tokens only going up, acknowledged against applied calls).
 */
import assert from 'node:assert/strict';
import { ownerOf, startInstance, type Instance } from './instances.js';

export async function three(started: Instance[], redis: string | object, prefix: string): Promise<{ owner: Instance; others: Instance[] }> {
  const first = await startInstance(redis, prefix);
  const rest = await Promise.all([0, 1].map(() => startInstance(redis, prefix)));
  started.push(first, ...rest);
  return { owner: first, others: rest };
}

export async function finish(instances: Instance[]): Promise<{ acks: number; nacks: number }> {
  for (const i of instances) i.send({ cmd: 'stop-load' });
  const done = await Promise.all(instances.map((i) => i.next((e) => e.ev === 'load-done', 40_000)));
  const codes = instances.flatMap((i) => i.events.filter((e) => e.ev === 'nack').map((e) => String(e.code)));
  if (codes.length > 0) console.log(`# failed calls: ${JSON.stringify(codes.slice(0, 10))}`);
  return { acks: done.reduce((s, e) => s + Number(e.acks), 0), nacks: done.reduce((s, e) => s + Number(e.nacks), 0) };
}

export function tokens(instances: Instance[]): { token: number; at: number }[] {
  return instances
    .flatMap((i) => i.events.filter((e) => e.ev === 'acquired').map((e) => ({ token: Number(e.token), at: Number(e.at) })))
    .sort((a, b) => a.at - b.at || a.token - b.token); // within one ms the order is unknown
}

export function assertIncreasing(list: { token: number }[]): void {
  for (let i = 1; i < list.length; i++) assert.ok(list[i]!.token > list[i - 1]!.token, `token ${list[i]!.token} after ${list[i - 1]!.token}`);
}

export async function oneOwnerServing(instances: Instance[], ms: number): Promise<Instance> {
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

