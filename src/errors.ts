/**
 * @module errors: the one catalogue of keyway's error classes. Callers match on `code`, never on message text;
 * `docs/errors.md` lists every code and a test keeps the two in sync.
 */

/** Every stable error code keyway can raise. */
export const ErrorCodes = {
  CONFIG_INVALID: 'KW_ERR_CONFIG_INVALID',
  CONFIG_LOAD: 'KW_ERR_CONFIG_LOAD',
  PROXY_NO_BACKEND: 'KW_ERR_PROXY_NO_BACKEND',
  PROXY_UPSTREAM: 'KW_ERR_PROXY_UPSTREAM',
  PROXY_TIMEOUT: 'KW_ERR_PROXY_TIMEOUT',
  PROXY_BAD_REQUEST: 'KW_ERR_PROXY_BAD_REQUEST',
  ADMIN_UNAUTHORIZED: 'KW_ERR_ADMIN_UNAUTHORIZED',
  ADMIN_NOT_FOUND: 'KW_ERR_ADMIN_NOT_FOUND',
  ADMIN_CONFLICT: 'KW_ERR_ADMIN_CONFLICT',
  GATEWAY_STATE: 'KW_ERR_GATEWAY_STATE',
  ALERT_CONFIG: 'KW_ERR_ALERT_CONFIG',
  ALERT_DELIVERY: 'KW_ERR_ALERT_DELIVERY',
  PROXY_NO_ROUTE: 'KW_ERR_PROXY_NO_ROUTE',
  STORE_UNAVAILABLE: 'KW_ERR_STORE_UNAVAILABLE',
  STORE_SCRIPT: 'KW_ERR_STORE_SCRIPT',
  BOOT_MISMATCH: 'KW_ERR_BOOT_MISMATCH',
  SINGLETON_DEADLINE: 'KW_ERR_SINGLETON_DEADLINE',
  SINGLETON_OWNERSHIP_LOST: 'KW_ERR_SINGLETON_OWNERSHIP_LOST',
  SINGLETON_NO_OWNER: 'KW_ERR_SINGLETON_NO_OWNER',
  SINGLETON_ACTION_FAILED: 'KW_ERR_SINGLETON_ACTION_FAILED',
  SINGLETON_UNKNOWN_ACTION: 'KW_ERR_SINGLETON_UNKNOWN_ACTION',
  SINGLETON_OVERLOADED: 'KW_ERR_SINGLETON_OVERLOADED',
  SINGLETON_CLOSED: 'KW_ERR_SINGLETON_CLOSED',
  ROOM_CLOSED: 'KW_ERR_ROOM_CLOSED',
  ROOM_CONFLICT: 'KW_ERR_ROOM_CONFLICT',
  ROOM_LIMIT: 'KW_ERR_ROOM_LIMIT',
  CLUSTER_NOT_READY: 'KW_ERR_CLUSTER_NOT_READY',
  CLUSTER_LISTEN: 'KW_ERR_CLUSTER_LISTEN',
  CLUSTER_NO_WORKERS: 'KW_ERR_CLUSTER_NO_WORKERS',
} as const;

export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

