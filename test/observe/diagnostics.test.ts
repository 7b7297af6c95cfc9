/**
 * The diagnostics channels: a subscriber sees each request's start and end, each pick (retries included) and each
 * health transition, with the documented shapes; with no subscriber nothing is published.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import diagnostics_channel from 'node:diagnostics_channel';
import { CHANNEL_NAMES } from '../../src/observe/index.js';
import { backendSet, deadPort } from '../helpers/backends.js';
import { startGateway } from '../helpers/gateway.js';
import { request } from '../helpers/http.js';
import { until } from '../helpers/wait.js';

test('the channel names follow keyway:<area>:<event>', () => {
  assert.deepEqual(CHANNEL_NAMES.sort(), [
    'keyway:balancer:pick',
    'keyway:coordinator:ownership',
    'keyway:health:transition',
    'keyway:proxy:request-end',
    'keyway:proxy:request-start',
  ]);
});

test('requests, picks (and a retry) and health transitions are published', { timeout: 15_000 }, async (t) => {
  const seen: Record<string, Record<string, unknown>[]> = {};
  const subscribers = CHANNEL_NAMES.map((name) => {
    const fn = (m: unknown): void => void (seen[name] ??= []).push(m as Record<string, unknown>);
    diagnostics_channel.subscribe(name, fn);
    return () => diagnostics_channel.unsubscribe(name, fn);
  });
  t.after(() => subscribers.forEach((off) => off()));
  const start = backendSet();
  t.after(start.closeAll);
  const [a] = await start('a');
  const dead = await deadPort();
  const gw = await startGateway({
    sticky: false,
    strategy: 'round-robin',
    outlier: false,
    health: { interval: 100, rise: 1, fall: 1, timeout: 200 },
    backends: [{ id: 'a', url: a!.url }, { id: 'b', url: `http://127.0.0.1:${dead}` }],
  });
  t.after(gw.close);
  // `b` is refused: the first round may still count it up until its first probe; a request there is retried on `a`.
  for (let i = 0; i < 4; i++) assert.equal((await request(gw.port, { path: `/r${i}` })).status, 200);
  const starts = seen['keyway:proxy:request-start'] ?? [];
  const ends = seen['keyway:proxy:request-end'] ?? [];
  assert.equal(starts.length, 4);
  assert.equal(ends.length, 4);
  assert.deepEqual(Object.keys(ends[0]!).sort(), ['attempts', 'backend', 'durationMs', 'pool', 'req', 'status']);
  assert.ok(ends.every((e) => e.status === 200 && e.pool === 'default' && e.backend === 'a'));
  const picks = seen['keyway:balancer:pick'] ?? [];
  assert.ok(picks.length >= 4);
  assert.ok(picks.every((p) => typeof p.retry === 'boolean' && p.fallback === false));
  await a!.close();
  await until(() => (seen['keyway:health:transition'] ?? []).some((h) => h.backend === 'a' && h.transition === 'down'), 3000);
  assert.deepEqual((seen['keyway:health:transition'] ?? []).find((h) => h.backend === 'a'), { pool: 'default', backend: 'a', transition: 'down' });
});
