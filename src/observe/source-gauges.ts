/**
 * @module observe/source-gauges: per-backend gauges that read a {@link MetricsSource} at scrape time, so the
 * request path never touches them.
 */
import { Gauge, type Registry } from 'prom-client';

/** One backend as the gauges see it at scrape time. */
export interface BackendSnapshot {
  id: string;
  healthy: boolean;
  ejected: boolean;
  /** HTTP requests currently forwarded to this backend. */
  inflight: number;
  /** WebSocket tunnels currently open to this backend. */
  websockets: number;
  weight: number;
}

/** What {@link GatewayMetrics} reads when scraped; typically a thin view over the upstream pool. */
export interface MetricsSource {
  /** The current backends. Called once per gauge per scrape; should be cheap and must not throw. */
  backends(): Iterable<BackendSnapshot>;
}

/** The gauge family, its help text and how to read its value from a snapshot. */
const GAUGES: ReadonlyArray<readonly [name: string, help: string, read: (b: BackendSnapshot) => number]> = [
  ['inflight_requests', 'HTTP requests currently in flight to the backend.', (b) => b.inflight],
  ['websockets_active', 'WebSocket connections currently open to the backend.', (b) => b.websockets],
  ['backend_up', 'Whether the backend is healthy (1) or not (0).', (b) => (b.healthy ? 1 : 0)],
  ['backend_ejected', 'Whether the backend is currently ejected by outlier detection (1) or not (0).', (b) => (b.ejected ? 1 : 0)],
  ['backend_weight', 'The effective balancing weight of the backend (below the configured one while slow start ramps it up).', (b) => b.weight],
];

/**
 * Registers the five scrape-time gauges (`<prefix>inflight_requests`, `<prefix>websockets_active`,
 * `<prefix>backend_up`, `<prefix>backend_ejected`, `<prefix>backend_weight`, all labelled `backend`).
 * Each scrape starts from an empty gauge, so a backend the source no longer lists disappears on its own.
 */
export function registerSourceGauges(registry: Registry, prefix: string, source: MetricsSource): void {
  for (const [name, help, read] of GAUGES) {
    new Gauge({
      name: prefix + name,
      help,
      labelNames: ['backend'],
      registers: [registry],
      collect() {
        this.reset();
        for (const b of source.backends()) this.set({ backend: b.id }, read(b));
      },
    });
  }
}
