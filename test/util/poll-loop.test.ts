/**
 * The one jittered poller: rounds never overlap, the wait counts from a round's end, a stopped loop applies nothing
 * (even a round already in flight) and polls no more, a throwing `apply` keeps the schedule, and `after` orders the
 * application of a batch of rounds.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PollLoop, type PollLoopOptions } from '../../src/util/index.js';
import { until } from '../helpers/wait.js';

function loop<R>(read: (signal: AbortSignal) => Promise<R>, overrides: Partial<PollLoopOptions<R>> = {}) {
  const applied: R[] = [];
  const errors: unknown[] = [];
  const inflight = new Set<Promise<unknown>>();
  const l = new PollLoop<R>({
    read,
    apply: (r) => applied.push(r),
    intervalMs: () => 30,
    random: () => 0.5,
    onError: (err) => errors.push(err),
    inflight,
    ...overrides,
  });
  return { l, applied, errors, inflight };
}

const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('rounds never overlap and the next waits intervalMs from the end of the previous one', async () => {
  let active = 0;
  let most = 0;
  const starts: number[] = [];
  const ends: number[] = [];
  const { l } = loop(async () => {
    active++;
    most = Math.max(most, active);
    starts.push(Date.now());
    await delay(40); // slower than the interval
    ends.push(Date.now());
    active--;
    return 1;
  });
  await l.runNow();
  await until(() => starts.length >= 4, 2000);
  l.stop();
  assert.equal(most, 1);
  for (let i = 1; i < starts.length; i++) assert.ok((starts[i] as number) - (ends[i - 1] as number) >= 25, 'waits from the end');
});

test('runNow returns the round in flight instead of starting another', async () => {
  let reads = 0;
  const { l } = loop(async () => {
    reads++;
    await delay(20);
    return reads;
  });
  const a = l.runNow();
  const b = l.runNow();
  assert.equal(a, b);
  await a;
  l.stop();
  assert.equal(reads, 1);
});

test('stop(): the round in flight is aborted and not applied; nothing more is read', async () => {
  let reads = 0;
  let aborted = false;
  const { l, applied, inflight } = loop(async (signal) => {
    reads++;
    signal.addEventListener('abort', () => (aborted = true));
    await delay(30);
    return 'late';
  });
  const round = l.runNow();
  l.stop();
  await round;
  await Promise.all(inflight);
  await delay(80);
  assert.deepEqual(applied, []);
  assert.equal(aborted, true);
  assert.equal(reads, 1);
});

test('a throwing apply is reported and the schedule goes on', async () => {
  let reads = 0;
  const { l, errors } = loop(
    async () => ++reads,
    {
      apply: () => {
        throw new Error('listener');
      },
    },
  );
  await l.runNow();
  await until(() => reads >= 3, 2000);
  l.stop();
  assert.ok(errors.length >= 2);
});

test('after: results are applied in the order the rounds were chained, whatever order the reads end in', async () => {
  const order: string[] = [];
  const slow = loop(async () => {
    await delay(40);
    return 'slow';
  }, { apply: (r) => order.push(r) });
  const fast = loop(async () => 'fast', { apply: (r) => order.push(r) });
  const first = slow.l.runNow();
  const second = fast.l.runNow(first);
  await Promise.all([first, second]);
  slow.l.stop();
  fast.l.stop();
  assert.deepEqual(order, ['slow', 'fast']);
});
