import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { OutlierDetector } from '../../src/upstream/index.js';
import { fakeClock } from './fixtures.js';

/** Feeds `n` failures; returns the verdict of each. */
function fail(d: OutlierDetector, id: string, n: number, total = 10, ejectedNow = 0): ('eject' | null)[] {
  return Array.from({ length: n }, () => d.record(id, false, total, ejectedNow));
}

describe('OutlierDetector', () => {
  const cases: { name: string; options: { consecutiveFailures?: number }; failures: number; ejects: boolean }[] = [
    { name: 'default 5: 4 failures do not eject', options: {}, failures: 4, ejects: false },
    { name: 'default 5: the 5th failure ejects', options: {}, failures: 5, ejects: true },
    { name: '1: the first failure ejects', options: { consecutiveFailures: 1 }, failures: 1, ejects: true },
    { name: '3: 2 failures do not eject', options: { consecutiveFailures: 3 }, failures: 2, ejects: false },
    { name: '3: 3 failures eject', options: { consecutiveFailures: 3 }, failures: 3, ejects: true },
  ];
  for (const c of cases) {
    it(`ejects after N consecutive failures (${c.name})`, () => {
      const clock = fakeClock();
      const d = new OutlierDetector({ ...c.options, now: clock });
      const verdicts = fail(d, 'a', c.failures);
      assert.deepEqual(verdicts.slice(0, -1), new Array<null>(c.failures - 1).fill(null));
      assert.equal(verdicts.at(-1), c.ejects ? 'eject' : null);
      assert.equal(d.due('a'), c.ejects ? clock() + 30_000 : undefined);
    });
  }

  it('a success ends the streak', () => {
    const d = new OutlierDetector({ consecutiveFailures: 3 });
    fail(d, 'a', 2);
    assert.equal(d.record('a', true, 10, 0), null);
    assert.deepEqual(fail(d, 'a', 2), [null, null]);
    assert.deepEqual(fail(d, 'a', 1), ['eject']);
  });

  it('keeps streaks per id', () => {
    const d = new OutlierDetector({ consecutiveFailures: 2 });
    fail(d, 'a', 1);
    fail(d, 'b', 1);
    d.record('b', true, 10, 0);
    assert.deepEqual(fail(d, 'a', 1), ['eject']);
    assert.deepEqual(fail(d, 'b', 1), [null]);
  });

  it('ignores results while ejected and needs a full new streak after release', () => {
    const clock = fakeClock();
    const d = new OutlierDetector({ consecutiveFailures: 2, now: clock });
    fail(d, 'a', 2);
    const due = d.due('a');
    assert.deepEqual(fail(d, 'a', 5), [null, null, null, null, null]);
    assert.equal(d.due('a'), due);
    clock.advance(30_000);
    assert.equal(d.release('a'), true);
    assert.equal(d.release('a'), false, 'releasing twice is a no-op');
    assert.equal(d.due('a'), undefined);
    assert.deepEqual(fail(d, 'a', 2), [null, 'eject']);
  });

  it('multiplies the ejection time by the ejection count and caps it at maxEjectionMs', () => {
    const clock = fakeClock();
    const d = new OutlierDetector({ consecutiveFailures: 1, baseEjectionMs: 100, maxEjectionMs: 350, now: clock });
    const durations: number[] = [];
    for (let i = 0; i < 5; i++) {
      assert.deepEqual(fail(d, 'a', 1), ['eject']);
      durations.push(d.due('a')! - clock());
      clock.advance(durations.at(-1)!);
      d.release('a');
      clock.advance(10); // well within maxEjectionMs: still on probation
    }
    assert.deepEqual(durations, [100, 200, 300, 350, 350]);
    assert.equal(d.ejections('a'), 5);
  });

  it('resets the multiplier after the backend stays in for maxEjectionMs', () => {
    const clock = fakeClock();
    const d = new OutlierDetector({ consecutiveFailures: 1, baseEjectionMs: 100, maxEjectionMs: 1000, now: clock });
    fail(d, 'a', 1);
    clock.advance(100);
    d.release('a');
    clock.advance(999);
    fail(d, 'a', 1);
    assert.equal(d.due('a')! - clock(), 200, 'still on probation: the second ejection is longer');
    clock.advance(200);
    d.release('a');
    clock.advance(1000);
    assert.equal(d.ejections('a'), 0);
    fail(d, 'a', 1);
    assert.equal(d.due('a')! - clock(), 100, 'probation over: back to the base time');
  });

  const percentCases: { total: number; ejectedNow: number; max: number; ejects: boolean }[] = [
    { total: 1, ejectedNow: 0, max: 50, ejects: false },
    { total: 2, ejectedNow: 0, max: 50, ejects: true },
    { total: 2, ejectedNow: 1, max: 50, ejects: false },
    { total: 2, ejectedNow: 0, max: 49, ejects: false },
    { total: 10, ejectedNow: 4, max: 50, ejects: true },
    { total: 10, ejectedNow: 5, max: 50, ejects: false },
    { total: 3, ejectedNow: 2, max: 100, ejects: true },
    { total: 3, ejectedNow: 0, max: 0, ejects: false },
  ];
  for (const c of percentCases) {
    it(`maxEjectionPercent ${c.max}: ${c.ejectedNow} of ${c.total} ejected -> ${c.ejects ? 'ejects' : 'refuses'}`, () => {
      const d = new OutlierDetector({ consecutiveFailures: 1, maxEjectionPercent: c.max });
      assert.equal(d.record('a', false, c.total, c.ejectedNow), c.ejects ? 'eject' : null);
    });
  }

  it('keeps counting after a refusal and ejects once there is room', () => {
    const d = new OutlierDetector({ consecutiveFailures: 3 });
    assert.deepEqual(fail(d, 'a', 4, 2, 1), [null, null, null, null]);
    assert.equal(d.record('a', false, 2, 0), 'eject');
  });

  it('forget() drops the history', () => {
    const d = new OutlierDetector({ consecutiveFailures: 1 });
    fail(d, 'a', 1);
    d.forget('a');
    assert.equal(d.due('a'), undefined);
    assert.equal(d.ejections('a'), 0);
  });

  it('rejects invalid options', () => {
    assert.throws(() => new OutlierDetector({ consecutiveFailures: 0 }), RangeError);
    assert.throws(() => new OutlierDetector({ consecutiveFailures: 1.5 }), RangeError);
    assert.throws(() => new OutlierDetector({ baseEjectionMs: 0 }), RangeError);
    assert.throws(() => new OutlierDetector({ baseEjectionMs: 100, maxEjectionMs: 50 }), RangeError);
    assert.throws(() => new OutlierDetector({ maxEjectionPercent: 101 }), RangeError);
    assert.throws(() => new OutlierDetector({ maxEjectionPercent: Number.NaN }), RangeError);
  });
});
