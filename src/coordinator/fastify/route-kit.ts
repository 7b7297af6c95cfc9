/**
 * @module coordinator/fastify/route-kit: what every helper shares: checking its options, reading the id without
 * ever throwing, reporting one result tag per request, resolve -> proxy -> (the one owner failover rule), and
 * answering what that ended with.
 */
import type { IncomingMessage } from 'node:http';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ErrorCodes, KeywayError } from '../../errors.js';
import { failOver } from '../owner-failover.js';
import { CoordinatorAnswers } from './answers.js';
import { streamReply } from './proxy-request.js';
import { upstreamBody } from './request-body.js';
import { attemptUpstream } from './upstream-attempt.js';
import { badId, replyError } from './reply-error.js';
import { forwardList } from './upstream-headers.js';

/** Reads an id from the request; must return a non-empty string synchronously. */
export type IdExtractor = (request: FastifyRequest) => string;

/**
 * Calls `extract`; null when it throws or returns anything but a non-empty string (a missing param, a
 * promise...), so a bad request is answered with 400 and never takes the process down.
 */
export function readId(extract: IdExtractor, request: FastifyRequest): string | null {
  try {
    const id: unknown = extract(request);
    return typeof id === 'string' && id !== '' ? id : null;
  } catch (err) {
    request.log.debug({ err }, 'coordinator: id extractor threw');
    return null;
  }
}

/** Calls `onResult` once; a throwing callback is logged, never allowed to change the answer. */
export function report<Tag extends string>(onResult: ((tag: Tag) => void) | undefined, tag: Tag, request: FastifyRequest): void {
  if (onResult === undefined) return;
  try {
    onResult(tag);
  } catch (err) {
    request.log.warn({ err }, 'coordinator: onResult threw');
  }
}

/** What a resolution decided: proxy to `address`, or answer without the pod via `send`. */
export type Step<Tag extends string> =
  | { readonly kind: 'proxy'; readonly address: string; readonly memberId?: string; readonly tag: Tag }
  | { readonly kind: 'reply'; readonly tag: Tag; readonly send: () => Promise<FastifyReply> | FastifyReply };

/** How {@link resolveAndProxy} ended. */
export type Outcome<Tag extends string> =
  | { readonly kind: 'response'; readonly response: IncomingMessage; readonly tag: Tag }
  | { readonly kind: 'failed'; readonly error: KeywayError }
  | Extract<Step<Tag>, { kind: 'reply' }>;

export interface ProxySettings {
  readonly timeoutMs: number | undefined;
  readonly forward: readonly string[];
}

/**
 * Resolves, then proxies. When the pod failed before answering, the one failover rule (`owner-failover.ts`)
 * decides: `evict` drops the cached resolution, and a request that can be replayed is resolved afresh and sent
 * again at most once.
 */
export async function resolveAndProxy<Tag extends string>(
  request: FastifyRequest,
  reply: FastifyReply,
  settings: ProxySettings,
  resolve: (suspect: string | null) => Promise<Step<Tag>>,
  evict: (failed: Extract<Step<Tag>, { kind: 'proxy' }>) => unknown,
): Promise<Outcome<Tag>> {
  let step = await resolve(null);
  if (step.kind === 'reply') return step;
  const body = upstreamBody(request);
  const options = { path: request.url, timeoutMs: settings.timeoutMs, forward: settings.forward };
  let attempt = await attemptUpstream(step.address, request, reply, body, options);
  if (!attempt.ok) {
    const failed = step;
    const decision = await failOver(attempt, { memberId: failed.memberId ?? null, address: failed.address }, {
      evict: () => evict(failed),
      resolve,
      addressOf: (next) => (next.kind === 'proxy' ? next.address : null),
    });
    if (decision.next?.kind === 'reply') return decision.next;
    if (decision.resend && decision.next.kind === 'proxy') {
      step = decision.next;
      attempt = await attemptUpstream(step.address, request, reply, body, options);
    }
  }
  return attempt.ok ? { kind: 'response', response: attempt.response, tag: step.tag } : { kind: 'failed', error: attempt.error };
}

/**
 * Answers what {@link resolveAndProxy} ended with: a reply step is tagged, then sent; a failure is tagged
 * `upstream_error` and answered 502/504; the pod's answer is tagged `responseTag` (default: its step's tag) and
 * streamed back unchanged.
 */
export function settle<Tag extends string>(
  outcome: Outcome<Tag>,
  request: FastifyRequest,
  reply: FastifyReply,
  onResult: ((tag: NoInfer<Tag> | 'upstream_error') => void) | undefined,
  responseTag?: NoInfer<Tag> | 'upstream_error',
): Promise<FastifyReply> | FastifyReply {
  if (outcome.kind === 'reply') {
    report(onResult, outcome.tag, request);
    return outcome.send();
  }
  if (outcome.kind === 'failed') {
    report(onResult, 'upstream_error', request);
    return replyError(reply, outcome.error);
  }
  report(onResult, responseTag ?? outcome.tag, request);
  return streamReply(reply, outcome.response);
}

