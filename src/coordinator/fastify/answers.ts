/**
 * @module coordinator/fastify/answers: every fixed answer the Fastify helpers give instead of a member's, declared
 * once (as `proxy/answers.ts` is for the gateway). Messages are fixed, so member addresses, socket errors and Redis
 * details never reach a client. Answers whose text an option sets are made by `reply-error.ts`.
 */
import { ErrorCodes, KeywayError, UpstreamError, UpstreamTimeoutError } from '../../errors.js';

export const CoordinatorAnswers = Object.freeze({
  /** 502: the member refused, reset or sent garbage before answering. */
  badGateway: new UpstreamError('Bad gateway: the destination did not answer'),
  /** 504: the member went silent past the registry's `requestTimeout`. */
  gatewayTimeout: new UpstreamTimeoutError('Gateway timeout: the destination did not answer in time'),
  /** 502: `pickAndRegister`'s member answered without an id it could register. */
  noUsableId: new UpstreamError('Bad gateway: the destination answer carries no usable id'),
  /** 503: the coordinator's Redis cannot be reached (the message never names Redis). */
  storeDown: new KeywayError(ErrorCodes.STORE_UNAVAILABLE, 'Coordinator unavailable: its store cannot be reached', { statusCode: 503 }),
});
