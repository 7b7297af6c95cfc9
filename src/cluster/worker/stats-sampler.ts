/**
 * @module cluster/worker/stats-sampler: a worker's figures for the primary, sampled every interval: CPU and
 * event-loop utilisation since the last sample, the event-loop delay p99 over it, memory, and the work in hand.
 */
import { monitorEventLoopDelay, performance, type EventLoopUtilization } from 'node:perf_hooks';
import type { WorkerStats } from '../messages.js';

export class StatsSampler {
  readonly #delay = monitorEventLoopDelay({ resolution: 10 });
  #elu: EventLoopUtilization = performance.eventLoopUtilization();
  #cpu = process.cpuUsage();
  #at = performance.now();

  constructor() {
    this.#delay.enable();
  }

  sample(connections: number, inflight: number): WorkerStats {
    const now = performance.now();
    const elu = performance.eventLoopUtilization(this.#elu);
    const cpu = process.cpuUsage(this.#cpu);
    const wallUs = Math.max(1, (now - this.#at) * 1000);
    const mem = process.memoryUsage();
    const stats: WorkerStats = {
      pid: process.pid,
      cpuPercent: ((cpu.user + cpu.system) / wallUs) * 100,
      elu: elu.utilization,
      delayP99Ms: this.#delay.percentile(99) / 1e6,
      rssBytes: mem.rss,
      heapUsedBytes: mem.heapUsed,
      heapTotalBytes: mem.heapTotal,
      connections,
      inflight,
      uptimeMs: Math.round(process.uptime() * 1000),
    };
    this.#elu = performance.eventLoopUtilization();
    this.#cpu = process.cpuUsage();
    this.#at = now;
    this.#delay.reset();
    return stats;
  }
}
