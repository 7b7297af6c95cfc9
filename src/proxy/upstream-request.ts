/**
 * @module proxy/upstream-request: opens the request to a backend and runs its connect and response-header
 * deadlines. Shared by HTTP and WebSocket forwarding so both time out the same way.
 */
import http from 'node:http';
import https from 'node:https';
import type { Upstream } from '../upstream/index.js';

export interface UpstreamAgents {
  readonly http: http.Agent;
  readonly https: https.Agent;
}

export interface Deadlines {
  readonly connectMs: number;
  readonly responseMs: number;
}

/** Emitted on the ClientRequest (as an `error`) when a deadline passes, so one error path handles it. */
export class DeadlineExceeded extends Error {
  constructor(readonly phase: 'connect' | 'response') {
    super(`upstream ${phase} deadline exceeded`);
    this.name = 'DeadlineExceeded';
  }
}

/** Opens `method path` on `upstream` with the given headers; `agent: false` for a one-off socket. */
export function openUpstreamRequest(
  upstream: Upstream,
  method: string,
  path: string,
  headers: string[],
  agents: UpstreamAgents | false,
  deadlines: Deadlines,
): http.ClientRequest {
  const t = upstream.target;
  const secure = t.protocol === 'https:';
  const options: https.RequestOptions = {
    protocol: t.protocol,
    hostname: t.hostname,
    port: t.port,
    method,
    path: t.basePath === '' ? path : t.basePath + path,
    headers: headers as unknown as http.OutgoingHttpHeaders,
    setHost: false,
    agent: agents === false ? false : secure ? agents.https : agents.http,
  };
  if (secure) options.servername = t.hostname;
  const req = (secure ? https : http).request(options);
  armDeadlines(req, deadlines);
  return req;
}

/**
 * One timer per request: first the connect deadline, then whatever is left of the response deadline.
 * Cleared on the response (or upgrade) and on close.
 */
function armDeadlines(req: http.ClientRequest, d: Deadlines): void {
  const started = Date.now();
  let timer: NodeJS.Timeout | undefined;
  const fire = (): void => {
    const socket = req.socket;
    if (socket === null || socket.connecting) {
      req.destroy(new DeadlineExceeded('connect'));
      return;
    }
    const left = d.responseMs - (Date.now() - started);
    if (left > 0) timer = setTimeout(fire, left).unref();
    else req.destroy(new DeadlineExceeded('response'));
  };
  timer = setTimeout(fire, Math.min(d.connectMs, d.responseMs)).unref();
  const clear = (): void => clearTimeout(timer);
  req.once('response', clear);
  req.once('upgrade', clear);
  req.once('close', clear);
}