/** Base class: a stable `code`, an HTTP `statusCode` where one applies, and the `cause`. */
export class KeywayError extends Error {
  readonly code: ErrorCode;
  readonly statusCode: number | undefined;
  constructor(code: ErrorCode, message: string, options?: { statusCode?: number; cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'KeywayError';
    this.code = code;
    this.statusCode = options?.statusCode;
  }
}

/** One problem in a config: `path` is dotted (`backends.1.url`), empty for the root. */
export interface ConfigIssue {
  readonly path: string;
  readonly message: string;
}

/** The config failed validation; `issues` holds one entry per problem, each printable on one line. */
export class ConfigError extends KeywayError {
  readonly issues: readonly ConfigIssue[];
  constructor(issues: readonly ConfigIssue[]) {
    super(ErrorCodes.CONFIG_INVALID, `invalid config:\n${issues.map(formatIssue).join('\n')}`);
    this.name = 'ConfigError';
    this.issues = issues;
  }
}

/** The config file could not be read or parsed (missing file, bad JSON/YAML with its line, module threw). */
export class ConfigLoadError extends KeywayError {
  constructor(message: string, cause?: unknown) {
    super(ErrorCodes.CONFIG_LOAD, message, { cause });
    this.name = 'ConfigLoadError';
  }
}

/** No backend can take the request: 503. */
export class NoBackendError extends KeywayError {
  constructor(message = 'no healthy backend available') {
    super(ErrorCodes.PROXY_NO_BACKEND, message, { statusCode: 503 });
    this.name = 'NoBackendError';
  }
}

/** The backend refused, reset or sent garbage before a response: 502. */
export class UpstreamError extends KeywayError {
  constructor(message = 'bad gateway', cause?: unknown) {
    super(ErrorCodes.PROXY_UPSTREAM, message, { statusCode: 502, cause });
    this.name = 'UpstreamError';
  }
}

/** The backend did not answer in time: 504. */
export class UpstreamTimeoutError extends KeywayError {
  constructor(message = 'gateway timeout') {
    super(ErrorCodes.PROXY_TIMEOUT, message, { statusCode: 504 });
    this.name = 'UpstreamTimeoutError';
  }
}

/** The client sent something the gateway will not forward: 400 (or the given 4xx). */
export class BadRequestError extends KeywayError {
  constructor(message = 'bad request', statusCode = 400) {
    super(ErrorCodes.PROXY_BAD_REQUEST, message, { statusCode });
    this.name = 'BadRequestError';
  }
}

/** An admin route was called without the right credentials: 401. */
export class AdminUnauthorizedError extends KeywayError {
  constructor() {
    super(ErrorCodes.ADMIN_UNAUTHORIZED, 'admin token required', { statusCode: 401 });
    this.name = 'AdminUnauthorizedError';
  }
}

/** An admin route or resource does not exist: 404. */
export class AdminNotFoundError extends KeywayError {
  constructor(message = 'not found') {
    super(ErrorCodes.ADMIN_NOT_FOUND, message, { statusCode: 404 });
    this.name = 'AdminNotFoundError';
  }
}

/** An operation that the gateway's lifecycle state does not allow (listen twice, listen after close). */
export class GatewayStateError extends KeywayError {
  constructor(message: string) {
    super(ErrorCodes.GATEWAY_STATE, message);
    this.name = 'GatewayStateError';
  }
}

/** No route matches the request and there is no `defaultPool`: 404. */
export class NoRouteError extends KeywayError {
  constructor(message = 'no route matches this request') {
    super(ErrorCodes.PROXY_NO_ROUTE, message, { statusCode: 404 });
    this.name = 'NoRouteError';
  }
}

/** Redis could not be reached (at startup with `redis.required`, or for a call that needs it now). */
export class StoreUnavailableError extends KeywayError {
  constructor(message: string, cause?: unknown) {
    super(ErrorCodes.STORE_UNAVAILABLE, message, { cause });
    this.name = 'StoreUnavailableError';
  }
}

/** A store script answered with a status code that means a broken invariant (never a normal outcome). */
export class StoreScriptError extends KeywayError {
  constructor(message: string, cause?: unknown) {
    super(ErrorCodes.STORE_SCRIPT, message, { cause });
    this.name = 'StoreScriptError';
  }
}

/** A backend's boot handshake reports settings that differ from the topology's (`strictBootHandshake`). */
export class BootMismatchError extends KeywayError {
  constructor(message: string) {
    super(ErrorCodes.BOOT_MISMATCH, message);
    this.name = 'BootMismatchError';
  }
}

/** Codes a singleton call can reject with (`SingletonError.code`). */
export type SingletonErrorCode =
  | typeof ErrorCodes.SINGLETON_DEADLINE
  | typeof ErrorCodes.SINGLETON_OWNERSHIP_LOST
  | typeof ErrorCodes.SINGLETON_NO_OWNER
  | typeof ErrorCodes.SINGLETON_ACTION_FAILED
  | typeof ErrorCodes.SINGLETON_UNKNOWN_ACTION
  | typeof ErrorCodes.SINGLETON_OVERLOADED
  | typeof ErrorCodes.SINGLETON_CLOSED;

const SINGLETON_CODES: ReadonlySet<string> = new Set([
  ErrorCodes.SINGLETON_DEADLINE,
  ErrorCodes.SINGLETON_OWNERSHIP_LOST,
  ErrorCodes.SINGLETON_NO_OWNER,
  ErrorCodes.SINGLETON_ACTION_FAILED,
  ErrorCodes.SINGLETON_UNKNOWN_ACTION,
  ErrorCodes.SINGLETON_OVERLOADED,
  ErrorCodes.SINGLETON_CLOSED,
]);

/** Whether `code` is one of the singleton codes (a reply from another instance names its code as text). */
export function isSingletonErrorCode(code: string): code is SingletonErrorCode {
  return SINGLETON_CODES.has(code);
}

/**
 * A singleton call failed: its deadline passed (`SINGLETON_DEADLINE`, and the action's effect is not applied
 * later), the owner lost its lease before running it (`SINGLETON_OWNERSHIP_LOST`), nobody could own it
 * (`SINGLETON_NO_OWNER`), the action threw (`SINGLETON_ACTION_FAILED`, with the thrown message), the action is not
 * defined, too many calls wait, or the singleton is closed.
 */
export class SingletonError extends KeywayError {
  declare readonly code: SingletonErrorCode;
  /** The singleton's name. */
  readonly singleton: string;
  constructor(code: SingletonErrorCode, singleton: string, message: string, cause?: unknown) {
    super(code, message, { cause });
    this.name = 'SingletonError';
    this.singleton = singleton;
  }
}

export type RoomErrorCode = typeof ErrorCodes.ROOM_CLOSED | typeof ErrorCodes.ROOM_CONFLICT | typeof ErrorCodes.ROOM_LIMIT;

/**
 * A room refused: it or its group is closed (`ROOM_CLOSED`), `updateState` kept losing the race for the version
 * (`ROOM_CONFLICT`), or a bound was reached (`ROOM_LIMIT`: rooms, subscribers or members on this instance).
 */
export class RoomError extends KeywayError {
  declare readonly code: RoomErrorCode;
  /** The room's name ('' for the group). */
  readonly room: string;
  constructor(code: RoomErrorCode, room: string, message: string, cause?: unknown) {
    super(code, message, { cause });
    this.name = 'RoomError';
    this.room = room;
  }
}

export type ClusterErrorCode = typeof ErrorCodes.CLUSTER_NOT_READY | typeof ErrorCodes.CLUSTER_LISTEN | typeof ErrorCodes.CLUSTER_NO_WORKERS;

/**
 * A cluster could not serve: no worker became ready in time (`CLUSTER_NOT_READY`), the port could not be bound
 * (`CLUSTER_LISTEN`), or every worker slot gave up after repeated crashes (`CLUSTER_NO_WORKERS`).
 */
export class ClusterError extends KeywayError {
  declare readonly code: ClusterErrorCode;
  constructor(code: ClusterErrorCode, message: string, cause?: unknown) {
    super(code, message, { cause });
    this.name = 'ClusterError';
  }
}

/** `path: message`, or just the message for a root-level problem. */
export function formatIssue(issue: ConfigIssue): string {
  return issue.path ? `${issue.path}: ${issue.message}` : issue.message;
}
