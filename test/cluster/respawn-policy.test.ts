/** When a worker that exited is started again: a doubling delay, reset by a stable run; a breaker after a crash loop. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RespawnPolicy } from '../../src/cluster/index.js';

const policy = () => new RespawnPolicy({ initialMs: 100, maxMs: 1000, maxCrashes: 6, windowMs: 60_000, stableMs: 30_000 });

test('crashes in a row double the delay up to maxMs, then the slot is given up', () => {
  const p = policy();
  const delays = [0, 1, 2, 3, 4].map((i) => p.exited(50, i * 10));
  assert.deepEqual(delays.map((d) => (d.respawn ? d.delayMs : null)), [100, 200, 400, 800, 1000]);
  assert.deepEqual(p.exited(50, 60), { respawn: false, crashes: 6 });
});

test('a worker that ran past stableMs starts the delay over; crashes older than the window do not count', () => {
  const p = policy();
  p.exited(50, 0);
  p.exited(50, 1);
  assert.deepEqual(p.exited(31_000, 2), { respawn: true, delayMs: 100 });
  const q = policy();
  for (let i = 0; i < 5; i++) q.exited(50, i);
  assert.equal(q.exited(50, 70_000).respawn, true, 'the five early crashes fell out of the window');
});
