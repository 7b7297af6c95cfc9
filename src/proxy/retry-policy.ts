/**
 * @module proxy/retry-policy: whether a failed upstream attempt may be replayed on another backend. Only
 * failures before any response byte qualify, and only when the request can be sent again unchanged.
 */
import type { IncomingMessage } from 'node:http';

const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE']);

/** RFC 9110 9.2.2, plus a client's explicit `Idempotency-Key` when the operator allows it. */
export function isIdempotent(req: IncomingMessage, honourIdempotencyKey: boolean): boolean {
  if (IDEMPOTENT.has(req.method ?? 'GET')) return true;
  return honourIdempotencyKey && req.headers['idempotency-key'] !== undefined;
}

/** What is known about an attempt when it failed. */
export interface AttemptFacts {
  /** The TCP connection to the backend was established (false: nothing reached it). */
  readonly connected: boolean;
  /** The attempt ran on a kept-alive socket that had served before. */
  readonly reusedSocket: boolean;
  /** Request body bytes already consumed from the client (they cannot be sent again). */
  readonly bodyBytesSent: number;
  /** The response deadline passed: the backend may still be working on it. */
  readonly timedOut: boolean;
}

/**
 * The rule: never after a response deadline (the backend may act on it twice); never once body bytes were
 * consumed; always when nothing reached the backend; else when the method is idempotent or the failure hit a
 * reused keep-alive socket (the backend closed it as we sent, so it did not see the request).
 */
export function mayRetry(req: IncomingMessage, facts: AttemptFacts, honourIdempotencyKey: boolean): boolean {
  if (facts.timedOut || facts.bodyBytesSent > 0) return false;
  if (!facts.connected) return true;
  return facts.reusedSocket || isIdempotent(req, honourIdempotencyKey);
}
