/**
 * @module coordinator/fastify/pick-and-register: the route handler that creates a destination on a member chosen
 * by the registry's strategy and binds it there only once the member says it was created.
 */
import type { IncomingMessage } from 'node:http';
import type { FastifyReply, FastifyRequest, RouteHandlerMethod } from 'fastify';
import type { CoordinatorRegistry, MemberTarget } from './coordinator-registry.js';
import { replyError, unavailable } from './reply-error.js';
import {
  checkFunction,
  guarded,
  messageOption,
  report,
  resolveAndProxy,
  routeOptions,
  settingsOf,
  settle,
  statusOption,
  type RouteOptions,
  type Step,
} from './route-kit.js';
import { CoordinatorAnswers } from './answers.js';
import { timedOutMidBody } from './upstream-attempt.js';
import { copyResponseHead } from './upstream-headers.js';

/** One tag per request, platformatic's: `spawned`, `unavailable` (503), `upstream_error` (another status, or no answer). */
export type PickAndRegisterResult = 'spawned' | 'unavailable' | 'upstream_error';

/** Largest creation answer read to find the id (bytes); a larger one is a 502. */
export const MAX_REGISTER_BODY_BYTES = 1024 * 1024;

export interface PickAndRegisterOptions<Body = unknown> extends RouteOptions<PickAndRegisterResult> {
  /** Reads the new destination id from the pod's parsed JSON answer. Throwing or returning a non-string: 502. */
  readonly registerIdFrom: (responseBody: Body) => string;
  /** The pod's creation status; only then is the id bound. Default 201. */
  readonly expectedStatus?: number;
  /** The 503 message. Default `'No pods available'`. */
  readonly unavailableMessage?: string;
}


/**
 * Picks a live member (the registry's strategy), proxies the creation request to it and, only when it answers
 * `expectedStatus`, binds the id read from its answer to that member (`addPodToDestination`). The answer is sent
 * back as the pod wrote it. No live member: 503. A refused connection is retried once on a fresh pick.
 *
 * Unlike the other helpers this one buffers the creation answer (up to {@link MAX_REGISTER_BODY_BYTES}): the id
 * must be read before the client is told it exists. Answers of any other status are streamed.
 *
 * @example
 * app.post('/sessions', pickAndRegister(registry, { registerIdFrom: (body: { sessionId: string }) => body.sessionId }));
 */
export function pickAndRegister<Body = unknown>(registry: CoordinatorRegistry, options: PickAndRegisterOptions<Body>): RouteHandlerMethod {
  checkFunction(options.registerIdFrom, 'pickAndRegister: registerIdFrom', true);
  const expectedStatus = statusOption(options.expectedStatus, 'pickAndRegister: expectedStatus', 201);
  const noMember = unavailable(messageOption(options.unavailableMessage, 'pickAndRegister: unavailableMessage', 'No pods available'));
  const { forward, onResult } = routeOptions(options, 'pickAndRegister');
  const { registerIdFrom } = options;

  return guarded(async (request, reply) => {
    // The member of the latest pick: the one that answered, when the retry picked again.
    const picked: { member: MemberTarget | null } = { member: null };
    const pick = async (): Promise<Step<PickAndRegisterResult>> => {
      const member = await registry.pickMember();
      if (member === null) return { kind: 'reply', tag: 'unavailable', send: () => replyError(reply, noMember) };
      picked.member = member;
      return { kind: 'proxy', address: member.address, memberId: member.memberId, tag: 'spawned' };
    };
    // Nothing is cached for a pick: the retry simply picks again.
    const outcome = await resolveAndProxy(request, reply, settingsOf(registry, forward), pick, () => undefined);
    if (outcome.kind !== 'response' || outcome.response.statusCode !== expectedStatus) {
      return settle(outcome, request, reply, onResult, 'upstream_error');
    }
    if (picked.member === null) throw new Error('pickAndRegister: a response without a picked member');
    return register(request, reply, outcome.response, picked.member);
  });

  async function register(request: FastifyRequest, reply: FastifyReply, response: IncomingMessage, member: MemberTarget): Promise<FastifyReply> {
    const read = await readBody(response);
    if (!Buffer.isBuffer(read)) {
      report(onResult, 'upstream_error', request);
      return replyError(reply, read === 'timeout' ? CoordinatorAnswers.gatewayTimeout : CoordinatorAnswers.badGateway);
    }
    const id = idFrom(read, registerIdFrom, request);
    if (id === null) {
      report(onResult, 'upstream_error', request);
      return replyError(reply, CoordinatorAnswers.noUsableId);
    }
    await registry.addPodToDestination(id, member.memberId);
    report(onResult, 'spawned', request);
    copyResponseHead(reply, response);
    return reply.send(read);
  }
}

/** The parsed answer's id, or null (bad JSON, a throwing extractor, not a non-empty string); logged at warn. */
function idFrom<Body>(data: Buffer, extract: (body: Body) => string, request: FastifyRequest): string | null {
  try {
    const id: unknown = extract(JSON.parse(data.toString('utf8')) as Body);
    if (typeof id === 'string' && id !== '') return id;
    request.log.warn('coordinator: pickAndRegister registerIdFrom did not return a non-empty string');
  } catch (err) {
    request.log.warn({ err }, 'coordinator: pickAndRegister could not read the id from the answer');
  }
  return null;
}

/** The whole body, or why not: `'timeout'` (cut by the inactivity limit), `'failed'` (reset, or too large). */
async function readBody(response: IncomingMessage): Promise<Buffer | 'timeout' | 'failed'> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of response) {
      size += (chunk as Buffer).byteLength;
      if (size > MAX_REGISTER_BODY_BYTES) {
        response.destroy();
        return 'failed';
      }
      chunks.push(chunk as Buffer);
    }
  } catch {
    return timedOutMidBody(response) ? 'timeout' : 'failed';
  }
  return Buffer.concat(chunks);
}
