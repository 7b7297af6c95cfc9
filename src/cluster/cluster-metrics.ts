/**
 * @module cluster/cluster-metrics: the cluster's own Prometheus metrics, read from its status at scrape time (the
 * primary's dispatch path never touches them): per worker slot its state, restarts and latest figures, and the
 * connections dispatched and dropped.
 */
import { Gauge, Registry } from 'prom-client';
import type { WorkerStats } from './messages.js';
import type { ClusterStatus } from './cluster-status.js';

const PER_WORKER: ReadonlyArray<readonly [name: string, help: string, read: (s: WorkerStats) => number]> = [
  ['worker_event_loop_utilization', 'Event-loop utilisation over the last stats interval (0..1).', (s) => s.elu],
  ['worker_event_loop_delay_p99_seconds', 'Event-loop delay p99 over the last stats interval.', (s) => s.delayP99Ms / 1000],
  ['worker_cpu_percent', 'CPU used over the last stats interval, % of one core.', (s) => s.cpuPercent],
  ['worker_rss_bytes', 'Resident set size.', (s) => s.rssBytes],
  ['worker_heap_used_bytes', 'V8 heap used.', (s) => s.heapUsedBytes],
  ['worker_connections', 'Open client connections.', (s) => s.connections],
  ['worker_inflight_requests', 'Requests being answered.', (s) => s.inflight],
];

/** A registry of `keyway_cluster_*` gauges that read `status()` when scraped. */
export function clusterRegistry(status: () => ClusterStatus): Registry {
  const registry = new Registry();
  const p = 'keyway_cluster_';
  new Gauge({
    name: `${p}worker_up`,
    help: 'Whether the worker slot has a worker in rotation (1) or not (0).',
    labelNames: ['slot'],
    registers: [registry],
    collect() {
      this.reset();
      for (const w of status().workers) this.set({ slot: String(w.slot) }, w.state === 'ready' ? 1 : 0);
    },
  });
  new Gauge({
    name: `${p}worker_restarts`,
    help: 'Times the worker slot was respawned after a crash.',
    labelNames: ['slot'],
    registers: [registry],
    collect() {
      this.reset();
      for (const w of status().workers) this.set({ slot: String(w.slot) }, w.restarts);
    },
  });
  for (const [name, help, read] of PER_WORKER) {
    new Gauge({
      name: `${p}${name}`,
      help,
      labelNames: ['slot'],
      registers: [registry],
      collect() {
        this.reset();
        for (const w of status().workers) if (w.stats !== null) this.set({ slot: String(w.slot) }, read(w.stats));
      },
    });
  }
  new Gauge({
    name: `${p}connections_dispatched`,
    help: 'Client connections handed to workers since the start.',
    registers: [registry],
    collect() {
      this.set(status().dispatched);
    },
  });
  new Gauge({
    name: `${p}connections_dropped`,
    help: 'Client connections closed because no worker was ready in time.',
    registers: [registry],
    collect() {
      this.set(status().dropped);
    },
  });
  return registry;
}
