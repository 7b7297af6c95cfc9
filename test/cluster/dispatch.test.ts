/**
 * Cluster dispatch, with real worker processes behind a primary in the test process:
 * - 200 new connections spread over 2 workers, each taking 30-70 % of them;
 * - the app sees the client's own address and port on its socket (127.0.0.1 or ::ffff:127.0.0.1 and the client's
 *   local port), not the primary's IPC;
 * - a CPU hog on worker A (its event loop busy in 20 ms chunks for 4 s, so its figures keep coming with a high ELU):
 *   at least 80 % of the new connections made during the hog go to worker B; once the hog is over A takes
 *   connections again.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { until } from '../helpers/wait.js';
import { countBy, slotsOf, get, pidOf, startCluster, stopClusters, type Answer } from './rig.js';

after(stopClusters);

/** `lanes` sequential requesters, `each` new connections apiece. */
async function lanes(port: number, lanesN: number, each: number): Promise<Answer[]> {
  const out: Answer[] = [];
  await Promise.all(
    Array.from({ length: lanesN }, async () => {
      for (let i = 0; i < each; i++) out.push(await get(port));
    }),
  );
  return out;
}

test('200 new connections spread over both workers (30-70 % each); the app sees the client address and port', { timeout: 30_000 }, async () => {
  const rig = await startCluster({ workers: 2 });
  await until(() => rig.primary.status.workers.every((w) => w.state === 'ready'), 10_000, () => `both workers ready: ${slotsOf(rig)}`);
  const answers = await lanes(rig.port, 4, 50);
  assert.equal(answers.length, 200);
  const pids = rig.primary.status.workers.map((w) => w.pid as number);
  const byPid = countBy(answers, (a) => pidOf(a));
  console.log(`# spread over ${pids.join(', ')}: ${JSON.stringify([...byPid])}`);
  assert.equal(byPid.size, 2, `answered by ${JSON.stringify([...byPid])}`);
  for (const pid of pids) {
    const n = byPid.get(pid) ?? 0;
    assert.ok(n >= 60 && n <= 140, `worker ${pid} took ${n} of 200 connections`);
  }
  for (const a of answers) {
    assert.equal(a.status, 200);
    const seen = JSON.parse(a.body) as { remote: string; remotePort: number };
    assert.ok(seen.remote === '127.0.0.1' || seen.remote === '::ffff:127.0.0.1', `the app saw remote address ${seen.remote}`);
    assert.equal(seen.remotePort, a.localPort, 'the app saw the client socket port as its remote port');
  }
});

test('a CPU hog on worker A: at least 80 % of the new connections made during it go to worker B', { timeout: 30_000 }, async () => {
  const rig = await startCluster({ workers: 2 });
  // Both in rotation with figures, so the pick is on figures and not on connections sent since none.
  await until(() => rig.primary.status.workers.every((w) => w.state === 'ready' && w.stats !== null), 10_000, () => `both workers reporting: ${slotsOf(rig)}`);
  const HOG_MS = 4000;
  const hog = await get(rig.port, `/hog?ms=${HOG_MS}`);
  const hogAt = Date.now();
  assert.equal(hog.status, 200);
  const a = Number(hog.body.split(' ')[1]);
  const b = rig.primary.status.workers.map((w) => w.pid).find((p) => p !== a) as number;

  // New connections from 2 requesters at ~100/s each, from the hog's start until shortly before its end.
  const during: Answer[] = [];
  let maxEluA = 0;
  const sampler = setInterval(() => {
    const s = rig.primary.status.workers.find((w) => w.pid === a)?.stats;
    if (s) maxEluA = Math.max(maxEluA, s.elu);
  }, 50);
  await Promise.all(
    [0, 1].map(async () => {
      while (Date.now() < hogAt + HOG_MS - 300) {
        during.push(await get(rig.port));
        await new Promise((r) => setTimeout(r, 10));
      }
    }),
  );
  clearInterval(sampler);
  const byPid = countBy(during, (x) => pidOf(x));
  const toB = byPid.get(b) ?? 0;
  console.log(`# during the hog on ${a}: ${during.length} new connections, ${toB} to B (${b}), ${byPid.get(a) ?? 0} to A; A's ELU peaked at ${maxEluA.toFixed(2)}`);
  assert.ok(maxEluA > 0.8, `worker A reported a high ELU during the hog (max ${maxEluA})`);
  assert.ok(during.length >= 50, `only ${during.length} connections during the hog`);
  assert.ok(toB >= 0.8 * during.length, `${toB} of ${during.length} connections during the hog went to worker B`);

  // The hog over and A's figures back down, A takes new connections again.
  await until(
    () => {
      const s = rig.primary.status.workers.find((w) => w.pid === a)?.stats;
      return s !== undefined && s !== null && s.elu < 0.1 && s.delayP99Ms < 25;
    },
    10_000,
    () => `worker A's figures idle again: ${JSON.stringify(rig.primary.status.workers.find((w) => w.pid === a)?.stats)}`,
  );
  const afterHog = countBy(await lanes(rig.port, 2, 30), (x) => pidOf(x));
  assert.ok((afterHog.get(a) ?? 0) >= 6, `after the hog A took ${afterHog.get(a) ?? 0} of 60`);
});
