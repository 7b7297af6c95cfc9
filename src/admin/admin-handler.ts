/**
 * @module admin/admin-handler: routes under `admin.path`. Today: `GET /health` (status JSON). Every answer
 * is JSON; unknown routes are 404 and refused callers 401, both in the proxy's error shape.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { AdminNotFoundError, AdminUnauthorizedError, KeywayError } from '../errors.js';
import type { AdminHandler, Gateway } from '../gateway/index.js';
import { sendError } from '../proxy/index.js';
import { AdminAccess } from './access.js';
import { buildHealthStatus } from './health-status.js';

const UNAUTHORIZED = new AdminUnauthorizedError();
const NOT_FOUND = new AdminNotFoundError('no such admin route');
const METHOD = new KeywayError('KW_ERR_ADMIN_NOT_FOUND', 'method not allowed', { statusCode: 405 });

/** Builds the admin handler for `gateway`. */
export function createAdminHandler(gateway: Gateway): AdminHandler {
  const access = new AdminAccess(gateway.config.admin.token);
  const prefix = gateway.config.admin.path;
  return (req: IncomingMessage, res: ServerResponse) => {
    req.resume();
    if (!access.mayRead(req)) {
      res.setHeader('www-authenticate', 'Bearer');
      sendError(res, UNAUTHORIZED, false);
      return;
    }
    const url = req.url ?? '';
    const q = url.indexOf('?');
    const route = (q === -1 ? url : url.slice(0, q)).slice(prefix.length) || '/';
    if (route === '/health') {
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.setHeader('allow', 'GET, HEAD');
        sendError(res, METHOD, false);
        return;
      }
      sendJson(res, 200, buildHealthStatus(gateway));
      return;
    }
    sendError(res, NOT_FOUND, false);
  };
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
