/** @module test/health/checker: the scheduler against real backends that die and come back on their port. */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import type { RequestListener } from 'node:http';
import { performance } from 'node:perf_hooks';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { HealthChecker, type ProbeResult } from '../../src/health/index.js';
import type { Logger } from '../../src/types.js';
import { Upstream, UpstreamPool } from '../../src/upstream/index.js';
import { backend, deadPort, listen, sleep } from './helpers.js';

const opts = { timeout: 10_000 };
const ok200: RequestListener = (_req, res) => res.end('ok');

/** Collects every applied probe result of a checker. */
function record(checker: HealthChecker): ProbeResult[] {
  const results: ProbeResult[] = [];
  checker.on('probe', (_u, r) => results.push(r));
  return results;
}

describe('HealthChecker', () => {
  // The checker's timers are unref'd by design, so while a backend is down nothing else would keep this
  // process alive; in a gateway the listening server does that. This handle plays its part.
  let hold: NodeJS.Timeout | undefined;
  before(() => {
    hold = setInterval(() => {}, 60_000);
  });
  after(() => clearInterval(hold));

  it('start() resolves after the first round, which sets verdicts without waiting for rise/fall', opts, async (t) => {
    const live = await listen(ok200);
    const wasDown = await listen(ok200);
    const port = await deadPort();
    t.after(() => Promise.all([live.close(), wasDown.close()]));
    const pool = new UpstreamPool([
      backend(live.url, { intervalMs: 10_000, rise: 3, fall: 3 }, 'live'),
      backend(`http://127.0.0.1:${port}`, { intervalMs: 10_000, rise: 3, fall: 3 }, 'dead'),
      backend(wasDown.url, { intervalMs: 10_000, rise: 3, fall: 3 }, 'was-down'),
    ]);
    pool.setHealthy(pool.get('was-down')!, false);
    const events: string[] = [];
    pool.on('backend:down', (u) => events.push(`down:${u.id}`));
    pool.on('backend:up', (u) => events.push(`up:${u.id}`));
    const checker = new HealthChecker(pool);
    t.after(() => checker.close());

    const started = checker.start();
    assert.equal(checker.start(), started, 'start() is idempotent');
    await started;

    assert.deepEqual(events.sort(), ['down:dead', 'up:was-down']);
    assert.deepEqual(pool.candidates().map((u) => u.id), ['live', 'was-down']);
    for (const u of pool.all) assert.ok(u.lastChecked instanceof Date, `${u.id} was checked`);
  });

  it('takes a backend down after `fall` failures and back up after `rise` successes on the same port', opts, async (t) => {
    const first = await listen(ok200);
    const pool = new UpstreamPool([backend(first.url, { intervalMs: 50, rise: 2, fall: 2 })]);
    const checker = new HealthChecker(pool);
    t.after(() => checker.close());
    const results = record(checker);
    await checker.start();
    const u = pool.get('b1')!;
    assert.equal(u.healthy, true);

    const down = once(pool, 'backend:down');
    await first.close();
    await down;
    assert.equal(u.healthy, false);
    assert.ok(results.slice(-2).every((r) => !r.ok), 'two failures in a row took it down');
    assert.equal(results.at(-1)?.error, 'ECONNREFUSED');

    const second = await listen(ok200, first.port);
    t.after(() => second.close());
    const mark = results.length;
    const up = once(pool, 'backend:up');
    await up;
    assert.equal(u.healthy, true);
    assert.equal(results.slice(mark).filter((r) => r.ok).length, 2, 'exactly `rise` successes brought it back');
  });

  it('never overlaps probes of one upstream, and waits at least interval - 10% after each one ends', opts, async (t) => {
    let active = 0;
    let maxActive = 0;
    const starts: number[] = [];
    const ends: number[] = [];
    const s = await listen((_req, res) => {
      starts.push(performance.now());
      maxActive = Math.max(maxActive, ++active);
      // Answers after 3 intervals: a fixed-rate scheduler would now have three probes in flight.
      setTimeout(() => {
        active--;
        ends.push(performance.now());
        res.end('slow');
      }, 150);
    });
    t.after(() => s.close());
    const pool = new UpstreamPool([backend(s.url, { intervalMs: 50, timeoutMs: 2000 })]);
    const checker = new HealthChecker(pool, { random: () => 0 }); // the shortest jitter: 45 ms
    t.after(() => checker.close());
    await checker.start();
    while (starts.length < 3) await once(checker, 'probe');
    await checker.close();

    assert.equal(maxActive, 1);
    for (let i = 1; i < starts.length; i++) {
      const gap = starts[i]! - ends[i - 1]!;
      assert.ok(gap >= 40, `probe ${i} started ${gap.toFixed(1)} ms after the previous answer`);
    }
  });

  it('close() is idempotent, stops the schedule and nothing probes afterwards', opts, async () => {
    let hits = 0;
    const s = await listen((_req, res) => {
      hits++;
      res.end('ok');
    });
    try {
      const pool = new UpstreamPool([backend(s.url, { intervalMs: 20 })]);
      const checker = new HealthChecker(pool);
      await checker.start();
      while (hits < 3) await once(checker, 'probe');
      const closing = checker.close();
      assert.equal(checker.close(), closing);
      await closing;
      const seen = hits;
      await sleep(200); // ten intervals: proving an absence needs a wait
      assert.equal(hits, seen);
      await assert.rejects(checker.start(), { code: 'KW_ERR_GATEWAY_STATE' });
    } finally {
      await s.close();
    }
  });

  it('close() during the first round aborts the probe in flight and drops its result', opts, async (t) => {
    const s = await listen(() => {}); // never answers
    t.after(() => s.close());
    const pool = new UpstreamPool([backend(s.url, { timeoutMs: 30_000 })]);
    const checker = new HealthChecker(pool);
    const started = checker.start();
    await once(s.server, 'request');
    const t0 = performance.now();
    await checker.close();
    await started;
    assert.ok(performance.now() - t0 < 1000);
    const u = pool.get('b1')!;
    assert.equal(u.healthy, true, 'an aborted probe is not a verdict');
    assert.equal(u.lastChecked, null);
  });

  it('leaves nothing behind: a process that closes its checker and server exits by itself', opts, async () => {
    const health = new URL('../../src/health/index.js', import.meta.url).href;
    const upstream = new URL('../../src/upstream/index.js', import.meta.url).href;
    const script = `
      import { createServer } from 'node:http';
      import { HealthChecker } from '${health}';
      import { UpstreamPool } from '${upstream}';
      const server = createServer((_q, s) => s.end('ok')).listen(0, '127.0.0.1', async () => {
        const url = 'http://127.0.0.1:' + server.address().port;
        const health = { intervalMs: 20, path: '/h', method: 'GET', algorithm: 'http', timeoutMs: 1000,
          headers: {}, check: undefined, rise: 1, fall: 1 };
        const pool = new UpstreamPool([{ id: 'a', rawId: 'a', url, weight: 1, owner: undefined, health }]);
        const checker = new HealthChecker(pool);
        await checker.start();
        await new Promise((r) => checker.once('probe', r));
        await checker.close();
        server.close();
        console.log('closed');
      });`;
    const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], {
      timeout: 5000,
    });
    assert.equal(stdout.trim(), 'closed');
  });

  it('track() probes a late upstream at once; untrack() stops probing it', opts, async (t) => {
    const first = await listen(ok200);
    let lateHits = 0;
    const late = await listen((_req, res) => {
      lateHits++;
      res.end('ok');
    });
    t.after(() => Promise.all([first.close(), late.close()]));
    const pool = new UpstreamPool([backend(first.url, { intervalMs: 10_000 })]);
    const checker = new HealthChecker(pool);
    t.after(() => checker.close());
    await checker.start();

    const u = new Upstream(backend(late.url, { intervalMs: 20, rise: 3 }, 'late'));
    u.healthy = false; // keep traffic off it until it has answered once
    pool.add(u);
    const up = once(pool, 'backend:up');
    await checker.track(u);
    await up;
    assert.equal(u.healthy, true, 'the first success is enough, whatever `rise` says');

    while (lateHits < 3) await once(checker, 'probe');
    assert.equal(checker.untrack('late'), true);
    assert.equal(checker.untrack('late'), false);
    pool.remove('late');
    const seen = lateHits;
    await sleep(150);
    assert.equal(lateHits, seen);
  });

  it('survives a throwing listener and logs it', opts, async (t) => {
    const port = await deadPort();
    const errors: unknown[] = [];
    const logger: Logger = {
      debug() {},
      info() {},
      warn() {},
      error: (obj) => void errors.push(obj),
      child: () => logger,
    };
    const pool = new UpstreamPool([backend(`http://127.0.0.1:${port}`, { intervalMs: 20 })]);
    pool.on('backend:down', () => {
      throw new Error('listener bug');
    });
    const checker = new HealthChecker(pool, { logger });
    t.after(() => checker.close());
    await checker.start();
    assert.equal(pool.get('b1')!.healthy, false);
    assert.equal(errors.length, 1);
    const [u, r] = await once(checker, 'probe');
    assert.equal((u as Upstream).id, 'b1');
    assert.equal((r as ProbeResult).ok, false);
  });
});
