/**
 * Hung cluster workers (SIGSTOP: the process is there, its figures stop), with real worker processes:
 * - SIGSTOP one of 2 workers: within 3 s it leaves rotation (`hung` event, status state `hung`, with the default
 *   `hungAfterMs` of 2 s); every request made after that succeeds and is answered by the other worker;
 * - SIGCONT: its figures resume and it comes back into rotation (state `ready`) and answers requests again;
 * - with `replaceHungAfterMs: 1500`, a worker kept stopped is killed (`crash` with SIGKILL, about 1.5 s after it
 *   went hung) and replaced by a new process that serves.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { until } from '../helpers/wait.js';
import { countBy, slotsOf, get, pidOf, startCluster, stopClusters, type Rig } from './rig.js';

after(stopClusters);

async function bothReporting(rig: Rig): Promise<void> {
  await until(() => rig.primary.status.workers.every((w) => w.state === 'ready' && w.stats !== null), 10_000, () => `both workers reporting: ${slotsOf(rig)}`);
}

async function newConnections(port: number, n: number): Promise<number[]> {
  const pids: number[] = [];
  for (let i = 0; i < n; i++) {
    const a = await get(port, '/', { timeoutMs: 5000 });
    assert.equal(a.status, 200);
    pids.push(pidOf(a));
  }
  return pids;
}

test('SIGSTOP: out of rotation within 3 s, the other worker answers everything; SIGCONT: back in rotation', { timeout: 30_000 }, async () => {
  const rig = await startCluster({ workers: 2 });
  await bothReporting(rig);
  const [a, b] = rig.primary.status.workers.map((w) => w.pid as number) as [number, number];

  const stoppedAt = Date.now();
  process.kill(a, 'SIGSTOP');
  try {
    await until(() => rig.events.some((e) => e.name === 'hung'), 3000, () => `a hung event within 3 s: ${slotsOf(rig)}`);
    const hung = rig.events.find((e) => e.name === 'hung');
    console.log(`# hung event ${(hung?.at ?? 0) - stoppedAt} ms after SIGSTOP`);
    assert.deepEqual(hung?.data, { slot: 0, pid: a });
    assert.equal(rig.primary.status.workers[0]?.state, 'hung');
    assert.equal(rig.primary.status.workers[1]?.state, 'ready');

    const pids = await newConnections(rig.port, 50);
    assert.deepEqual([...countBy(pids, (p) => p)], [[b, 50]], 'every request after the hung event answered by the other worker');
    assert.equal(rig.primary.status.workers[0]?.state, 'hung', 'still out of rotation while stopped');
  } finally {
    process.kill(a, 'SIGCONT');
  }
  const contAt = Date.now();
  await until(() => rig.primary.status.workers[0]?.state === 'ready', 5000, () => `back in rotation after SIGCONT: ${slotsOf(rig)}`);
  console.log(`# back in rotation ${Date.now() - contAt} ms after SIGCONT`);
  assert.equal(rig.primary.status.workers[0]?.pid, a, 'the same process, not a replacement');
  // It takes connections again (its first figures after the stop may still show the stall: a bounded wait, not one request).
  const seen: number[] = [];
  const deadline = Date.now() + 10_000;
  while (!seen.includes(a) && Date.now() < deadline) {
    seen.push(...(await newConnections(rig.port, 10)));
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.ok(seen.includes(a), `the resumed worker answers again: ${JSON.stringify([...countBy(seen, (p) => p)])}`);
});

test('replaceHungAfterMs 1500: a worker kept stopped is killed and replaced', { timeout: 30_000 }, async () => {
  const rig = await startCluster({ workers: 2, replaceHungAfterMs: 1500 });
  await bothReporting(rig);
  const a = rig.primary.status.workers[0]?.pid as number;
  process.kill(a, 'SIGSTOP');
  try {
    await until(() => rig.events.some((e) => e.name === 'hung'), 3000, () => `a hung event: ${slotsOf(rig)}`);
    await until(
      () => {
        const w = rig.primary.status.workers[0];
        return w?.state === 'ready' && w.pid !== a;
      },
      10_000,
      () => `slot 0 replaced: ${slotsOf(rig)}`,
    );
  } finally {
    try {
      process.kill(a, 'SIGCONT');
    } catch {
      // killed, as it should be
    }
  }
  const hung = rig.events.find((e) => e.name === 'hung') as { at: number; data: Record<string, unknown> };
  const crash = rig.events.find((e) => e.name === 'crash');
  assert.deepEqual(hung.data, { slot: 0, pid: a });
  assert.equal(crash?.data.pid, a);
  assert.equal(crash?.data.signal, 'SIGKILL', 'the stopped worker was killed');
  const afterHung = (crash?.at ?? 0) - hung.at;
  console.log(`# killed ${afterHung} ms after it went hung; slot 0 now ${slotsOf(rig)}`);
  assert.ok(afterHung >= 1500 && afterHung < 4000, `killed ${afterHung} ms after the hung event`);
  let alive = true;
  try {
    process.kill(a, 0);
  } catch {
    alive = false;
  }
  assert.equal(alive, false, 'the stopped process is gone');
  const fresh = rig.primary.status.workers[0]?.pid as number;
  const seen: number[] = [];
  const deadline = Date.now() + 10_000;
  while (!seen.includes(fresh) && Date.now() < deadline) seen.push(...(await newConnections(rig.port, 10)));
  assert.ok(seen.includes(fresh), `the replacement serves: ${JSON.stringify([...countBy(seen, (p) => p)])}`);
});
