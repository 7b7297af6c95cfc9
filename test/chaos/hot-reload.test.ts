/**
 * Chaos: hot reload (SIGHUP) of `keyway serve` under steady load: the config file loses one backend and gains
 * another. No request fails; afterwards the removed backend gets no new request and the added one does.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { spawnBackend, type BackendProcess } from '../helpers/backend-process.js';
import { serveCli, tempFile, type Serving } from '../helpers/cli.js';
import { request } from '../helpers/http.js';
import { LoadGenerator, metricSum } from '../helpers/load.js';
import { until } from '../helpers/wait.js';

function configFor(backends: readonly BackendProcess[]): string {
  return JSON.stringify({
    host: '127.0.0.1',
    sticky: false,
    health: { interval: 200, path: '/health' },
    backends: backends.map((p) => ({ id: p.name, url: p.url })),
  });
}

test('SIGHUP under load: backend c removed and d added without a failed request', { timeout: 30_000 }, async (t) => {
  const procs = await Promise.all(['a', 'b', 'c', 'd'].map((n) => spawnBackend(n)));
  const [a, b, c, d] = procs as [BackendProcess, BackendProcess, BackendProcess, BackendProcess];
  const file = tempFile('keyway.json', configFor([a, b, c]));
  let gw: Serving | undefined;
  let load: LoadGenerator | undefined;
  try {
    const serving = await serveCli(file);
    gw = serving;
    load = new LoadGenerator({ port: gw.port, ratePerSecond: 300, maxInflight: 50 });
    const t0 = Date.now();
    load.start();
    // Before the reload: steady load has flowed and c has served some of it.
    await load.answered(400, 6000, undefined, 'answered requests before the reload');
    await load.answered(20, 3000, (o) => o.body === 'c', 'answers from c before the reload');
    writeFileSync(file, configFor([a, b, d]));
    const hupAt = Date.now();
    gw.child.kill('SIGHUP');
    await until(() => serving.output().includes('config reloaded'), 5000, () => `"config reloaded" in the output:\n${serving.output()}`);
    const reloadedAt = Date.now();
    // After it: enough requests (over several health intervals) that c had every chance to get one, and d has served some.
    const sentAfter = (o: { sentAt: number }): boolean => o.sentAt > reloadedAt;
    await load.answered(450, 6000, sentAfter, 'answered requests sent after the reload');
    await load.answered(50, 3000, (o) => sentAfter(o) && o.body === 'd', 'answers from d to requests sent after the reload');
    await load.stop();

    const metrics = (await request(gw.port, { path: '/_lb/metrics' })).body;
    const retried = metricSum(metrics, 'keyway_retries_total');
    const all = load.summary();
    const after = load.outcomes.filter((o) => o.sentAt > reloadedAt);
    const byBackend = (list: typeof after, name: string) => list.filter((o) => o.body === name).length;
    const cSeen = new Set(await c.seen());
    const lateOnC = after.filter((o) => cSeen.has(o.id)).length;
    t.diagnostic(`sent=${all.sent} ok=${all.ok} failed=${all.failed} retried=${retried} skipped=${all.skipped}`);
    t.diagnostic(`reload logged ${reloadedAt - hupAt} ms after SIGHUP; after it: a=${byBackend(after, 'a')} b=${byBackend(after, 'b')} c=${byBackend(after, 'c')} d=${byBackend(after, 'd')}`);
    const failures = load.outcomes.filter((o) => o.status !== 200);
    assert.deepEqual(failures.slice(0, 5).map((o) => ({ at: o.sentAt - t0, status: o.status, error: o.error, body: o.body.slice(0, 120) })), []);
    assert.ok(all.sent > 800, `sent ${all.sent}`); // at least about half the rate, even on a busy machine
    assert.ok(byBackend(load.outcomes.filter((o) => o.sentAt < hupAt), 'c') > 0, 'c served before the reload');
    assert.equal(byBackend(after, 'c'), 0, 'the removed backend answers nothing sent after the reload');
    assert.equal(lateOnC, 0, 'and receives nothing sent after it');
    assert.ok(byBackend(after, 'd') > 0, 'the added backend takes traffic');
    const health = JSON.parse((await request(gw.port, { path: '/_lb/health' })).body) as { backends: { id: string }[] };
    assert.deepEqual(health.backends.map((x) => x.id).sort(), ['a', 'b', 'd']);
  } finally {
    await load?.stop();
    if (gw !== undefined && gw.child.exitCode === null && gw.child.signalCode === null) {
      const exited = once(gw.child, 'exit');
      gw.child.kill('SIGTERM');
      await exited;
    }
    await Promise.all(procs.map((p) => p.kill()));
  }
});
