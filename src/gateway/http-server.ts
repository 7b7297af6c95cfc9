/**
 * @module gateway/http-server: the client-facing node:http server: its timeouts and limits, the deadline every
 * client socket lives under, and the answer to HTTP that llhttp cannot parse.
 */
import http from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { GatewayConfig } from '../config/index.js';

/** When the socket was first seen waiting for a request head (ms since the epoch); 0 while a request is served. */
const kWaitingSince = Symbol('keyway.waitingSince');
/** Whether the socket has carried a request already (then the wait includes the keep-alive idle time). */
const kServed = Symbol('keyway.served');

type TrackedSocket = Socket & { [kWaitingSince]: number; [kServed]: boolean; _httpMessage?: ServerResponse | null };

/** The listening server with its deadlines; `forget` hands a socket over (an upgrade), `close` stops the sweep. */
export interface ClientServer {
  readonly server: http.Server;
  /** The socket is no longer HTTP (upgraded): its deadline is the tunnel's business now. */
  forget(socket: Socket): void;
  close(): void;
}

/** The listening server, with the client-side timeouts and limits from the config. */
export function createServer(config: GatewayConfig, onRequest: (req: IncomingMessage, res: ServerResponse) => void): ClientServer {
  const t = config.timeouts;
  // node refuses a headers timeout longer than the request timeout.
  const headersTimeout = t.requestMs > 0 ? Math.min(t.clientHeadersMs, t.requestMs) : t.clientHeadersMs;
  const sweepMs = Math.max(100, Math.min(1000, Math.floor(headersTimeout / 2)));
  const server = http.createServer(
    {
      headersTimeout,
      requestTimeout: t.requestMs,
      keepAliveTimeout: t.clientIdleMs,
      maxHeaderSize: config.limits.maxHeaderBytes,
      // How often node looks for connections past those timeouts; its default (30 s) lets slowloris linger.
      connectionsCheckingInterval: sweepMs,
    },
    (req, res) => {
      (req.socket as TrackedSocket)[kWaitingSince] = 0;
      onRequest(req, res);
    },
  );
  // node's default (2,000) silently drops the fields past it from `req.headers` while llhttp still acts on them
  // (a hidden Content-Length frames a body the gateway never sees). All are parsed (maxHeaderBytes bounds them)
  // and admission answers 431 past `limits.maxHeaderCount`.
  server.maxHeadersCount = 0;
  if (config.limits.maxConnections !== undefined) server.maxConnections = config.limits.maxConnections;
  const sockets = new Set<TrackedSocket>();
  server.on('connection', (socket: TrackedSocket) => {
    socket[kWaitingSince] = Date.now();
    socket[kServed] = false;
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  const firstMs = headersTimeout;
  const betweenMs = t.clientIdleMs + headersTimeout;
  // node's headersTimeout runs only once a request line has started, and its keep-alive timeout restarts on every
  // byte, so a socket that sends nothing, or a CRLF now and then, would be held for ever. One sweep gives each a
  // deadline from accept (or the end of its last answer) to a complete request head.
  const sweep = setInterval(() => {
    const now = Date.now();
    for (const s of sockets) {
      if (s._httpMessage != null) continue; // an answer is in progress: the request and upstream deadlines apply
      const since = s[kWaitingSince];
      if (since === 0) {
        s[kWaitingSince] = now;
        s[kServed] = true;
      } else if (now - since > (s[kServed] ? betweenMs : firstMs)) {
        s.destroy();
      }
    }
  }, sweepMs).unref();
  return {
    server,
    forget: (socket) => void sockets.delete(socket as TrackedSocket),
    close: () => clearInterval(sweep),
  };
}

/** Malformed HTTP from a client: answer 400 (431 for oversized headers, 408 for a timeout) and close; never crash. */
export function onClientError(err: NodeJS.ErrnoException, socket: Socket): void {
  // As node's own handler does: a response already on the wire (a bad chunk in a body the backend is answering)
  // must not have an error answer written into it; the connection is cut instead. `_httpMessage` is node's.
  const inFlight = (socket as Socket & { _httpMessage?: ServerResponse | null })._httpMessage;
  if (!socket.writable || err.code === 'ECONNRESET') {
    socket.destroy();
    return;
  }
  if (inFlight != null && inFlight.req.complete) {
    // The bad bytes follow complete (pipelined) requests whose answers are still coming: an answer written now
    // would be read as theirs. They are answered in order, then the connection closes without one for the junk.
    closeWhenAnswered(socket);
    return;
  }
  if (inFlight != null && inFlight.headersSent) {
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

/** Ends `socket` once node has no answer in flight or queued on it (it assigns the next queued one on finish). */
function closeWhenAnswered(socket: Socket): void {
  const current = (socket as Socket & { _httpMessage?: ServerResponse | null })._httpMessage;
  if (current == null) {
    socket.end();
    return;
  }
  current.once('finish', () => setImmediate(() => closeWhenAnswered(socket)));
  current.once('close', () => setImmediate(() => closeWhenAnswered(socket)));
}
