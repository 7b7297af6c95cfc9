/**
 * @module alerts/webhook-channel: delivers alerts as a JSON POST, either keyway's own payload or a Slack
 * incoming-webhook message. Webhook URLs are secrets (Slack's carries its token in the path), so only the
 * host ever appears in names, logs and errors.
 */
import { AlertError, AlertErrorCodes } from './alert-error.js';
import { alertSubject, safeUrl } from './alert-message.js';
import type { AlertChannel, AlertEvent } from './types.js';

/** Options of a {@link WebhookChannel}. */
export interface WebhookChannelOptions {
  /** Where to POST; http or https. */
  readonly url: string;
  /** `json`: keyway's payload (see {@link webhookPayload}). `slack`: `{ text }`. Default `json`. */
  readonly format?: 'json' | 'slack' | undefined;
  /** Extra request headers, e.g. an `Authorization`. Never logged. */
  readonly headers?: Readonly<Record<string, string>> | undefined;
  /** A request that has not completed in this long fails (ms). Default 5000. */
  readonly timeoutMs?: number | undefined;
  /** Overrides the channel's name in logs and events. Default `webhook:<host>`. */
  readonly name?: string | undefined;
}

/** The body of a `json` webhook. */
export interface WebhookPayload {
  readonly event: 'backend.down' | 'backend.up';
  readonly backend: { readonly id: string | number; readonly url: string };
  /** ISO 8601. */
  readonly at: string;
  readonly reason: string | null;
}

/** Builds the body a webhook of `format` receives for `event`. */
export function webhookPayload(event: AlertEvent, format: 'json' | 'slack'): WebhookPayload | { text: string } {
  if (format === 'slack') {
    const icon = event.kind === 'down' ? ':red_circle:' : ':large_green_circle:';
    const reason = event.reason ? ` (${event.reason})` : '';
    return { text: `${icon} ${alertSubject(event)}: ${safeUrl(event.backend.url)} at ${event.at.toISOString()}${reason}` };
  }
  return {
    event: event.kind === 'down' ? 'backend.down' : 'backend.up',
    backend: { id: event.backend.id, url: safeUrl(event.backend.url) },
    at: event.at.toISOString(),
    reason: event.reason ?? null,
  };
}

/**
 * An {@link AlertChannel} that POSTs each alert with the global `fetch`. A 2xx answer is success; any other
 * status, a network error or the timeout is a failure. 4xx answers other than 408 and 429 are marked not
 * retryable: the request itself is wrong.
 *
 * @example
 * new WebhookChannel({ url: 'https://hooks.slack.com/services/T0/B0/XXXX', format: 'slack' });
 */
export class WebhookChannel implements AlertChannel {
  readonly name: string;
  readonly #url: URL;
  readonly #format: 'json' | 'slack';
  readonly #headers: Readonly<Record<string, string>>;
  readonly #timeoutMs: number;
  readonly #aborts = new Set<AbortController>();
  #closed = false;

  constructor(options: WebhookChannelOptions) {
    let url: URL;
    try {
      url = new URL(options.url);
    } catch {
      throw new AlertError(AlertErrorCodes.CONFIG, 'webhook url: must be an http(s) URL');
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new AlertError(AlertErrorCodes.CONFIG, `webhook url: must be an http(s) URL, got ${url.protocol}`);
    }
    const format = options.format ?? 'json';
    if (format !== 'json' && format !== 'slack') {
      throw new AlertError(AlertErrorCodes.CONFIG, `webhook format: unknown value "${String(format)}" (expected json or slack)`);
    }
    const timeoutMs = options.timeoutMs ?? 5000;
    if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) {
      throw new AlertError(AlertErrorCodes.CONFIG, `webhook timeoutMs: must be a positive number, got ${timeoutMs}`);
    }
    this.#url = url;
    this.#format = format;
    this.#headers = options.headers ?? {};
    this.#timeoutMs = timeoutMs;
    this.name = options.name ?? `webhook:${url.host}`;
  }

  async send(event: AlertEvent): Promise<void> {
    if (this.#closed) throw new AlertError(AlertErrorCodes.DELIVERY, `${this.name}: channel is closed`, { retryable: false });
    const abort = new AbortController();
    this.#aborts.add(abort);
    // Not AbortSignal.timeout(): its timer is not cleared after success, and this one must not outlive close().
    const timer = setTimeout(() => abort.abort(new Error('timeout')), this.#timeoutMs).unref();
    try {
      const res = await fetch(this.#url, {
        method: 'POST',
        headers: { ...this.#headers, 'content-type': 'application/json' },
        body: JSON.stringify(webhookPayload(event, this.#format)),
        signal: abort.signal,
      });
      // Drain the body so undici can reuse or free the socket.
      await res.arrayBuffer().catch(() => undefined);
      if (res.status < 200 || res.status > 299) {
        const retryable = res.status >= 500 || res.status === 408 || res.status === 429;
        throw new AlertError(AlertErrorCodes.DELIVERY, `${this.name}: answered ${res.status}`, { retryable });
      }
    } catch (err) {
      throw err instanceof AlertError ? err : this.#networkError(err, abort.signal);
    } finally {
      clearTimeout(timer);
      this.#aborts.delete(abort);
    }
  }

  /** Aborts requests in flight. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const abort of this.#aborts) abort.abort(new Error('closed'));
  }

  /** fetch's errors can quote the URL; the message is rebuilt from the cause's code only. */
  #networkError(err: unknown, signal: AbortSignal): AlertError {
    if (signal.aborted) {
      const why = signal.reason instanceof Error && signal.reason.message === 'timeout' ? `timed out after ${this.#timeoutMs} ms` : 'aborted';
      return new AlertError(AlertErrorCodes.DELIVERY, `${this.name}: ${why}`);
    }
    const cause = (err as { cause?: { code?: unknown } } | undefined)?.cause;
    const code = typeof cause?.code === 'string' ? cause.code : 'network error';
    return new AlertError(AlertErrorCodes.DELIVERY, `${this.name}: ${code}`);
  }
}
