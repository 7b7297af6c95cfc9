/**
 * @module gateway/http-server: the client-facing node:http server: its timeouts and limits, what llhttp lets through
 * but the gateway refuses, answers to malformed HTTP, and the request-target checks the gateway makes first.
 */
import http from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { GatewayConfig } from '../config/index.js';
import { framingError, sendError } from '../proxy/index.js';

/** Whether `url` is `prefix` or below it (`prefix/...`, `prefix?...`). */
export function isPath(url: string, prefix: string): boolean {
  if (!url.startsWith(prefix)) return false;
  const next = url.charCodeAt(prefix.length);
  return Number.isNaN(next) || next === 47 /* / */ || next === 63 /* ? */;
}

/** `/path`, not absolute-form (`http://host/`), authority-like `//host` or `*`: only these are forwarded. */
export function isOriginForm(url: string): boolean {
  return url.charCodeAt(0) === 47 /* / */ && url.charCodeAt(1) !== 47;
}

/** The listening server, with the client-side timeouts and limits from the config. */
export function createServer(config: GatewayConfig, onRequest: (req: IncomingMessage, res: ServerResponse) => void): http.Server {
  const t = config.timeouts;
  // node refuses a headers timeout longer than the request timeout.
  const headersTimeout = t.requestMs > 0 ? Math.min(t.clientHeadersMs, t.requestMs) : t.clientHeadersMs;
  const server = http.createServer(
    {
      headersTimeout,
      requestTimeout: t.requestMs,
      keepAliveTimeout: t.clientIdleMs,
      maxHeaderSize: config.limits.maxHeaderBytes,
      // How often node looks for connections past those timeouts; its default (30 s) lets slowloris linger.
      connectionsCheckingInterval: Math.max(100, Math.min(1000, Math.floor(headersTimeout / 2))),
    },
    (req, res) => {
      // What llhttp lets through but must never reach a backend (duplicate Host, odd transfer codings).
      const refused = framingError(req);
      if (refused === null) return onRequest(req, res);
      sendError(res, refused, true);
      req.resume();
    },
  );
  return server;
}

/** Malformed HTTP from a client: answer 400 (431 for oversized headers, 408 for a timeout) and close; never crash. */
export function onClientError(err: NodeJS.ErrnoException, socket: Socket): void {
  // As node's own handler does: a response already on the wire (a bad chunk in a body the backend is answering)
  // must not have an error answer written into it; the connection is cut instead. `_httpMessage` is node's.
  const inFlight = (socket as Socket & { _httpMessage?: ServerResponse | null })._httpMessage;
  if (!socket.writable || err.code === 'ECONNRESET' || (inFlight != null && inFlight.headersSent)) {
    socket.destroy();
    return;
  }
  const status = err.code === 'HPE_HEADER_OVERFLOW' ? 431 : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
  const message = status === 431 ? 'request header fields too large' : status === 408 ? 'request timeout' : 'bad request';
  const body = JSON.stringify({ error: message, code: 'KW_ERR_PROXY_BAD_REQUEST' });
  socket.end(
    `HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
  );
}
