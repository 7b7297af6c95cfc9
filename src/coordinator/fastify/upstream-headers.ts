/**
 * @module coordinator/fastify/upstream-headers: which headers cross the coordinator. Requests carry an allow-list
 * (platformatic forwarded none; a pod that checks tokens or negotiates content needs a few) plus the headers that
 * describe the body and X-Forwarded-*. Responses carry every end-to-end header of the pod's answer.
 */
import type { IncomingMessage } from 'node:http';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { connectionTokens, isHopByHop } from '../../proxy/index.js';
import type { UpstreamBody } from './request-body.js';

/**
 * Request headers sent upstream by default. `accept-encoding` is left out on purpose: pods answer uncompressed,
 * so `pickAndRegister` can read the JSON it needs and nothing is compressed twice.
 */
export const DEFAULT_FORWARD_HEADERS: readonly string[] = Object.freeze([
  'accept',
  'accept-language',
  'authorization',
  'user-agent',
  'x-request-id',
  'traceparent',
  'tracestate',
  'idempotency-key',
]);

/** Headers never taken from the allow-list: the body, the target and the connection are described by us. */
const OWNED = new Set(['host', 'content-type', 'content-length', 'content-encoding', 'x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host']);

/** The header object of an upstream request for `request` carrying `body`. */
export function upstreamRequestHeaders(
  request: FastifyRequest,
  body: UpstreamBody,
  forward: readonly string[],
): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const name of forward) {
    if (OWNED.has(name) || isHopByHop(name)) continue;
    const value = request.headers?.[name];
    if (value !== undefined) out[name] = value;
  }
  Object.assign(out, body.headers);
  // request.ip honours the app's trustProxy setting; a client's own X-Forwarded-For is not passed on.
  if (request.ip) out['x-forwarded-for'] = request.ip;
  if (request.protocol) out['x-forwarded-proto'] = request.protocol;
  const host = request.headers?.host;
  if (host !== undefined) out['x-forwarded-host'] = host;
  return out;
}

/** Normalises an allow-list option: lower-cased, validated once. */
export function forwardList(names: readonly string[] | undefined, option: string): readonly string[] {
  if (names === undefined) return DEFAULT_FORWARD_HEADERS;
  if (!Array.isArray(names) || names.some((n) => typeof n !== 'string' || n === '')) {
    throw new TypeError(`${option} must be an array of header names`);
  }
  return Object.freeze(names.map((n) => n.toLowerCase()));
}

/** A response head: a node `IncomingMessage`, or undici's response data (what `proxyRequest` resolves to). */
export interface ResponseHead {
  readonly statusCode?: number | undefined;
  readonly headers: IncomingMessage['headers'];
}

/** Copies the status and end-to-end headers of `res` onto `reply` (hop-by-hop fields and Connection tokens dropped). */
export function copyResponseHead(reply: FastifyReply, res: ResponseHead): void {
  reply.code(res.statusCode ?? 502);
  const listed = connectionTokens(res.headers.connection);
  for (const [name, value] of Object.entries(res.headers)) {
    if (value === undefined || isHopByHop(name) || (listed !== null && listed.has(name))) continue;
    reply.header(name, value);
  }
}
