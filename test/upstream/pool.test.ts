import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Upstream, UpstreamPool } from '../../src/upstream/index.js';
import { backend, fakeClock, within } from './fixtures.js';

const ids = (pool: UpstreamPool): string[] => pool.candidates().map((u) => u.id);

/** Fails `upstream` `n` times in a row. */
function failTimes(pool: UpstreamPool, upstream: Upstream, n: number): void {
  for (let i = 0; i < n; i++) pool.recordResult(upstream, false);
}

describe('UpstreamPool: candidates', () => {
  it('works without options as before: healthy backends with weight > 0', async () => {
    const pool = new UpstreamPool([backend('a'), backend('b', 0), backend('c', 2)]);
    assert.deepEqual(ids(pool), ['a', 'c']);
    assert.equal(pool.get('c')!.weight, 2);
    assert.equal(pool.get('c')!.configuredWeight, 2);
    const events: string[] = [];
    pool.on('backend:down', (u) => events.push(`down:${u.id}`));
    pool.on('backend:up', (u) => events.push(`up:${u.id}`));
    pool.setHealthy(pool.get('a')!, false);
    pool.setHealthy(pool.get('a')!, false);
    pool.setHealthy(pool.get('a')!, true);
    assert.deepEqual(events, ['down:a', 'up:a']);
    assert.equal(pool.get('a')!.weight, 1, 'no slow start unless configured');
    await pool.close();
  });

  it('returns the same array object until something changes', async () => {
    const pool = new UpstreamPool([backend('a'), backend('b')]);
    const first = pool.candidates();
    assert.equal(pool.candidates(), first);
    pool.recordResult(pool.get('a')!, true);
    pool.recordResult(pool.get('a')!, false);
    pool.setHealthy(pool.get('a')!, true);
    pool.setWeight(pool.get('a')!, 1);
    pool.setAdminState(pool.get('a')!, 'enabled');
    assert.equal(pool.candidates(), first, 'no-op changes keep the array');
    pool.setWeight(pool.get('a')!, 3);
    const second = pool.candidates();
    assert.notEqual(second, first);
    assert.equal(second[0]!.weight, 3);
    assert.equal(pool.candidates(), second);
    await pool.close();
  });

  it('rejects invalid options, weights and admin states', () => {
    assert.throws(() => new UpstreamPool([], { slowStartMs: -1 }), RangeError);
    assert.throws(() => new UpstreamPool([], { whenAllDown: 'maybe' as 'reject' }), RangeError);
    assert.throws(() => new UpstreamPool([], { outlier: { consecutiveFailures: 0 } }), RangeError);
    const pool = new UpstreamPool([backend('a')]);
    assert.throws(() => pool.setWeight(pool.get('a')!, -1), RangeError);
    assert.throws(() => pool.setWeight(pool.get('a')!, Number.NaN), RangeError);
    assert.throws(() => pool.setAdminState(pool.get('a')!, 'off' as 'disabled'), RangeError);
  });

  it('add() replaces an upstream with the same id', () => {
    const pool = new UpstreamPool([backend('a'), backend('b')]);
    const replacement = new Upstream(backend('a', 4));
    pool.add(replacement);
    assert.deepEqual(pool.all.map((u) => u.id), ['b', 'a']);
    assert.equal(pool.get('a'), replacement);
  });
});

describe('UpstreamPool: admin state', () => {
  it('draining keeps pinned clients, disabled moves them; weight 0 keeps them', () => {
    const pool = new UpstreamPool([backend('a'), backend('b'), backend('c'), backend('w', 0)]);
    const [a, b, c, w] = pool.all as [Upstream, Upstream, Upstream, Upstream];
    const events: string[] = [];
    pool.on('backend:admin', (u, state, previous) => events.push(`${u.id}:${previous}->${state}`));
    pool.setAdminState(b, 'draining');
    pool.setAdminState(c, 'disabled');
    assert.deepEqual(ids(pool), ['a']);
    assert.deepEqual(events, ['b:enabled->draining', 'c:enabled->disabled']);
    assert.equal(pool.mayServeSticky(a), true);
    assert.equal(pool.mayServeSticky(b), true, 'draining: pinned clients stay');
    assert.equal(pool.mayServeSticky(c), false, 'disabled: pinned clients move');
    assert.equal(pool.mayServeSticky(w), true, 'weight 0: pinned clients stay');
    pool.setHealthy(a, false);
    assert.equal(pool.mayServeSticky(a), false, 'unhealthy');
    pool.setAdminState(c, 'enabled');
    assert.deepEqual(ids(pool), ['c']);
    const removed = pool.remove('c')!;
    assert.equal(pool.mayServeSticky(removed), false, 'not in the pool');
  });
});

