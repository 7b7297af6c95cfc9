/**
 * @module proxy/websocket-forwarder: tunnels a WebSocket upgrade to a backend. Frames are not parsed: once
 * the backend answers 101 the two sockets are piped together, and either side closing tears down both.
 */
import type { ClientRequest, IncomingMessage } from 'node:http';
import { ServerResponse, STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { Answers } from './answers.js';
import type { Upstream } from '../upstream/index.js';
import { sendError, writeBackendHead } from './error-response.js';
import type { RequestHeaderOptions } from './request-headers.js';
import { filterResponseHeaders } from './response-headers.js';
import { buildRequestHeaders } from './request-headers.js';
import { DeadlineExceeded, hostOf, openUpstreamRequest } from './upstream-request.js';


export interface WebSocketOptions extends RequestHeaderOptions {
  readonly connectMs: number;
  /** The backend must answer the upgrade within this (ms); else 504. */
  readonly handshakeMs: number;
  /** Close a tunnel with no traffic either way for this long (ms); 0 = never. */
  readonly idleMs: number;
  /** Close a tunnel after this many bytes in both directions together; undefined = no limit. */
  readonly maxBytes: number | undefined;
}

/** Per-tunnel callbacks from the gateway. */
export interface TunnelHooks {
  /** The backend accepted the upgrade (101). */
  onOpen(): void;
  /** The backend could not be reached or did not answer the handshake in time. */
  onFailed(): void;
  /** The client socket is gone. Called exactly once. */
  onEnd(): void;
}

export class WebSocketForwarder {
  readonly #options: WebSocketOptions;
  readonly #deadlines: { connectMs: number; responseMs: number };
  /** Open client sockets (handshaking or tunnelled), so shutdown can close them. */
  readonly #sockets = new Set<Duplex>();

  constructor(options: WebSocketOptions) {
    this.#options = options;
    this.#deadlines = { connectMs: options.connectMs, responseMs: options.handshakeMs };
  }

  /**
   * Forwards an upgrade that passed admission. `res` is the answer bound to the client socket
   * (`responseOnSocket`): anything but a 101 from the backend, and every failure, is answered through it as an
   * ordinary response, after which the connection closes; only a 101 turns the socket into a tunnel.
   * `hooks.onEnd` runs once, when the client socket is gone.
   */
  forward(req: IncomingMessage, res: ServerResponse, socket: Duplex, head: Buffer, upstream: Upstream, setCookie: string | undefined, hooks: TunnelHooks): void {
    this.#sockets.add(socket);
    socket.once('close', () => {
      this.#sockets.delete(socket);
      hooks.onEnd();
    });
    const headers = buildRequestHeaders(req, this.#options, hostOf(upstream.target), true);
    let proxyReq: ClientRequest;
    try {
      // A one-off socket: an upgraded connection never returns to a keep-alive pool.
      proxyReq = openUpstreamRequest(upstream.target, req.method ?? 'GET', req.url ?? '/', headers, false, this.#deadlines);
    } catch {
      sendError(res, Answers.unforwardable, true);
      return;
    }
    socket.once('close', () => proxyReq.destroy());
    proxyReq.on('error', (err) => {
      hooks.onFailed();
      sendError(res, err instanceof DeadlineExceeded ? Answers.wsTimeout : Answers.wsFailed, true);
    });
    proxyReq.on('response', (answer) => relayRefusal(answer, res));
    proxyReq.on('upgrade', (proxyRes, proxySocket, proxyHead) => {
      if (socket.destroyed) {
        proxySocket.destroy();
        return;
      }
      // From here the socket is a tunnel: the bound response must never write on it.
      res.detachSocket(socket as Socket);
      proxySocket.on('error', () => socket.destroy());
      proxySocket.once('close', () => socket.destroy());
      socket.once('close', () => proxySocket.destroy());
      const lines = statusLine(proxyRes) + headerLines(filterResponseHeaders(proxyRes.rawHeaders, undefined, true), setCookie);
      socket.write(lines);
      if (proxyHead.length > 0) socket.write(proxyHead);
      if (head.length > 0) proxySocket.write(head);
      proxySocket.pipe(socket);
      socket.pipe(proxySocket);
      this.#applyLimits(socket, proxySocket);
      hooks.onOpen();
    });
    proxyReq.end();
  }

  /** Idle timeout and byte budget; each costs nothing unless configured. */
  #applyLimits(socket: Duplex, proxySocket: Duplex): void {
    const { idleMs, maxBytes } = this.#options;
    if (idleMs > 0 && 'setTimeout' in socket) {
      // The client socket sees traffic both ways (it reads what it sends and writes what it gets).
      (socket as import('node:net').Socket).setTimeout(idleMs, () => socket.destroy());
    }
    if (maxBytes !== undefined) {
      let bytes = 0;
      const count = (chunk: Buffer): void => {
        bytes += chunk.length;
        if (bytes > maxBytes) socket.destroy();
      };
      socket.on('data', count);
      proxySocket.on('data', count);
    }
  }

  /** Ends every open WebSocket now (after the shutdown grace period). */
  destroyAll(): void {
    for (const s of this.#sockets) s.destroy();
  }
}

/**
 * The backend answered the upgrade with an ordinary response: relay it as one, then close. The client's bytes
 * after the refused handshake are never piped anywhere (no upgrade smuggling).
 */
function relayRefusal(answer: IncomingMessage, res: ServerResponse): void {
  if (res.destroyed) {
    answer.destroy();
    return;
  }
  const headers = filterResponseHeaders(answer.rawHeaders, answer.headers.connection);
  if (writeBackendHead(res, answer, answer.statusCode ?? 502, headers, true)) answer.pipe(res);
}

/**
 * True when `socket` came with an upgrade pipelined behind a request still being answered: node hands the socket over
 * while that earlier response owns it, so no second response can be written on it. The earlier answer is finished,
 * then the connection closes with the upgrade unanswered, which RFC 9112 §9.3.2 allows (a client retries unanswered
 * pipelined requests). Without this, answering the upgrade throws and a half-closed socket outlives the server.
 */
export function closedBehindPending(socket: Duplex): boolean {
  const earlier = (socket as Socket & { _httpMessage?: ServerResponse | null })._httpMessage;
  if (earlier === undefined || earlier === null) return false;
  socket.on('error', () => socket.destroy());
  // Said in the earlier answer when its head is not out yet, so the client knows not to wait.
  if (!earlier.headersSent) earlier.shouldKeepAlive = false;
  const close = (): void => {
    (socket as Socket).destroySoon();
  };
  if (earlier.writableFinished || earlier.destroyed) close();
  else {
    earlier.once('finish', close);
    earlier.once('close', close);
  }
  return true;
}

/**
 * A response written on a socket node handed over for an upgrade, so the gateway answers refused or non-WebSocket
 * upgrades exactly as it answers requests. The connection closes once it is sent: node parses nothing more on it.
 */
export function responseOnSocket(req: IncomingMessage, socket: Duplex): ServerResponse {
  // node:http hands over the socket without an error listener; a client reset must not crash us.
  socket.on('error', () => socket.destroy());
  const res = new ServerResponse(req);
  res.shouldKeepAlive = false;
  res.assignSocket(socket as Socket);
  res.once('finish', () => {
    if (res.socket === socket) socket.end();
  });
  return res;
}

function statusLine(res: IncomingMessage): string {
  const status = res.statusCode ?? 502;
  return `HTTP/1.1 ${status} ${res.statusMessage || STATUS_CODES[status] || ''}\r\n`;
}

function headerLines(flat: readonly string[], setCookie: string | undefined): string {
  let out = '';
  for (let i = 0; i < flat.length; i += 2) out += `${flat[i]}: ${flat[i + 1]}\r\n`;
  if (setCookie !== undefined) out += `set-cookie: ${setCookie}\r\n`;
  return `${out}\r\n`;
}
