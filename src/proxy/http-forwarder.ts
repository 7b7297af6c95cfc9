/**
 * @module proxy/http-forwarder: forwards one HTTP request to a chosen backend and streams the answer back.
 * Bodies stream both ways with backpressure (pipe), so memory stays bounded whatever their size.
 */
import http from 'node:http';
import https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { UpstreamError, UpstreamTimeoutError } from '../errors.js';
import type { Upstream } from '../upstream/index.js';
import { sendError } from './error-response.js';
import { filterResponseHeaders } from './response-headers.js';
import { buildRequestHeaders, type RequestHeaderOptions } from './request-headers.js';
import { DeadlineExceeded, openUpstreamRequest, type Deadlines, type UpstreamAgents } from './upstream-request.js';

export interface ForwarderOptions extends RequestHeaderOptions, Deadlines {}

/** Hooks the gateway gives each exchange. */
export interface ExchangeHooks {
  /** Extra response header lines (Set-Cookie for stickiness); may be undefined. */
  readonly setCookie: string | undefined;
  /** Ask the client to close the connection after this response (graceful shutdown). */
  readonly closeConnection: boolean;
}

const UPSTREAM_ERROR = new UpstreamError('bad gateway: the backend failed to answer');
const TIMEOUT_ERROR = new UpstreamTimeoutError('gateway timeout: the backend did not answer in time');

export class HttpForwarder {
  readonly #options: ForwarderOptions;
  readonly #agents: UpstreamAgents;

  constructor(options: ForwarderOptions) {
    this.#options = options;
    // Idle sockets are dropped before node's default 5 s server keep-alive timeout would close them
    // under us, which would otherwise surface as resets on reuse.
    const agentOptions = { keepAlive: true, maxFreeSockets: 256, scheduling: 'lifo' as const, timeout: 4000 };
    this.#agents = { http: new http.Agent(agentOptions), https: new https.Agent(agentOptions) };
  }

  /**
   * Forwards `req` to `upstream`. `onEnd` runs exactly once, when the client-side response is closed
   * (finished, failed or aborted), so counters stay true however the exchange ends.
   */
  forward(req: IncomingMessage, res: ServerResponse, upstream: Upstream, hooks: ExchangeHooks, onEnd: () => void): void {
    const headers = buildRequestHeaders(req, this.#options, hostOf(upstream), false);
    const proxyReq = openUpstreamRequest(upstream, req.method ?? 'GET', req.url ?? '/', headers, this.#agents, this.#options);
    res.once('close', () => {
      // The client went away (or the exchange ended): nothing upstream should outlive it.
      if (!res.writableFinished) proxyReq.destroy();
      onEnd();
    });
    proxyReq.on('error', (err) => {
      const closeConnection = !req.complete;
      sendError(res, err instanceof DeadlineExceeded ? TIMEOUT_ERROR : UPSTREAM_ERROR, closeConnection);
    });
    proxyReq.on('response', (proxyRes) => relayResponse(proxyRes, res, hooks));
    req.pipe(proxyReq);
  }

  /** Closes idle upstream sockets. In-flight requests keep theirs. */
  close(): void {
    this.#agents.http.destroy();
    this.#agents.https.destroy();
  }
}

function relayResponse(proxyRes: IncomingMessage, res: ServerResponse, hooks: ExchangeHooks): void {
  const headers = filterResponseHeaders(proxyRes.rawHeaders, proxyRes.headers.connection);
  if (hooks.setCookie !== undefined) headers.push('set-cookie', hooks.setCookie);
  if (hooks.closeConnection) headers.push('connection', 'close');
  res.writeHead(proxyRes.statusCode ?? 502, proxyRes.statusMessage, headers);
  proxyRes.pipe(res, { end: false });
  proxyRes.once('end', () => {
    if (proxyRes.rawTrailers.length > 0) res.addTrailers(pairs(proxyRes.rawTrailers));
    res.end();
  });
  proxyRes.once('close', () => {
    // A backend that stops mid-body must not look like a complete response to the client.
    if (!proxyRes.complete) res.destroy();
  });
}

/** `host:port` of the backend, for when the client's Host is not kept. */
export function hostOf(upstream: Upstream): string {
  const t = upstream.target;
  const name = t.hostname.includes(':') ? `[${t.hostname}]` : t.hostname;
  const defaultPort = t.protocol === 'https:' ? 443 : 80;
  return t.port === defaultPort ? name : `${name}:${t.port}`;
}

function pairs(flat: readonly string[]): [string, string][] {
  const out: [string, string][] = [];
  for (let i = 0; i < flat.length; i += 2) out.push([flat[i] as string, flat[i + 1] as string]);
  return out;
}
