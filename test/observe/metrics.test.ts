import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Registry, register as globalRegistry } from 'prom-client';
import { GatewayMetrics, UPSTREAM_BUCKETS, type BackendSnapshot } from '../../src/observe/index.js';
import { samplesOf, valueOf } from './prom-text.js';

function backend(id: string, over: Partial<BackendSnapshot> = {}): BackendSnapshot {
  return { id, healthy: true, ejected: false, inflight: 0, websockets: 0, weight: 1, ...over };
}

function fixture(initial: BackendSnapshot[] = []): { metrics: GatewayMetrics; list: BackendSnapshot[] } {
  const list = [...initial];
  return { metrics: new GatewayMetrics({ source: { backends: () => list } }), list };
}

test('counters carry backend and code_class; a gateway answer is backend="none"', async () => {
  const { metrics } = fixture();
  metrics.requestFinished('a', 200, 0.004);
  metrics.requestFinished('a', 204, 0.02);
  metrics.requestFinished('a', 502, 0.3);
  metrics.requestFinished('b', 101, undefined);
  metrics.requestFinished('b', 304, 0.001);
  metrics.requestFinished(null, 503, undefined);
  metrics.requestFinished(null, 400, undefined);
  const text = await metrics.render();

  assert.equal(valueOf(text, 'keyway_requests_total', { backend: 'a', code_class: '2xx' }), 2);
  assert.equal(valueOf(text, 'keyway_requests_total', { backend: 'a', code_class: '5xx' }), 1);
  assert.equal(valueOf(text, 'keyway_requests_total', { backend: 'b', code_class: '1xx' }), 1);
  assert.equal(valueOf(text, 'keyway_requests_total', { backend: 'b', code_class: '3xx' }), 1);
  assert.equal(valueOf(text, 'keyway_requests_total', { backend: 'none', code_class: '5xx' }), 1);
  assert.equal(valueOf(text, 'keyway_requests_total', { backend: 'none', code_class: '4xx' }), 1);
  assert.equal(valueOf(text, 'keyway_requests_total', { backend: '', code_class: '5xx' }), undefined);
  // Only classes that happened are exported.
  assert.equal(samplesOf(text, 'keyway_requests_total').length, 6);
  assert.match(text, /# TYPE keyway_requests_total counter/);
});

test('statuses outside 100-599 are clamped, never a new label value', async () => {
  const { metrics } = fixture();
  metrics.requestFinished('a', 0, undefined);
  metrics.requestFinished('a', 999, undefined);
  const text = await metrics.render();
  assert.equal(valueOf(text, 'keyway_requests_total', { backend: 'a', code_class: '1xx' }), 1);
  assert.equal(valueOf(text, 'keyway_requests_total', { backend: 'a', code_class: '5xx' }), 1);
});

test('the upstream histogram has every bucket, a sum and a count, and skips missing times', async () => {
  const { metrics } = fixture();
  metrics.requestFinished('a', 200, 0.004);
  metrics.requestFinished('a', 200, 0.3);
  metrics.requestFinished('a', 502, undefined); // no upstream headers arrived
  metrics.requestFinished(null, 503, 0.5); // no backend: nothing to attribute the time to
  const text = await metrics.render();

  const buckets = samplesOf(text, 'keyway_upstream_response_seconds_bucket');
  assert.deepEqual(
    buckets.map((s) => s.labels.le),
    [...UPSTREAM_BUCKETS.map(String), '+Inf'],
  );
  assert.ok(buckets.every((s) => s.labels.backend === 'a'));
  assert.equal(valueOf(text, 'keyway_upstream_response_seconds_bucket', { backend: 'a', le: '0.001' }), 0);
  assert.equal(valueOf(text, 'keyway_upstream_response_seconds_bucket', { backend: 'a', le: '0.005' }), 1);
  assert.equal(valueOf(text, 'keyway_upstream_response_seconds_bucket', { backend: 'a', le: '0.5' }), 2);
  assert.equal(valueOf(text, 'keyway_upstream_response_seconds_bucket', { backend: 'a', le: '+Inf' }), 2);
  assert.equal(valueOf(text, 'keyway_upstream_response_seconds_count', { backend: 'a' }), 2);
  assert.ok(Math.abs((valueOf(text, 'keyway_upstream_response_seconds_sum', { backend: 'a' }) ?? 0) - 0.304) < 1e-9);
  assert.equal(UPSTREAM_BUCKETS[0], 0.001);
  assert.equal(UPSTREAM_BUCKETS.at(-1), 10);
});

test('event counters: bytes, ejections, retries, retry budget, websockets', async () => {
  const { metrics } = fixture();
  metrics.bytes('a', 100, 7);
  metrics.bytes('a', 50, 0);
  metrics.bytes(null, 20, 0);
  metrics.ejected('a');
  metrics.ejected('a');
  metrics.retried('b');
  metrics.retryBudgetExhausted();
  metrics.websocketOpened('b');
  metrics.websocketOpened('b');
  metrics.websocketOpened('b');
  const text = await metrics.render();

  assert.equal(valueOf(text, 'keyway_bytes_total', { backend: 'a', direction: 'in' }), 150);
  assert.equal(valueOf(text, 'keyway_bytes_total', { backend: 'a', direction: 'out' }), 7);
  assert.equal(valueOf(text, 'keyway_bytes_total', { backend: 'none', direction: 'in' }), 20);
  assert.equal(valueOf(text, 'keyway_ejections_total', { backend: 'a' }), 2);
  assert.equal(valueOf(text, 'keyway_retries_total', { backend: 'b' }), 1);
  assert.equal(valueOf(text, 'keyway_retry_budget_exhausted_total'), 1);
  assert.equal(valueOf(text, 'keyway_websocket_connections_total', { backend: 'b' }), 3);
});

test('gauges read the source at scrape time', async () => {
  const { metrics, list } = fixture([
    backend('a', { inflight: 3, websockets: 1, weight: 2 }),
    backend('b', { healthy: false, ejected: true }),
  ]);
  let text = await metrics.render();
  assert.equal(valueOf(text, 'keyway_inflight_requests', { backend: 'a' }), 3);
  assert.equal(valueOf(text, 'keyway_websockets_active', { backend: 'a' }), 1);
  assert.equal(valueOf(text, 'keyway_backend_weight', { backend: 'a' }), 2);
  assert.equal(valueOf(text, 'keyway_backend_up', { backend: 'a' }), 1);
  assert.equal(valueOf(text, 'keyway_backend_up', { backend: 'b' }), 0);
  assert.equal(valueOf(text, 'keyway_backend_ejected', { backend: 'a' }), 0);
  assert.equal(valueOf(text, 'keyway_backend_ejected', { backend: 'b' }), 1);
  assert.match(text, /# TYPE keyway_inflight_requests gauge/);

  // Change the source between scrapes: a is idle and down, b is gone, c is new.
  list.splice(0, list.length, backend('a', { inflight: 0, healthy: false }), backend('c', { weight: 5 }));
  text = await metrics.render();
  assert.equal(valueOf(text, 'keyway_inflight_requests', { backend: 'a' }), 0);
  assert.equal(valueOf(text, 'keyway_backend_up', { backend: 'a' }), 0);
  assert.equal(valueOf(text, 'keyway_backend_weight', { backend: 'c' }), 5);
  for (const name of ['keyway_inflight_requests', 'keyway_websockets_active', 'keyway_backend_up', 'keyway_backend_ejected', 'keyway_backend_weight']) {
    assert.deepEqual(samplesOf(text, name).map((s) => s.labels.backend).sort(), ['a', 'c'], name);
  }
});

test('forgetBackend removes every series of that backend and only of it', async () => {
  const { metrics } = fixture();
  for (const id of ['a', 'b']) {
    metrics.requestFinished(id, 200, 0.01);
    metrics.requestFinished(id, 500, 0.01);
    metrics.bytes(id, 10, 10);
    metrics.ejected(id);
    metrics.retried(id);
    metrics.websocketOpened(id);
  }
  metrics.forgetBackend('a');
  metrics.forgetBackend('a'); // twice is harmless
  metrics.forgetBackend('never-seen');
  const text = await metrics.render();
  assert.doesNotMatch(text, /backend="a"/);
  assert.equal(valueOf(text, 'keyway_requests_total', { backend: 'b', code_class: '2xx' }), 1);
  assert.equal(valueOf(text, 'keyway_upstream_response_seconds_count', { backend: 'b' }), 2);
  assert.equal(valueOf(text, 'keyway_websocket_connections_total', { backend: 'b' }), 1);

  // A late call starts the backend again from zero rather than resurrecting old totals.
  metrics.requestFinished('a', 200, undefined);
  assert.equal(valueOf(await metrics.render(), 'keyway_requests_total', { backend: 'a', code_class: '2xx' }), 1);
});

test('repeated calls for one label set reuse one cached child', () => {
  const { metrics } = fixture();
  assert.equal(metrics.cachedChildren, 0);
  metrics.requestFinished('a', 200, undefined);
  assert.equal(metrics.cachedChildren, 1);
  for (let i = 0; i < 1000; i++) metrics.requestFinished('a', 200 + (i % 100), undefined);
  assert.equal(metrics.cachedChildren, 1);
  for (let i = 0; i < 1000; i++) metrics.requestFinished('a', 200, 0.01);
  assert.equal(metrics.cachedChildren, 2); // + the histogram child
  for (let i = 0; i < 1000; i++) metrics.bytes('a', 1, 1);
  assert.equal(metrics.cachedChildren, 4);
  metrics.forgetBackend('a');
  assert.equal(metrics.cachedChildren, 0);
});

test('instances have their own registries and never touch the global one', async () => {
  const one = fixture([backend('x')]).metrics;
  const two = fixture([backend('y')]).metrics;
  one.requestFinished('a', 200, undefined);
  one.requestFinished('a', 200, undefined);
  two.requestFinished('a', 200, undefined);
  assert.notEqual(one.registry, two.registry);
  assert.notEqual(one.registry, globalRegistry);
  const t1 = await one.render();
  const t2 = await two.render();
  assert.equal(valueOf(t1, 'keyway_requests_total', { backend: 'a', code_class: '2xx' }), 2);
  assert.equal(valueOf(t2, 'keyway_requests_total', { backend: 'a', code_class: '2xx' }), 1);
  assert.equal(valueOf(t1, 'keyway_backend_up', { backend: 'y' }), undefined);
  assert.equal(globalRegistry.getSingleMetric('keyway_requests_total'), undefined);
  assert.equal(one.contentType, one.registry.contentType);
  assert.match(one.contentType, /^text\/plain/);
});

test('an injected registry, a custom prefix and process metrics', async () => {
  const registry = new Registry();
  const metrics = new GatewayMetrics({ source: { backends: () => [backend('a')] }, prefix: 'gw_', registry, processMetrics: true });
  assert.equal(metrics.registry, registry);
  metrics.requestFinished('a', 200, 0.01);
  metrics.retryBudgetExhausted();
  const text = await registry.metrics();
  assert.equal(valueOf(text, 'gw_requests_total', { backend: 'a', code_class: '2xx' }), 1);
  assert.equal(valueOf(text, 'gw_retry_budget_exhausted_total'), 1);
  assert.equal(valueOf(text, 'gw_backend_up', { backend: 'a' }), 1);
  assert.doesNotMatch(text, /keyway_/);
  assert.match(text, /^process_cpu_seconds_total /m);
  // Without processMetrics, none of prom-client's defaults appear.
  assert.doesNotMatch(await fixture().metrics.render(), /process_cpu_seconds_total/);
});
