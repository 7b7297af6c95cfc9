/**
 * @module observe/metrics: the gateway's Prometheus metrics on a registry of its own. Counters and the latency
 * histogram are fed by cheap synchronous calls from the proxy; live state (in flight, up, ejected, weight) is
 * read from a {@link MetricsSource} only when scraped.
 */
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { registerSourceGauges, type MetricsSource } from './source-gauges.js';

export type { BackendSnapshot, MetricsSource } from './source-gauges.js';

/** Options of {@link GatewayMetrics}. */
export interface GatewayMetricsOptions {
  /** Read at scrape time for the per-backend gauges. */
  source: MetricsSource;
  /** Prepended to every metric name. Default `keyway_`. */
  prefix?: string;
  /** Register on this registry instead of a new private one (never the prom-client global by default). */
  registry?: Registry;
  /** Also collect prom-client's default process and Node.js metrics (unprefixed). Default false. */
  processMetrics?: boolean;
}

/** The `backend` label of requests the gateway answered itself (no backend chosen, bad request...). */
export const NO_BACKEND = 'none';

/** Upstream header latency buckets in seconds: 1 ms to 10 s, roughly 1-2.5-5 per decade. */
export const UPSTREAM_BUCKETS: readonly number[] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

const CODE_CLASSES = ['1xx', '2xx', '3xx', '4xx', '5xx'] as const;

/** The prom-client children of one backend, created on first use and reused for every later request. */
interface BackendSeries {
  /** The `backend` label value: the id, or {@link NO_BACKEND}. */
  label: string;
  /** Indexed by status class: 0 for 1xx ... 4 for 5xx. */
  requests: Array<Counter.Internal | undefined>;
  upstream?: Histogram.Internal<'backend'>;
  bytesIn?: Counter.Internal;
  bytesOut?: Counter.Internal;
  ejections?: Counter.Internal;
  retries?: Counter.Internal;
  websockets?: Counter.Internal;
}

/**
 * The gateway's metrics. Hot-path methods look up cached prom-client children in a Map, so a request
 * allocates no label objects; gauges cost nothing until scraped.
 *
 * @example
 * const metrics = new GatewayMetrics({ source: { backends: () => pool.snapshot() } });
 * metrics.requestFinished('api-1', 200, 0.012);
 * res.setHeader('content-type', metrics.contentType).end(await metrics.render());
 */
export class GatewayMetrics {
  #registry: Registry;
  #series = new Map<string, BackendSeries>();
  #requests: Counter<'backend' | 'code_class'>;
  #upstream: Histogram<'backend'>;
  #bytes: Counter<'backend' | 'direction'>;
  #ejections: Counter<'backend'>;
  #retries: Counter<'backend'>;
  #websockets: Counter<'backend'>;
  #budgetExhausted: Counter;

