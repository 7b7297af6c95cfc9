/**
 * Graceful cluster shutdown under load, with real worker processes: 2 workers (graceMs 3000), ~300 req/s (half over
 * kept-alive connections, half on new ones) and 10 slow requests (300 ms) in flight when `close()` is called:
 * - every request accepted before close gets its answer: the slow ones complete with 200 and their whole body, and
 *   so does every load request sent before close on a connection that was open before it (the load goes on
 *   through close; what it sends after is counted, not judged);
 * - every worker process exits;
 * - `close()` resolves after the slow requests are answered and within graceMs + 1 s;
 * - after close, a new connection is refused at once (nothing left listening, nothing held).
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { until } from '../helpers/wait.js';
import { countBy, slotsOf, get, Load, startCluster, stopClusters } from './rig.js';
import { alive } from '../helpers/process.js';

after(stopClusters);

interface Slow {
  connectedAt: number;
  finishedAt: number;
  status: number;
  body: string;
  error: string | undefined;
}

/** A GET /slow on a new connection, its outcome filled in as it goes. */
function slow(port: number, ms: number): { outcome: Slow; done: Promise<void> } {
  const outcome: Slow = { connectedAt: 0, finishedAt: 0, status: 0, body: '', error: undefined };
  const done = new Promise<void>((resolve) => {
    const finish = (err?: Error): void => {
      if (outcome.finishedAt !== 0) return;
      outcome.finishedAt = Date.now();
      if (err !== undefined) outcome.error = `${(err as NodeJS.ErrnoException).code ?? ''} ${err.message}`.trim();
      resolve();
    };
    const req = http.request({ host: '127.0.0.1', port, path: `/slow?ms=${ms}`, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        outcome.status = res.statusCode ?? 0;
        outcome.body = Buffer.concat(chunks).toString();
        finish();
      });
      res.on('aborted', () => finish(new Error('response aborted')));
      res.on('error', finish);
    });
    req.on('socket', (s) => s.once('connect', () => (outcome.connectedAt = Date.now())));
    req.setTimeout(10_000, () => req.destroy(new Error('slow request timed out')));
    req.on('error', finish);
    req.end();
  });
  return { outcome, done };
}

test('close() under load: every request accepted before it is answered, workers exit, within graceMs + 1 s', { timeout: 30_000 }, async () => {
  const GRACE_MS = 3000;
  const rig = await startCluster({ workers: 2, graceMs: GRACE_MS });
  await until(() => rig.primary.status.workers.every((w) => w.state === 'ready'), 10_000, () => `both workers ready: ${slotsOf(rig)}`);
  const pids = rig.primary.status.workers.map((w) => w.pid as number);
  const load = new Load({ port: rig.port, ratePerSecond: 300, keepAliveShare: 0.5, maxInflight: 100 }).start();
  await load.more(200, 10_000);

  // 10 slow requests, all connected and handed to a worker (the primary dispatches on accept, in this process)
  // with most of their 300 ms still to go when close() is called.
  const slowsAt = Date.now();
  const slows = Array.from({ length: 10 }, () => slow(rig.port, 300));
  await until(() => slows.every((s) => s.outcome.connectedAt !== 0), 5000, 'the slow requests connected');
  await new Promise((r) => setTimeout(r, 50));
  assert.ok(slows.every((s) => s.outcome.finishedAt === 0), 'the slow requests are still in flight');

  // The load goes on through close(): what it sends after is not judged (refused, or on a connection being closed).
  const closeAt = Date.now();
  await rig.primary.close();
  const closeMs = Date.now() - closeAt;
  await Promise.all(slows.map((s) => s.done));
  await load.stop();

  // The slow ones: complete, with 200 and their whole body, on both workers.
  for (const s of slows) {
    assert.equal(s.outcome.error, undefined, `a slow request failed: ${s.outcome.error}`);
    assert.equal(s.outcome.status, 200);
    assert.match(s.outcome.body, /^slow \d+$/);
  }
  const slowBy = countBy(slows, (s) => Number(s.outcome.body.split(' ')[1]));
  const lastSlow = Math.max(...slows.map((s) => s.outcome.finishedAt));

  // The load: every request on a connection open before close was answered. (A new connection still in the
  // kernel's accept queue when the primary stops listening was never accepted: it may be reset.)
  const accepted = load.outcomes.filter((o) => o.sentAt < closeAt && o.connectedAt !== 0 && o.connectedAt < closeAt - 10);
  const failed = accepted.filter((o) => o.status !== 200);
  const others = load.outcomes.filter((o) => !accepted.includes(o));
  console.log(
    `# close() took ${closeMs} ms; slow requests by worker ${JSON.stringify([...slowBy])}, the last answered ${lastSlow - closeAt} ms after close(); ` +
      `${load.outcomes.length} load requests, ${accepted.length} on connections open before close, ${failed.length} of them failed ` +
      `${JSON.stringify([...countBy(failed, (f) => `${f.keepAlive ? 'kept-alive' : 'new'}${f.reused ? ' reused' : ''}: ${f.error ?? f.status}`)])}; ` +
      `${others.length} others (${others.filter((o) => o.status === 200).length} answered, ` +
      `${JSON.stringify([...countBy(others.filter((o) => o.status !== 200), (f) => `${f.sentAt < closeAt ? 'before' : 'after'} close, ${f.keepAlive ? 'kept-alive' : 'new'}${f.reused ? ' reused' : ''}: ${f.error ?? f.status}`)])})`,
  );
  assert.deepEqual(failed.map((f) => f.error ?? f.status), [], 'every load request accepted before close was answered');

  // Workers gone, close() bounded and after the answers.
  for (const pid of pids) assert.equal(alive(pid), false, `worker ${pid} exited`);
  assert.ok(rig.primary.status.workers.every((w) => w.pid === undefined || !alive(w.pid)), slotsOf(rig));
  assert.ok(closeMs <= GRACE_MS + 1000, `close() took ${closeMs} ms`);
  // The workers answered the slow requests (300 ms from their arrival) before they exited.
  assert.ok(closeAt + closeMs >= slowsAt + 300, `close() resolved ${closeAt + closeMs - slowsAt} ms after the slow requests were sent`);

  // Nothing listens any more.
  await assert.rejects(get(rig.port, '/', { timeoutMs: 2000 }), (err: NodeJS.ErrnoException) => err.code === 'ECONNREFUSED');
});
