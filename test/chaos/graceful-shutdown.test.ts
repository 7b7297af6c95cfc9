/**
 * Chaos: SIGTERM to the `keyway serve` process under steady load. Requests already accepted finish with 200,
 * the listener is closed at once (new connections are refused while the process still drains), and the
 * process exits 0 within `shutdownGraceMs`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import net from 'node:net';
import { spawnBackend, type BackendProcess } from '../helpers/backend-process.js';
import { serveCli, tempFile, type Serving } from '../helpers/cli.js';
import { request, type Reply } from '../helpers/http.js';
import { LoadGenerator, metricSum } from '../helpers/load.js';
import { waitFor } from '../helpers/redis.js';

const GRACE_MS = 5000;

/** Resolves with the error code of a fresh TCP connection attempt ('connected' when it was accepted). */
function tryConnect(port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve('connected');
    });
    socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
  });
}

test('SIGTERM under load: accepted requests complete, new connections are refused, exit 0 within the grace', { timeout: 30_000 }, async (t) => {
  const procs: BackendProcess[] = await Promise.all(['a', 'b', 'c'].map((n) => spawnBackend(n, { delayMs: 100 })));
  const file = tempFile(
    'keyway.json',
    JSON.stringify({
      host: '127.0.0.1',
      sticky: false,
      shutdownGraceMs: GRACE_MS,
      health: { interval: 1000, path: '/health' },
      backends: procs.map((p) => ({ id: p.name, url: p.url })),
    }),
  );
  let gw: Serving | undefined;
  let load: LoadGenerator | undefined;
  try {
    const serving = await serveCli(file);
    gw = serving;
    load = new LoadGenerator({ port: gw.port, ratePerSecond: 300, maxInflight: 50 });
    load.start();
    // Steady load has flowed (about a second of it at this rate) before the signal.
    await load.answered(300, 6000, undefined, 'answered requests before SIGTERM');
    // A slow request (1.5 s) accepted before the signal keeps the process draining long enough to probe the listener.
    const slow: Promise<Reply> = request(gw.port, { path: '/slow?delay=1500', headers: { 'x-req-id': 'slow' }, timeoutMs: 10_000 });
    const backendsSaw = async (): Promise<boolean> => (await Promise.all(procs.map((p) => p.seen()))).flat().includes('slow');
    await waitFor('the slow request to reach a backend', backendsSaw, 3000);
    const retried = metricSum((await request(gw.port, { path: '/_lb/metrics' })).body, 'keyway_retries_total');
    const exited = once(gw.child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
    const sigtermAt = Date.now();
    gw.child.kill('SIGTERM');
    let refusedAt = 0;
    let aliveWhenRefused = false;
    const refused = async (): Promise<boolean> => {
      if ((await tryConnect(serving.port)) !== 'ECONNREFUSED') return false;
      refusedAt = Date.now();
      aliveWhenRefused = serving.child.exitCode === null && serving.child.signalCode === null;
      return true;
    };
    // A timeout here is reported by the assertions below (refusedAt stays 0), after the requests' outcomes.
    await waitFor('the listener to refuse new connections', refused, 3000).catch(() => undefined);
    const [code, signal] = await exited;
    const exitMs = Date.now() - sigtermAt;
    await load.stop();
    const slowReply = await slow;
    const seen = new Set((await Promise.all(procs.map((p) => p.seen()))).flat());

    const before = load.summary((o) => o.flushedAt !== undefined && o.flushedAt < sigtermAt);
    const reachedBackend = load.summary((o) => seen.has(o.id));
    const afterSignal = load.summary((o) => o.sentAt >= sigtermAt);

    t.diagnostic(`sent before SIGTERM: ${before.sent} (ok ${before.ok}, failed ${before.failed}); reached a backend: ${reachedBackend.sent} (ok ${reachedBackend.ok})`);
    t.diagnostic(`sent after SIGTERM: ${afterSignal.sent} (served ${afterSignal.ok}, refused ${afterSignal.failed})`);
    t.diagnostic(`listener refused ${refusedAt - sigtermAt} ms after SIGTERM; exit ${code} after ${exitMs} ms`);
    const lost = load.outcomes.filter((o) => (o.flushedAt !== undefined && o.flushedAt < sigtermAt) || seen.has(o.id)).filter((o) => o.status !== 200);
    t.diagnostic(
      `sent=${load.outcomes.length} ok=${load.summary().ok} failed=${lost.length} (of requests accepted) ` +
        `refused=${afterSignal.failed} (sent after SIGTERM) retried=${retried} skipped=${load.skipped}`,
    );
    assert.deepEqual(lost.slice(0, 5).map((o) => ({ id: o.id, sent: o.sentAt - sigtermAt, status: o.status, error: o.error })), []);
    // The load is real even on a busy machine (the generator skips ticks it cannot keep up with): half the rate at least.
    assert.ok(before.sent > 200, `sent before SIGTERM: ${before.sent}`);
    assert.equal(slowReply.status, 200);
    assert.equal(slowReply.body, slowReply.headers['x-backend']);
    assert.ok(refusedAt > 0, 'new connections were refused after SIGTERM');
    assert.ok(aliveWhenRefused, 'refused while the process was still draining, not only once it had exited');
    assert.equal(signal, null);
    assert.equal(code, 0, gw.output());
    assert.ok(exitMs < GRACE_MS, `exited after ${exitMs} ms`);
  } finally {
    await load?.stop();
    if (gw !== undefined && gw.child.exitCode === null && gw.child.signalCode === null) gw.child.kill('SIGKILL');
    await Promise.all(procs.map((p) => p.kill()));
  }
});