  constructor(options: GatewayMetricsOptions) {
    const prefix = options.prefix ?? 'keyway_';
    const registers = [(this.#registry = options.registry ?? new Registry())];
    this.#requests = new Counter({
      name: `${prefix}requests_total`,
      help: 'Requests finished, by backend ("none" when the gateway answered itself) and status class.',
      labelNames: ['backend', 'code_class'],
      registers,
    });
    this.#upstream = new Histogram({
      name: `${prefix}upstream_response_seconds`,
      help: 'Time from forwarding a request to receiving the upstream response headers, in seconds.',
      labelNames: ['backend'],
      buckets: [...UPSTREAM_BUCKETS],
      registers,
    });
    this.#bytes = new Counter({
      name: `${prefix}bytes_total`,
      help: 'Body bytes proxied: direction "in" is backend to client, "out" is client to backend.',
      labelNames: ['backend', 'direction'],
      registers,
    });
    this.#ejections = counter(registers, `${prefix}ejections_total`, 'Times the backend was ejected by outlier detection.');
    this.#retries = counter(registers, `${prefix}retries_total`, 'Requests retried away from the backend.');
    this.#websockets = counter(registers, `${prefix}websocket_connections_total`, 'WebSocket connections opened to the backend.');
    this.#budgetExhausted = new Counter({
      name: `${prefix}retry_budget_exhausted_total`,
      help: 'Retries skipped because the retry budget was exhausted.',
      registers,
    });
    registerSourceGauges(this.#registry, prefix, options.source);
    if (options.processMetrics) collectDefaultMetrics({ register: this.#registry });
  }

  /** The registry these metrics live on. */
  get registry(): Registry {
    return this.#registry;
  }

  /** The `Content-Type` to send with {@link render}'s output. */
  get contentType(): string {
    return this.#registry.contentType;
  }

  /**
   * Counts a finished request. `backendId` null means the gateway answered itself (label `none`).
   * `upstreamSeconds` is the time to the upstream response headers; undefined when none arrived.
   * Statuses outside 100-599 (or not a number) are clamped into `1xx` or `5xx`.
   */
  requestFinished(backendId: string | null, status: number, upstreamSeconds: number | undefined): void {
    const s = this.#seriesOf(backendId);
    const cls = Math.min(4, Math.max(0, ((status / 100) | 0) - 1));
    const child = (s.requests[cls] ??= this.#requests.labels(s.label, CODE_CLASSES[cls] as string));
    child.inc();
    if (upstreamSeconds !== undefined && backendId !== null) {
      (s.upstream ??= this.#upstream.labels(s.label)).observe(upstreamSeconds);
    }
  }

  /** Adds proxied body bytes: `inBytes` from backend to client, `outBytes` from client to backend. */
  bytes(backendId: string | null, inBytes: number, outBytes: number): void {
    const s = this.#seriesOf(backendId);
    if (inBytes > 0) (s.bytesIn ??= this.#bytes.labels(s.label, 'in')).inc(inBytes);
    if (outBytes > 0) (s.bytesOut ??= this.#bytes.labels(s.label, 'out')).inc(outBytes);
  }

  /** Counts an outlier ejection of the backend. */
  ejected(backendId: string): void {
    const s = this.#seriesOf(backendId);
    (s.ejections ??= this.#ejections.labels(s.label)).inc();
  }

  /** Counts a retry away from `backendId` (the backend that failed, not the one retried on). */
  retried(backendId: string): void {
    const s = this.#seriesOf(backendId);
    (s.retries ??= this.#retries.labels(s.label)).inc();
  }

  /** Counts a retry that was not made because the retry budget was spent. */
  retryBudgetExhausted(): void {
    this.#budgetExhausted.inc();
  }

  /** Counts a WebSocket connection established to the backend. */
  websocketOpened(backendId: string): void {
    const s = this.#seriesOf(backendId);
    (s.websockets ??= this.#websockets.labels(s.label)).inc();
  }

  /**
   * Drops every counter and histogram series of a backend removed at runtime, so its label sets stop being
   * exported. Gauges need nothing: they follow the source. A late call for the id starts it again from 0.
   */
  forgetBackend(id: string): void {
    if (!this.#series.delete(id)) return;
    for (const code_class of CODE_CLASSES) this.#requests.remove({ backend: id, code_class });
    this.#bytes.remove({ backend: id, direction: 'in' });
    this.#bytes.remove({ backend: id, direction: 'out' });
    this.#upstream.remove({ backend: id });
    this.#ejections.remove({ backend: id });
    this.#retries.remove({ backend: id });
    this.#websockets.remove({ backend: id });
  }

  /** The Prometheus text exposition of every metric on the registry. */
  render(): Promise<string> {
    return this.#registry.metrics();
  }

  /**
   * How many prom-client children are cached (diagnostics and tests): it grows with distinct
   * (backend, series) pairs, never with the number of requests.
   */
  get cachedChildren(): number {
    let n = 0;
    for (const s of this.#series.values()) {
      for (const c of s.requests) if (c) n++;
      for (const c of [s.upstream, s.bytesIn, s.bytesOut, s.ejections, s.retries, s.websockets]) if (c) n++;
    }
    return n;
  }

  #seriesOf(backendId: string | null): BackendSeries {
    const label = backendId ?? NO_BACKEND;
    let s = this.#series.get(label);
    if (!s) {
      s = { label, requests: [] };
      this.#series.set(label, s);
    }
    return s;
  }
}

function counter(registers: Registry[], name: string, help: string): Counter<'backend'> {
  return new Counter({ name, help, labelNames: ['backend'], registers });
}
