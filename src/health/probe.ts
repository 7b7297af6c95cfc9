/**
 * @module health/probe: one active health check of one upstream, either an HTTP(S) request on a fresh
 * connection or the user's `check` function. It never throws and leaves no socket or timer behind.
 */
import { request as httpRequest, type ClientRequest, type OutgoingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { performance } from 'node:perf_hooks';
import type { HealthCheckFn, HealthSettings } from '../config/index.js';
import type { Upstream } from '../upstream/index.js';

/** The outcome of one probe. */
export interface ProbeResult {
  /** Whether this probe counts as a success. */
  readonly ok: boolean;
  /** The response status, when an HTTP response arrived. */
  readonly status?: number;
  /** Why the probe failed: `timeout`, `aborted`, a socket error code (`ECONNREFUSED`) or a message. */
  readonly error?: string;
  /** Wall time from start to the end of the exchange (ms). */
  readonly durationMs: number;
}

/** Options of {@link probe}. */
export interface ProbeOptions {
  /** Aborts the probe; it then resolves `{ ok: false, error: 'aborted' }`. */
  readonly signal?: AbortSignal | undefined;
}

/**
 * Probes `upstream` once with `settings` (by default its own merged `upstream.health`).
 *
 * Without `settings.check`, sends `method basePath+path` with `settings.headers` and `Connection: close`
 * on a new connection (`agent: false`): a pooled keep-alive socket would prove only that an old
 * connection still works, not that the backend accepts new ones. With the `http` algorithm any response
 * is a success (the process is up and speaking HTTP); with `http-status` only 2xx is.
 *
 * @example
 * const r = await probe(upstream);
 * if (!r.ok) log.warn({ error: r.error }, 'probe failed');
 */
export function probe(
  upstream: Upstream,
  settings: HealthSettings = upstream.health,
  options: ProbeOptions = {},
): Promise<ProbeResult> {
  if (options.signal?.aborted) return Promise.resolve({ ok: false, error: 'aborted', durationMs: 0 });
  return settings.check
    ? probeWithCheck(settings.check, upstream, settings.timeoutMs, options.signal)
    : probeWithHttp(upstream, settings, options.signal);
}

function probeWithCheck(
  check: HealthCheckFn,
  upstream: Upstream,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<ProbeResult> {
  const started = performance.now();
  return new Promise<ProbeResult>((resolve) => {
    let settled = false;
    const finish = (ok: boolean, error?: string): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      const durationMs = performance.now() - started;
      resolve(ok ? { ok, durationMs } : { ok, error: error ?? 'check failed', durationMs });
    };
    const onAbort = (): void => finish(false, 'aborted');
    // Left ref'd on purpose: it lives at most timeoutMs and is what guarantees the awaited promise
    // settles even when the user's check never does. The check itself cannot be cancelled.
    const timer = setTimeout(() => finish(false, 'timeout'), timeoutMs);
    signal?.addEventListener('abort', onAbort, { once: true });
    // Calling inside then() turns a synchronous throw into a rejection, handled like any other.
    Promise.resolve()
      .then(() => check({ id: upstream.rawId, url: upstream.url }))
      .then(
        (value) => finish(value === true, value === true ? undefined : 'check returned false'),
        (err: unknown) => finish(false, describe(err)),
      );
  });
}

function probeWithHttp(upstream: Upstream, settings: HealthSettings, signal?: AbortSignal): Promise<ProbeResult> {
  const started = performance.now();
  return new Promise<ProbeResult>((resolve) => {
    let status: number | undefined;
    let error: string | undefined;
    let req: ClientRequest;
    try {
      req = send(upstream, settings);
    } catch (err) {
      // Bad method or header values throw synchronously; that is a failed probe, not a crash.
      resolve({ ok: false, error: describe(err), durationMs: performance.now() - started });
      return;
    }
    // Once the status line is in, the verdict is fixed; the deadline then only bounds draining the body.
    const fail = (reason: string): void => {
      if (status === undefined && error === undefined) error = reason;
      req.destroy();
    };
    const onAbort = (): void => fail('aborted');
    const timer = setTimeout(() => fail('timeout'), settings.timeoutMs);
    timer.unref(); // the pending lookup or socket holds the loop open; the deadline need not
    signal?.addEventListener('abort', onAbort, { once: true });
    req.on('response', (res) => {
      status = res.statusCode;
      res.on('error', () => {}); // a reset while draining does not change a verdict already made
      res.resume();
    });
    req.on('error', (err) => {
      if (status === undefined && error === undefined) error = describe(err);
    });
    // 'close' comes last in every path (answered, refused, destroyed), when the socket is gone.
    req.on('close', () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      resolve(verdict(settings, status, error, performance.now() - started));
    });
    req.end();
  });
}

function send(upstream: Upstream, settings: HealthSettings): ClientRequest {
  const { protocol, hostname, port, basePath } = upstream.target;
  const path = basePath + (settings.path.startsWith('/') ? settings.path : `/${settings.path}`);
  const headers: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(settings.headers)) {
    if (name.toLowerCase() !== 'connection') headers[name] = value;
  }
  headers.connection = 'close';
  const request = protocol === 'https:' ? httpsRequest : httpRequest;
  return request({ protocol, hostname, port, path, method: settings.method, headers, agent: false });
}

function verdict(settings: HealthSettings, status: number | undefined, error: string | undefined, durationMs: number): ProbeResult {
  if (status === undefined) return { ok: false, error: error ?? 'no response', durationMs };
  const ok = settings.algorithm === 'http' || (status >= 200 && status < 300);
  return ok ? { ok, status, durationMs } : { ok, status, error: `status ${status}`, durationMs };
}

/** A short, log-safe reason: the socket error code when there is one, else the message. */
function describe(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as NodeJS.ErrnoException).code;
    return typeof code === 'string' ? code : err.message;
  }
  return String(err);
}
