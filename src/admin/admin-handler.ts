/**
 * @module admin/admin-handler: routes under `admin.path`. Reads (`GET /health`, `/backends`, `/metrics`) answer
 * loopback clients or the bearer token; every write needs the token, even from loopback. Answers are JSON;
 * errors use the proxy's `{ error, code }` shape.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { resolveRuntimeBackend } from '../config/index.js';
import {
  AdminNotFoundError,
  AdminUnauthorizedError,
  BadRequestError,
  ConfigError,
  ConfigLoadError,
  ErrorCodes,
  GatewayStateError,
  KeywayError,
} from '../errors.js';
import type { AdminHandler, Gateway } from '../gateway/index.js';
import { sendError } from '../proxy/index.js';
import type { AdminState } from '../upstream/index.js';
import { AdminAccess } from './access.js';
import { buildBackendList, buildHealthStatus } from './health-status.js';
import { readJsonObject } from './read-body.js';

const UNAUTHORIZED = new AdminUnauthorizedError();
const NOT_FOUND = new AdminNotFoundError('no such admin route');
const NO_BACKEND = new AdminNotFoundError('no such backend');
const NO_METRICS = new AdminNotFoundError('metrics are disabled');
const METHOD = new KeywayError(ErrorCodes.ADMIN_NOT_FOUND, 'method not allowed', { statusCode: 405 });
const ACTIONS: ReadonlyMap<string, AdminState> = new Map<string, AdminState>([
  ['drain', 'draining'],
  ['disable', 'disabled'],
  ['enable', 'enabled'],
]);

/** Builds the admin handler for `gateway`. */
export function createAdminHandler(gateway: Gateway): AdminHandler {
  const access = new AdminAccess(gateway.config.admin.token);
  const prefix = gateway.config.admin.path;
  return (req: IncomingMessage, res: ServerResponse) => {
    const url = req.url ?? '';
    const q = url.indexOf('?');
    const route = (q === -1 ? url : url.slice(0, q)).slice(prefix.length) || '/';
    const method = req.method ?? 'GET';
    const write = method !== 'GET' && method !== 'HEAD';
    if (!(write ? access.hasToken(req) : access.mayRead(req))) {
      req.resume();
      res.setHeader('www-authenticate', 'Bearer');
      sendError(res, UNAUTHORIZED, false);
      return;
    }
    route_(gateway, route, method, req, res).catch((err: unknown) => {
      const known = err instanceof KeywayError ? err : new KeywayError(ErrorCodes.GATEWAY_STATE, 'admin operation failed', { statusCode: 500, cause: err });
      if (err instanceof ConfigError) {
        sendJson(res, 400, { error: 'invalid backend', code: err.code, issues: err.issues });
        return;
      }
      sendError(res, known, false);
    });
  };
}

async function route_(gw: Gateway, route: string, method: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const parts = route.split('/').filter(Boolean).map(safeDecode);
  const [first, id, action] = parts;
  if (parts.length === 1 && first === 'health') return read(method, req, res, () => sendJson(res, 200, buildHealthStatus(gw)));
  if (parts.length === 1 && first === 'metrics') {
    return read(method, req, res, async () => {
      const metrics = gw.metrics;
      if (metrics === null) return sendError(res, NO_METRICS, false);
      const body = await metrics.render();
      res.writeHead(200, { 'content-type': metrics.contentType, 'cache-control': 'no-store' });
      res.end(body);
    });
  }
  if (parts.length === 1 && first === 'topology') {
    return read(method, req, res, () => sendJson(res, 200, { pools: gw.pools, defaultPool: gw.config.defaultPool, shared: gw.shared }));
  }
  if (parts.length === 1 && first === 'reload') {
    req.resume();
    if (method !== 'POST') return methodNotAllowed(req, res, 'POST');
    return reload(gw, res);
  }
  if (first !== 'backends') return notFound(req, res);
  if (parts.length === 1) {
    if (method === 'POST') return addBackend(gw, req, res);
    return read(method, req, res, () => sendJson(res, 200, { backends: buildBackendList(gw) }));
  }
  if (id === undefined) return notFound(req, res);
  if (parts.length === 2) {
    if (method === 'PATCH') return patchBackend(gw, id, req, res);
    if (method === 'DELETE') return answer(res, gw.removeBackend(id), req);
    return read(method, req, res, () => {
      const found = buildBackendList(gw).find((b) => String(b.id) === id);
      if (found === undefined) sendError(res, NO_BACKEND, false);
      else sendJson(res, 200, found);
    });
  }
  const state = action === undefined ? undefined : ACTIONS.get(action);
  if (parts.length === 3 && state !== undefined) {
    if (method !== 'POST') return methodNotAllowed(req, res, 'POST');
    return answer(res, gw.setAdminState(id, state), req);
  }
  return notFound(req, res);
}

/** Re-reads the config; a file that cannot be loaded or is invalid is a 400 and the running config stays. */
async function reload(gw: Gateway, res: ServerResponse): Promise<void> {
  let summary;
  try {
    summary = await gw.reload();
  } catch (err) {
    if (err instanceof ConfigError) return sendJson(res, 400, { error: 'invalid config: reload refused', code: err.code, issues: err.issues });
    if (err instanceof ConfigLoadError) return sendJson(res, 400, { error: err.message, code: err.code });
    // Not started from a file: nothing to re-read.
    if (err instanceof GatewayStateError) return sendJson(res, 409, { error: err.message, code: err.code });
    throw err;
  }
  sendJson(res, 200, summary);
}

async function read(method: string, req: IncomingMessage, res: ServerResponse, run: () => void | Promise<void>): Promise<void> {
  req.resume();
  if (method !== 'GET' && method !== 'HEAD') return methodNotAllowed(req, res, 'GET, HEAD');
  await run();
}

async function patchBackend(gw: Gateway, id: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const body = await readJsonObject(req);
  answer(res, gw.setWeight(id, body.weight as number), req);
}

async function addBackend(gw: Gateway, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const body = await readJsonObject(req);
  if (body.id === undefined) throw new BadRequestError('id: required when adding a backend');
  const backend = resolveRuntimeBackend(gw.config, body);
  if (!gw.config.pools.some((p) => p.name === backend.pool)) throw new BadRequestError(`pool: no pool named ${JSON.stringify(backend.pool)}`);
  const added = gw.addBackend(backend);
  if (added === null) throw new KeywayError(ErrorCodes.ADMIN_CONFLICT, `backend id ${JSON.stringify(backend.id)} already exists`, { statusCode: 409 });
  sendJson(res, 201, added);
}

function answer(res: ServerResponse, value: unknown, req: IncomingMessage): void {
  req.resume();
  if (value === null) sendError(res, NO_BACKEND, false);
  else sendJson(res, 200, value);
}

function notFound(req: IncomingMessage, res: ServerResponse): void {
  req.resume();
  sendError(res, NOT_FOUND, false);
}

function methodNotAllowed(req: IncomingMessage, res: ServerResponse, allow: string): void {
  req.resume();
  res.setHeader('allow', allow);
  sendError(res, METHOD, false);
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

function sendJson(res: ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
  });
  res.end(body);
}
