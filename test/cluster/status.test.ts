/**
 * The primary's status endpoint (`statusPort`, loopback): `GET /status` lists every worker with its figures, and
 * `GET /metrics` is Prometheus text of the cluster's gauges; anything else is 404.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { ClusterPrimary, type ClusterStatus } from '../../src/cluster/index.js';

const APP = fileURLToPath(new URL('./fixtures/headers-app.js', import.meta.url));
const primaries: ClusterPrimary[] = [];
after(async () => {
  await Promise.all(primaries.map((p) => p.close()));
});

test('GET /status and GET /metrics on the status port', { timeout: 30_000 }, async () => {
  const primary = new ClusterPrimary({ script: APP, workers: 2, port: 0, host: '127.0.0.1', statusPort: 0, graceMs: 1000 });
  primaries.push(primary);
  const port = await primary.start();
  const end = Date.now() + 10_000;
  while (primary.status.workers.some((w) => w.state !== 'ready' || w.stats === null) && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
  for (let i = 0; i < 10; i++) await (await fetch(`http://127.0.0.1:${port}/`, { headers: { connection: 'close' } })).text();
  const base = `http://127.0.0.1:${primary.statusPort}`;
  const status = (await (await fetch(`${base}/status`)).json()) as ClusterStatus;
  assert.equal(status.port, port);
  assert.deepEqual(status.workers.map((w) => [w.slot, w.state]), [[0, 'ready'], [1, 'ready']]);
  assert.ok(status.workers.every((w) => typeof w.pid === 'number' && w.stats !== null && w.stats.rssBytes > 0));
  assert.ok(status.dispatched >= 10);
  const metrics = await (await fetch(`${base}/metrics`)).text();
  assert.match(metrics, /keyway_cluster_worker_up\{slot="0"\} 1/);
  assert.match(metrics, /keyway_cluster_worker_up\{slot="1"\} 1/);
  assert.match(metrics, /keyway_cluster_worker_rss_bytes\{slot="1"\} \d+/);
  assert.match(metrics, /keyway_cluster_connections_dispatched \d+/);
  assert.equal((await fetch(`${base}/nothing`)).status, 404);
});
