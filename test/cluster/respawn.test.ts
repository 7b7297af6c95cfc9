/**
 * Cluster respawn, with real worker processes:
 * - a worker app that exits 1 at boot, before it listens (`KW_TEST_CRASH_AT_BOOT` passed with `env`): each slot's
 *   `crash` events carry a respawn delay doubling from `initialMs` (100, 200, 400, 800), the measured gap between
 *   two crashes of a slot is at least the delay announced at the first, the fifth crash within the window gives the
 *   slot up (`gave-up` with 5 crashes, no delay), and with every slot given up `start()` rejects
 *   (KW_ERR_CLUSTER_NO_WORKERS, or KW_ERR_CLUSTER_NOT_READY) and leaves no process behind;
 * - the same with the primary alone in its process (as `keyway cluster` runs it): start() settles, the process does
 *   not end early with start() pending between a crash and its respawn;
 * - kill -9 one of 2 healthy workers under ~300 req/s of new connections: the slot is respawned (ready again with
 *   a new pid, restarts 1) and only requests in flight on the killed worker may fail (at most 5, all sent around
 *   the kill), and those fail at once (their connection is closed, not left hanging); the count is printed.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { until } from '../helpers/wait.js';
import { APP, slotsOf, Load, makeCluster, startCluster, stopClusters } from './rig.js';
import { alive } from '../helpers/process.js';

const PRIMARY = fileURLToPath(new URL('./fixtures/primary.js', import.meta.url));

after(stopClusters);

test('a worker that crashes at boot: delays 100, 200, 400, 800 ms, gaps at least those, given up after 5; start() rejects', { timeout: 30_000 }, async () => {
  const rig = makeCluster({
    workers: 2,
    env: { KW_TEST_CRASH_AT_BOOT: '1' },
    respawn: { initialMs: 100, maxMs: 10_000, maxCrashes: 5, windowMs: 60_000 },
    readyTimeoutMs: 20_000,
  });
  const startedAt = Date.now();
  // Between a crash and its respawn nothing of the primary's holds the event loop open (its timers are unref'd and
  // it does not listen yet), so this process would end with start() pending: see the next test and
  // /work/notes/cluster-bugs.md. The interval holds it open here, so the rest can be shown.
  const hold = setInterval(() => undefined, 1000);
  try {
    await assert.rejects(rig.primary.start(), (err: Error & { code?: string }) => {
      assert.ok(err.code === 'KW_ERR_CLUSTER_NO_WORKERS' || err.code === 'KW_ERR_CLUSTER_NOT_READY', `start() rejected with ${err.code}: ${err.message}`);
      return true;
    });
  } finally {
    clearInterval(hold);
  }
  console.log(`# start() rejected after ${Date.now() - startedAt} ms`);
  assert.equal(rig.events.filter((e) => e.name === 'ready').length, 0, 'no worker was ever ready');

  for (const slot of [0, 1]) {
    const crashes = rig.events.filter((e) => e.name === 'crash' && e.data.slot === slot);
    const delays = crashes.map((e) => e.data.respawnInMs);
    assert.deepEqual(delays, [100, 200, 400, 800, null], `slot ${slot}: respawn delays`);
    for (const c of crashes) assert.equal(c.data.code, 1, `slot ${slot}: exit code`);
    const gaps = crashes.slice(1).map((c, i) => c.at - (crashes[i] as (typeof crashes)[number]).at);
    console.log(`# slot ${slot}: delays ${JSON.stringify(delays)}, measured gaps between crashes ${JSON.stringify(gaps)} ms`);
    gaps.forEach((gap, i) => assert.ok(gap >= Number(delays[i]), `slot ${slot}: crash ${i + 2} came ${gap} ms after crash ${i + 1}, which announced ${delays[i]} ms`));
    const gaveUp = rig.events.filter((e) => e.name === 'gave-up' && e.data.slot === slot);
    assert.equal(gaveUp.length, 1, `slot ${slot}: one gave-up`);
    assert.equal(gaveUp[0]?.data.crashes, 5);
    assert.ok((gaveUp[0] as { at: number }).at >= (crashes[4] as { at: number }).at, 'gave-up after the fifth crash');
    // Nothing was started after giving up.
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(rig.events.filter((e) => e.name === 'crash' && e.data.slot === slot).length, 5, `slot ${slot}: no crash after gave-up`);
    for (const c of crashes) assert.equal(alive(Number(c.data.pid)), false, `crashed worker ${String(c.data.pid)} is gone`);
  }
  assert.ok(rig.primary.status.workers.every((w) => w.state === 'given-up'), slotsOf(rig));
});

test('a primary alone in its process whose workers crash at boot still respawns them, gives up and rejects start()', { timeout: 30_000 }, async () => {
  const options = { script: APP, workers: 1, port: 0, env: { KW_TEST_CRASH_AT_BOOT: '1' }, respawn: { initialMs: 100, maxMs: 10_000, maxCrashes: 5, windowMs: 60_000 } };
  const child = spawn(process.execPath, [PRIMARY, JSON.stringify(options)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  const [code] = (await once(child, 'exit')) as [number | null];
  clearTimeout(timer);
  const lines = out.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
  const crashes = lines.filter((l) => l.event === 'crash');
  console.log(`# primary process exited ${code} after ${crashes.length} crash(es); last line ${JSON.stringify(lines.at(-1))}`);
  assert.equal(crashes.length, 5, `the worker was respawned until given up; output: ${out}`);
  assert.ok(lines.some((l) => l.event === 'gave-up'), 'gave-up');
  assert.deepEqual(lines.at(-1), { rejected: 'KW_ERR_CLUSTER_NO_WORKERS' }, 'start() rejected');
  assert.equal(code, 0);
});

test('kill -9 one of 2 workers under ~300 req/s of new connections: respawned, only its in-flight requests may fail', { timeout: 30_000 }, async () => {
  const rig = await startCluster({ workers: 2 });
  await until(() => rig.primary.status.workers.every((w) => w.state === 'ready'), 10_000, () => `both workers ready: ${slotsOf(rig)}`);
  const victim = rig.primary.status.workers[0]?.pid as number;
  const load = new Load({ port: rig.port, ratePerSecond: 300, keepAliveShare: 0, maxInflight: 64 }).start();
  await load.more(300, 10_000);

  const killedAt = Date.now();
  process.kill(victim, 'SIGKILL');
  await until(
    () => {
      const w = rig.primary.status.workers[0];
      return w?.state === 'ready' && w.pid !== victim && w.pid !== undefined;
    },
    10_000,
    () => `slot 0 respawned: ${slotsOf(rig)}`,
  );
  const respawnedAt = Date.now();
  const w0 = rig.primary.status.workers[0];
  assert.equal(w0?.restarts, 1);
  // Traffic goes on, the new worker taking its share.
  await load.more(300, 10_000);
  await load.stop();

  const crash = rig.events.find((e) => e.name === 'crash');
  assert.equal(crash?.data.slot, 0);
  assert.equal(crash?.data.pid, victim);
  assert.equal(crash?.data.signal, 'SIGKILL');
  assert.equal(crash?.data.respawnInMs, 100);
  const servedByNew = load.outcomes.filter((o) => o.status === 200 && o.pid === w0?.pid).length;
  assert.ok(servedByNew > 0, 'the respawned worker served');

  const failed = load.failures();
  console.log(
    `# kill -9 under load: ${load.outcomes.length} requests, ${failed.length} failed (${failed.map((f) => `sent ${f.sentAt - killedAt} ms from the kill, after ${f.finishedAt - f.sentAt} ms: ${f.error}`).join('; ')}), ` +
      `slot back ${respawnedAt - killedAt} ms after the kill, ${load.skipped} skipped`,
  );
  assert.ok(failed.length <= 5, `${failed.length} requests failed`);
  for (const f of failed) {
    assert.ok(Math.abs(f.sentAt - killedAt) <= 500, `a request sent ${f.sentAt - killedAt} ms from the kill failed: ${f.error}`);
    // A connection lost with the worker is closed, not left open: its client learns at once instead of hanging.
    assert.ok(f.finishedAt - killedAt < 3000, `a request sent ${f.sentAt - killedAt} ms from the kill hung ${f.finishedAt - f.sentAt} ms: ${f.error}`);
  }
  assert.equal(load.skipped, 0, 'the load never backed up');
});
