import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { slowStartFactor } from '../../src/upstream/index.js';

describe('slowStartFactor', () => {
  const cases: [elapsedMs: number, slowStartMs: number, factor: number][] = [
    [0, 1000, 0.1],
    [-50, 1000, 0.1],
    [500, 1000, 0.55],
    [250, 1000, 0.325],
    [999, 1000, 0.1 + 0.9 * 0.999],
    [1000, 1000, 1],
    [5000, 1000, 1],
    [0, 0, 1],
    [123, -1, 1],
  ];
  for (const [elapsed, window, factor] of cases) {
    it(`${elapsed} ms into ${window} ms -> ${factor}`, () => {
      assert.ok(Math.abs(slowStartFactor(elapsed, window) - factor) < 1e-12);
    });
  }

  it('never decreases over the window', () => {
    let previous = 0;
    for (let t = -10; t <= 1010; t += 7) {
      const f = slowStartFactor(t, 1000);
      assert.ok(f >= previous && f >= 0.1 && f <= 1);
      previous = f;
    }
  });
});
