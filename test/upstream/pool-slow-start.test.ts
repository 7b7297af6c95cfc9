import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createStrategy, type Strategy } from '../../src/balancer/index.js';
import { STRATEGY_NAMES } from '../../src/config/index.js';
import { Upstream, UpstreamPool } from '../../src/upstream/index.js';
import { backend, fakeClock, until, within } from './fixtures.js';

const near = (actual: number, expected: number): boolean => Math.abs(actual - expected) < 1e-9;

describe('UpstreamPool: slow start', () => {
  it('backends present at construction start at full weight', async () => {
    const pool = new UpstreamPool([backend('a', 4)], { slowStartMs: 1000 });
    assert.equal(pool.get('a')!.weight, 4);
    await pool.close();
  });

  it('ramps a backend that turns healthy from 10% to its full weight, then stops', async () => {
    const pool = new UpstreamPool([backend('a', 10), backend('b', 10)], { slowStartMs: 300 });
    const a = pool.get('a')!;
    pool.setHealthy(a, false);
    pool.setHealthy(a, true);
    assert.equal(a.weight, 1, 'starts at 10%');
    assert.equal(a.configuredWeight, 10);
    assert.equal(pool.candidates().find((u) => u.id === 'a')!.weight, 1);
    const seen = [a.weight];
    let array = pool.candidates();
    await until(
      () => {
        if (pool.candidates() !== array) {
          array = pool.candidates();
          seen.push(a.weight);
        }
        return a.weight === 10;
      },
      5000,
      'the ramp to end',
    );
    assert.ok(seen.length >= 2, 'strategies saw new arrays while it ramped');
    for (let i = 1; i < seen.length; i++) assert.ok(seen[i]! > seen[i - 1]!, `weights rise: ${seen.join(', ')}`);
    const last = pool.candidates();
    await new Promise((resolve) => setTimeout(resolve, 250));
    assert.equal(pool.candidates(), last, 'the ticker stopped with the ramp');
    await pool.close();
  });

  it('follows the clock: weight = configured × factor at each tick', async () => {
    const now = fakeClock();
    const pool = new UpstreamPool([backend('a', 4), backend('b')], { slowStartMs: 1000, now });
    const a = pool.get('a')!;
    pool.setAdminState(a, 'disabled');
    pool.setAdminState(a, 'enabled');
    assert.ok(near(a.weight, 0.4));
    now.advance(500);
    const before = pool.candidates();
    await until(() => pool.candidates() !== before, 2000, 'a tick');
    assert.ok(near(a.weight, 4 * 0.55), `got ${a.weight}`);
    pool.setWeight(a, 2);
    assert.ok(near(a.weight, 2 * 0.55), 'a new configured weight is scaled too');
    now.advance(500);
    await until(() => a.weight === 2, 2000, 'the ramp to end');
    await pool.close();
  });

  it('ramps after an ejection, and a backend added at runtime', async () => {
    const pool = new UpstreamPool([backend('a', 2), backend('b'), backend('c')], {
      slowStartMs: 60_000,
      outlier: { consecutiveFailures: 1, baseEjectionMs: 20 },
    });
    const a = pool.get('a')!;
    pool.recordResult(a, false);
    await within(pool, 'backend:returned', 2000);
    assert.ok(near(a.weight, 0.2));
    const late = new Upstream(backend('late', 3));
    pool.add(late);
    assert.ok(near(late.weight, 0.3));
    const cold = new Upstream(backend('cold', 3));
    cold.healthy = false;
    pool.add(cold);
    assert.equal(cold.weight, 3, 'not healthy yet: it ramps once it is');
    pool.setHealthy(cold, true);
    assert.ok(near(cold.weight, 0.3));
    await pool.close();
    assert.equal(a.weight, 2, 'close() ends ramps at full weight');
  });
});

describe('fractional weights with every strategy', () => {
  /** a ramps at 10% of 3 (0.3), b has weight 1: a's expected share is 0.3 / 1.3. */
  async function shares(strategy: Strategy, n: number): Promise<number> {
    const pool = new UpstreamPool([backend('a', 3), backend('b')], { slowStartMs: 60_000, now: () => 0 });
    const a = pool.get('a')!;
    pool.setHealthy(a, false);
    pool.setHealthy(a, true);
    assert.ok(near(a.weight, 0.3));
    let picks = 0;
    for (let i = 0; i < n; i++) if (strategy.pick(pool.candidates(), { hashKey: `user-${i}` })?.id === 'a') picks++;
    await pool.close();
    return picks / n;
  }

  for (const name of STRATEGY_NAMES) {
    it(`${name}: picks roughly in proportion`, async () => {
      let seed = 42;
      const random = (): number => {
        seed = (seed * 16807) % 2147483647;
        return seed / 2147483647;
      };
      const share = await shares(createStrategy(name, { random }), 13_000);
      assert.ok(Math.abs(share - 0.3 / 1.3) < 0.04, `share of the ramping backend: ${share}`);
    });
  }

  it('round-robin is exact for fractional weights over a cycle', async () => {
    const pool = new UpstreamPool([backend('a'), backend('b')]);
    pool.setWeight(pool.get('a')!, 0.5);
    const rr = createStrategy('round-robin');
    const counts = { a: 0, b: 0 };
    for (let i = 0; i < 300; i++) counts[rr.pick(pool.candidates(), {})!.id as 'a' | 'b']++;
    assert.deepEqual(counts, { a: 100, b: 200 });
  });
});