/**
 * Wraps a helper's body: a store outage becomes a 503 JSON answer instead of Fastify's generic 500 (whose
 * message could name Redis); anything else is left to the app's error handler.
 */
export function guarded(
  run: (request: FastifyRequest, reply: FastifyReply) => Promise<FastifyReply>,
): (request: FastifyRequest, reply: FastifyReply) => Promise<FastifyReply> {
  return async (request, reply) => {
    try {
      return await run(request, reply);
    } catch (err) {
      if (!(err instanceof KeywayError) || err.code !== ErrorCodes.STORE_UNAVAILABLE) throw err;
      request.log.warn({ err }, 'coordinator: store unavailable');
      return replyError(reply, CoordinatorAnswers.storeDown);
    }
  };
}

/**
 * {@link guarded}, for a helper keyed by an id: a request whose id `extract` cannot read is tagged `bad_request`
 * and answered 400 (`what` names the id in the message); any other goes to `run` with its id.
 */
export function guardedById(
  extract: IdExtractor,
  what: string,
  onResult: ((tag: 'bad_request') => void) | undefined,
  run: (request: FastifyRequest, reply: FastifyReply, id: string) => Promise<FastifyReply>,
): CoordinatorHandler {
  return guarded(async (request, reply) => {
    const id = readId(extract, request);
    if (id === null) {
      report(onResult, 'bad_request', request);
      return replyError(reply, badId(what));
    }
    return run(request, reply, id);
  });
}

/** The options every helper takes. */
export interface RouteOptions<Result extends string> {
  /** Request header names copied to the pod. Default `DEFAULT_FORWARD_HEADERS`. */
  readonly forwardHeaders?: readonly string[];
  /** Called once per request with its outcome, e.g. to count it. */
  readonly onResult?: (result: Result) => void;
}

/** The options of a helper keyed by a destination. */
export interface DestinationRouteOptions<Result extends string> extends RouteOptions<Result> {
  /** Reads the destination id from the request. Throwing or returning a non-string answers 400. */
  readonly destinationFrom?: IdExtractor;
  /** platformatic's older name for {@link destinationFrom}; give one of the two. */
  readonly instanceFrom?: IdExtractor;
}

/** Validates {@link RouteOptions} (`onResult`, then `forwardHeaders`) and returns them ready to use. */
export function routeOptions<Result extends string>(
  options: RouteOptions<Result>,
  helper: string,
): { readonly forward: readonly string[]; readonly onResult: ((result: Result) => void) | undefined } {
  checkFunction(options.onResult, `${helper}: onResult`, false);
  return { forward: forwardList(options.forwardHeaders, `${helper}: forwardHeaders`), onResult: options.onResult };
}

/** Validates a helper option that must be a function (when `required`) or absent. */
export function checkFunction(value: unknown, option: string, required: boolean): void {
  if (value === undefined && !required) return;
  if (typeof value !== 'function') throw new TypeError(`${option} must be a function`);
}

/** Validates an optional message option. */
export function checkMessage(value: unknown, option: string): void {
  if (value !== undefined && (typeof value !== 'string' || value === '')) throw new TypeError(`${option} must be a non-empty string`);
}

/** Validates an optional message option; the message, or `fallback` when it is absent. */
export function messageOption(value: string | undefined, option: string, fallback: string): string {
  checkMessage(value, option);
  return value ?? fallback;
}

/** Validates an optional HTTP status option; the status, or `fallback` when it is absent. */
export function statusOption(value: unknown, option: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 200 || value > 599) {
    throw new TypeError(`${option} must be an integer HTTP status from 200 to 599`);
  }
  return value;
}

/**
 * The destination extractor of a helper: `destinationFrom`, or platformatic's older name `instanceFrom`.
 * Exactly one must be given.
 */
export function destinationExtractor(
  options: { readonly destinationFrom?: IdExtractor | undefined; readonly instanceFrom?: IdExtractor | undefined },
  helper: string,
): IdExtractor {
  const { destinationFrom, instanceFrom } = options;
  if (destinationFrom !== undefined && instanceFrom !== undefined) {
    throw new TypeError(`${helper}: pass destinationFrom or instanceFrom (its older name), not both`);
  }
  const extract = destinationFrom ?? instanceFrom;
  checkFunction(extract, `${helper}: destinationFrom`, true);
  return extract as IdExtractor;
}

/** The registry's request timeout, read per request (a registry may change it). */
export function settingsOf(registry: { readonly requestTimeout?: number | undefined }, forward: readonly string[]): ProxySettings {
  return { timeoutMs: registry.requestTimeout, forward };
}

/** A platformatic-compatible route handler: what `app.get(path, handler)` takes. */
export type CoordinatorHandler = (request: FastifyRequest, reply: FastifyReply) => Promise<FastifyReply>;
