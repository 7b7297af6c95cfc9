/** Where the next connection goes: the less busy of two random ready workers, on their last figures. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { busyness, pickWorker, type Candidate } from '../../src/cluster/index.js';
import type { WorkerStats } from '../../src/cluster/index.js';

const stats = (over: Partial<WorkerStats>): WorkerStats => ({
  pid: 1, cpuPercent: 0, elu: 0, delayP99Ms: 0, rssBytes: 0, heapUsedBytes: 0, heapTotalBytes: 0, connections: 0, inflight: 0, uptimeMs: 0, ...over,
});
const c = (slot: number, s: Partial<WorkerStats> | null, sent = 0): Candidate => ({ slot, stats: s === null ? null : stats(s), sentSinceStats: sent });

test('none: null; one: that one', () => {
  assert.equal(pickWorker([]), null);
  assert.equal(pickWorker([c(0, {})])?.slot, 0);
});

test('a busy event loop loses to an idle one whatever either holds; delay past 50 ms counts as saturated', () => {
  assert.ok(busyness(c(0, { elu: 0.9 })) > busyness(c(1, { elu: 0.1, connections: 20 })));
  assert.equal(busyness(c(0, { delayP99Ms: 500 })), busyness(c(0, { delayP99Ms: 50 })));
  for (let i = 0; i < 50; i++) assert.equal(pickWorker([c(0, { elu: 0.95 }), c(1, { elu: 0.05 })])?.slot, 1);
});

test('connections sent since the last figures count, so one sample does not pile every connection onto one worker', () => {
  assert.equal(pickWorker([c(0, {}, 5), c(1, {}, 0)])?.slot, 1);
  assert.equal(busyness(c(0, null, 3)), 3);
});

test('two random candidates: over many picks among equals, every worker is chosen', () => {
  const seen = new Set<number>();
  const all = [0, 1, 2, 3].map((i) => c(i, {}));
  for (let i = 0; i < 200; i++) seen.add(pickWorker(all)!.slot);
  assert.deepEqual([...seen].sort(), [0, 1, 2, 3]);
});
