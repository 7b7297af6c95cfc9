/** @module test/health/rise-fall: table-driven transitions of the pure rise/fall state machine. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RiseFall } from '../../src/health/index.js';

const T = true;
const F = false;

interface Row {
  readonly name: string;
  readonly rise: number;
  readonly fall: number;
  readonly healthy: boolean;
  readonly inputs: readonly boolean[];
  /** The verdict returned after each input. */
  readonly verdicts: readonly boolean[];
}

const rows: readonly Row[] = [
  { name: 'healthy stays healthy on successes', rise: 2, fall: 3, healthy: T, inputs: [T, T, T], verdicts: [T, T, T] },
  { name: 'turns unhealthy after fall failures', rise: 2, fall: 3, healthy: T, inputs: [F, F, F], verdicts: [T, T, F] },
  { name: 'a success resets the failure streak', rise: 2, fall: 3, healthy: T, inputs: [F, F, T, F, F, F], verdicts: [T, T, T, T, T, F] },
  { name: 'turns healthy after rise successes', rise: 2, fall: 3, healthy: F, inputs: [T, T], verdicts: [F, T] },
  { name: 'a failure resets the success streak', rise: 3, fall: 2, healthy: F, inputs: [T, T, F, T, T, T], verdicts: [F, F, F, F, F, T] },
  { name: 'unhealthy stays unhealthy on failures', rise: 2, fall: 2, healthy: F, inputs: [F, F, F], verdicts: [F, F, F] },
  { name: 'rise 1 and fall 1 follow every result', rise: 1, fall: 1, healthy: T, inputs: [F, T, F, F, T], verdicts: [F, T, F, F, T] },
  { name: 'down then up then down again', rise: 2, fall: 2, healthy: T, inputs: [F, F, T, T, F, F], verdicts: [T, F, F, T, T, F] },
  { name: 'successes while healthy do not count towards a later rise', rise: 2, fall: 1, healthy: T, inputs: [T, T, F, T, T], verdicts: [T, T, F, F, T] },
];

describe('RiseFall', () => {
  for (const row of rows) {
    it(row.name, () => {
      const rf = new RiseFall({ rise: row.rise, fall: row.fall, healthy: row.healthy });
      const verdicts = row.inputs.map((ok) => rf.record(ok));
      assert.deepEqual(verdicts, row.verdicts);
      assert.equal(rf.healthy, row.verdicts.at(-1));
    });
  }

  it('reset() forces a verdict and forgets both streaks', () => {
    const rf = new RiseFall({ rise: 2, fall: 2, healthy: T });
    rf.record(F);
    rf.reset(T);
    assert.equal(rf.record(F), T, 'the failure before reset() no longer counts');
    rf.reset(F);
    assert.equal(rf.healthy, F);
    assert.equal(rf.record(T), F);
    assert.equal(rf.record(T), T);
  });

  it('rejects rise or fall below 1', () => {
    assert.throws(() => new RiseFall({ rise: 0, fall: 1, healthy: T }), RangeError);
    assert.throws(() => new RiseFall({ rise: 1, fall: 1.5, healthy: T }), RangeError);
  });
});