describe('UpstreamPool: outlier ejection', () => {
  it('ejects after consecutive failures and returns after the ejection time', async () => {
    const pool = new UpstreamPool([backend('a'), backend('b'), backend('c')], {
      outlier: { consecutiveFailures: 3, baseEjectionMs: 50 },
    });
    const a = pool.get('a')!;
    const ejected = within<[Upstream, number]>(pool, 'backend:ejected', 2000);
    const before = Date.now();
    failTimes(pool, a, 2);
    pool.recordResult(a, true);
    failTimes(pool, a, 2);
    assert.deepEqual(ids(pool), ['a', 'b', 'c'], 'a success broke the streak');
    pool.recordResult(a, false);
    const [who, untilMs] = await ejected;
    assert.equal(who, a);
    assert.ok(untilMs >= before + 50 && untilMs === a.ejectedUntil);
    assert.deepEqual(ids(pool), ['b', 'c']);
    assert.equal(pool.mayServeSticky(a), false);

    const [back] = await within<[Upstream]>(pool, 'backend:returned', 2000);
    assert.equal(back, a);
    assert.equal(a.ejectedUntil, 0);
    assert.ok(Date.now() >= untilMs);
    assert.deepEqual(ids(pool), ['a', 'b', 'c']);
    assert.equal(pool.mayServeSticky(a), true);
    await pool.close();
  });

  it('never ejects more than maxEjectionPercent of the pool', async () => {
    const pool = new UpstreamPool([backend('a'), backend('b'), backend('c'), backend('d')], {
      outlier: { consecutiveFailures: 1, baseEjectionMs: 60_000, maxEjectionPercent: 50 },
    });
    for (const u of pool.all) pool.recordResult(u, false);
    assert.deepEqual(ids(pool), ['c', 'd']);
    assert.equal(pool.all.filter((u) => u.ejectedUntil > 0).length, 2);
    pool.remove('a');
    pool.add(new Upstream(backend('e')));
    pool.add(new Upstream(backend('f')));
    pool.recordResult(pool.get('c')!, false);
    assert.deepEqual(ids(pool), ['d', 'e', 'f'], 'with room again (2 of 5), the refused backend is ejected');
    await pool.close();
  });

  it('outlier: false turns passive health off', () => {
    const pool = new UpstreamPool([backend('a'), backend('b')], { outlier: false });
    failTimes(pool, pool.get('a')!, 100);
    assert.deepEqual(ids(pool), ['a', 'b']);
  });

  it('remove() and close() cancel pending returns', async () => {
    const pool = new UpstreamPool([backend('a'), backend('b'), backend('c'), backend('d')], {
      outlier: { consecutiveFailures: 1, baseEjectionMs: 30 },
    });
    let returned = 0;
    pool.on('backend:returned', () => returned++);
    pool.recordResult(pool.get('a')!, false);
    pool.recordResult(pool.get('b')!, false);
    const a = pool.remove('a')!;
    assert.equal(a.ejectedUntil, 0);
    await pool.close();
    await pool.close();
    pool.recordResult(pool.get('c')!, false);
    assert.deepEqual(ids(pool), ['c', 'd'], 'no ejection after close()');
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(returned, 0);
  });

  it('schedules returns in order, re-arming one timer', async () => {
    const pool = new UpstreamPool([backend('a'), backend('b'), backend('c'), backend('d')], {
      outlier: { consecutiveFailures: 1, baseEjectionMs: 40 },
    });
    const order: string[] = [];
    pool.on('backend:returned', (u) => order.push(u.id));
    pool.recordResult(pool.get('b')!, false);
    await new Promise((resolve) => setTimeout(resolve, 10));
    pool.recordResult(pool.get('a')!, false);
    await within(pool, 'backend:returned', 2000);
    await within(pool, 'backend:returned', 2000);
    assert.deepEqual(order, ['b', 'a']);
    assert.deepEqual(ids(pool), ['a', 'b', 'c', 'd']);
    await pool.close();
  });
});

describe('UpstreamPool: when all are down', () => {
  /** a unhealthy, b ejected, c disabled, d weight 0, e draining. */
  function allDown(whenAllDown: 'reject' | 'fail-open'): UpstreamPool {
    const now = fakeClock();
    const pool = new UpstreamPool([backend('a'), backend('b'), backend('c'), backend('d', 0), backend('e')], {
      whenAllDown,
      now,
      outlier: { consecutiveFailures: 1, baseEjectionMs: 60_000 },
    });
    pool.setHealthy(pool.get('a')!, false);
    pool.recordResult(pool.get('b')!, false);
    pool.setAdminState(pool.get('c')!, 'disabled');
    pool.setAdminState(pool.get('e')!, 'draining');
    return pool;
  }

  it('reject: no candidates', async () => {
    const pool = allDown('reject');
    assert.deepEqual(ids(pool), []);
    assert.equal(pool.panicking, false);
    assert.equal(pool.mayServeSticky(pool.get('a')!), false);
    await pool.close();
  });

  it('fail-open: every enabled backend with weight > 0, until one qualifies again', async () => {
    const pool = allDown('fail-open');
    assert.deepEqual(ids(pool), ['a', 'b']);
    assert.equal(pool.panicking, true);
    assert.equal(pool.mayServeSticky(pool.get('a')!), true, 'in panic, pinned clients stay put');
    assert.equal(pool.mayServeSticky(pool.get('c')!), false, 'but never on a disabled backend');
    const panic: boolean[] = [];
    pool.on('pool:panic', (p) => panic.push(p));
    pool.setHealthy(pool.get('a')!, true);
    assert.deepEqual(ids(pool), ['a']);
    assert.equal(pool.panicking, false);
    pool.setAdminState(pool.get('a')!, 'disabled');
    assert.deepEqual(ids(pool), ['b']);
    assert.deepEqual(panic, [false, true]);
    await pool.close();
  });

  it('fail-open with nothing enabled: empty, not panicking', () => {
    const pool = new UpstreamPool([backend('a')], { whenAllDown: 'fail-open' });
    pool.setAdminState(pool.get('a')!, 'disabled');
    assert.deepEqual(ids(pool), []);
    assert.equal(pool.panicking, false);
  });
});
