/**
 * @module coordinator/fastify/upstream-attempt: one upstream request, opened like the gateway's
 * (`proxy/upstream-request.ts`: same agents, target and retry rule), settled when the response head arrives or
 * the attempt fails. The body is written only once the connection is up, so a refused connection leaves a
 * streamed body unread and the attempt can be replayed elsewhere. What differs from the gateway's forwarder is
 * platformatic's contract: allow-listed request headers, and an inactivity limit instead of deadlines.
 */
import type http from 'node:http';
import type { IncomingMessage } from 'node:http';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { KeywayError } from '../../errors.js';
import { createUpstreamAgents, hostOf, mayRetry, openUpstreamRequest } from '../../proxy/index.js';
import { CoordinatorAnswers } from './answers.js';
import { addressTarget, type UpstreamTarget } from '../../upstream/index.js';
import type { UpstreamBody } from './request-body.js';
import { upstreamRequestHeaders } from './upstream-headers.js';


/** One pair of keep-alive agents for every helper of the process. */
const agents = createUpstreamAgents();

/** Responses cut by the inactivity limit in the middle of their body. */
const cutByTimeout = new WeakSet<IncomingMessage>();

/** True when `response` (from {@link attemptUpstream}) was cut because the pod went silent too long. */
export function timedOutMidBody(response: IncomingMessage): boolean {
  return cutByTimeout.has(response);
}

export interface AttemptOptions {
  /** Path and query sent upstream. */
  readonly path: string;
  /** Socket inactivity limit (ms) before the response head and between body chunks; 0 or undefined for none. */
  readonly timeoutMs: number | undefined;
  /** Lower-cased request header names copied from the client. */
  readonly forward: readonly string[];
}

/** How an attempt ended. `retryable`: nothing the pod could act on was sent, and the body can be sent again. */
export type Attempt =
  | { readonly ok: true; readonly response: IncomingMessage }
  | {
      readonly ok: false;
      readonly error: KeywayError;
      readonly retryable: boolean;
      readonly reusedSocket: boolean;
      /** Connection refused: nothing listens at the address (the pod's process is gone). */
      readonly refused: boolean;
    };

const UNUSABLE_ADDRESS: Attempt = { ok: false, error: CoordinatorAnswers.badGateway, retryable: false, reusedSocket: false, refused: false };

/** Sends `request` to `address`; resolves (never rejects) with the response head or the failure. */
export function attemptUpstream(
  address: string,
  request: FastifyRequest,
  reply: FastifyReply | undefined,
  body: UpstreamBody,
  options: AttemptOptions,
): Promise<Attempt> {
  const target = addressTarget(address);
  if (target === null) return Promise.resolve(UNUSABLE_ADDRESS);
  return new Promise((resolve) => {
    new AttemptRun(target, request, reply, body, options, resolve);
  });
}

/** The state of one attempt, from opening the request to its response head or failure. */
class AttemptRun {
  readonly #request: FastifyRequest;
  readonly #reply: FastifyReply | undefined;
  readonly #body: UpstreamBody;
  readonly #resolve: (attempt: Attempt) => void;
  readonly #upstream: http.ClientRequest;
  #settled = false;
  #connected = false;
  #timedOut = false;
  #clientGone = false;
  #bodyConsumed = false;
  #response: IncomingMessage | undefined;

  constructor(
    target: UpstreamTarget,
    request: FastifyRequest,
    reply: FastifyReply | undefined,
    body: UpstreamBody,
    options: AttemptOptions,
    resolve: (attempt: Attempt) => void,
  ) {
    this.#request = request;
    this.#reply = reply;
    this.#body = body;
    this.#resolve = resolve;
    const headers = upstreamRequestHeaders(request, body, options.forward);
    headers.host = hostOf(target);
    // The path as the client wrote it (no dot-segment normalisation), after the address's own base path.
    const path = options.path.startsWith('/') ? options.path : `/${options.path}`;
    this.#upstream = openUpstreamRequest(target, request.method, path, headers, agents, null);
    // A client that leaves while the pod works must not leave the upstream request behind.
    reply?.raw.once('close', this.#onClientClose);
    if (reply?.raw.destroyed === true) this.#onClientClose();
    if (options.timeoutMs) this.#upstream.setTimeout(options.timeoutMs, () => this.#onTimeout());
    this.#upstream.once('socket', (socket) => {
      if (socket.connecting) socket.once('connect', () => this.#onConnected());
      else this.#onConnected();
    });
    this.#upstream.once('response', (response) => {
      this.#response = response;
      this.#settle({ ok: true, response });
    });
    // Kept for the whole exchange: after the response head, a failure reaches the response stream instead.
    this.#upstream.on('error', (err: NodeJS.ErrnoException) => this.#onError(err.code === 'ECONNREFUSED'));
  }

  readonly #onClientClose = (): void => {
    if (this.#reply === undefined || this.#reply.raw.writableFinished) return;
    this.#clientGone = true;
    this.#upstream.destroy();
  };

  #onConnected(): void {
    this.#connected = true;
    this.#bodyConsumed = writeBody(this.#upstream, this.#body);
  }

  #onTimeout(): void {
    this.#timedOut = true;
    if (this.#response !== undefined) cutByTimeout.add(this.#response);
    this.#upstream.destroy(new Error('upstream inactivity timeout'));
  }

  #onError(refused: boolean): void {
    const reusedSocket = this.#upstream.reusedSocket;
    const facts = { connected: this.#connected, reusedSocket, bodyBytesSent: this.#bodyConsumed ? 1 : 0, timedOut: this.#timedOut };
    this.#settle({
      ok: false,
      error: this.#timedOut ? CoordinatorAnswers.gatewayTimeout : CoordinatorAnswers.badGateway,
      retryable: !this.#clientGone && mayRetry(this.#request.raw, facts, false),
      reusedSocket,
      refused,
    });
  }

  #settle(attempt: Attempt): void {
    if (this.#settled) return;
    this.#settled = true;
    this.#reply?.raw.off('close', this.#onClientClose);
    this.#resolve(attempt);
  }
}

/** Writes the body; returns true when a stream started being consumed (it cannot be replayed any more). */
function writeBody(upstream: http.ClientRequest, body: UpstreamBody): boolean {
  if (body.kind === 'none') {
    upstream.end();
    return false;
  }
  if (body.kind === 'bytes') {
    upstream.end(body.data);
    return false;
  }
  const fail = (): void => {
    upstream.destroy(new Error('request body stream failed'));
  };
  body.stream.once('error', fail);
  body.stream.once('aborted', fail);
  body.stream.pipe(upstream);
  return true;
}
