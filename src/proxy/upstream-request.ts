/**
 * @module proxy/upstream-request: the one way anything in keyway opens a request to a backend or a member: the
 * keep-alive agents, the target, and the connect and response-header deadlines. Used by HTTP and WebSocket
 * forwarding and by the coordinator's Fastify helpers, so all of them connect and time out the same way.
 */
import http from 'node:http';
import https from 'node:https';
import type { UpstreamTarget } from '../upstream/index.js';

export interface UpstreamAgents {
  readonly http: http.Agent;
  readonly https: https.Agent;
}

/**
 * Keep-alive agents for upstream requests. Idle sockets are dropped after 4 s, before node's default 5 s server
 * keep-alive timeout would close them under us (a reset on reuse); free sockets are unref()ed by node, so the
 * agents never hold a process open.
 */
export function createUpstreamAgents(maxFreeSockets = 256): UpstreamAgents {
  const options = { keepAlive: true, maxFreeSockets, scheduling: 'lifo' as const, timeout: 4000 };
  return { http: new http.Agent(options), https: new https.Agent(options) };
}

/** `host[:port]` of `target` as a Host header says it (the port only when it is not the protocol's default). */
export function hostOf(target: UpstreamTarget): string {
  const name = target.hostname.includes(':') ? `[${target.hostname}]` : target.hostname;
  const defaultPort = target.protocol === 'https:' ? 443 : 80;
  return target.port === defaultPort ? name : `${name}:${target.port}`;
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

/**
 * Opens `method path` on `target` (after its base path) with the given headers, which must hold `Host`;
 * `agents: false` for a one-off socket, `deadlines: null` for none (the caller runs its own inactivity limit).
 */
export function openUpstreamRequest(
  target: UpstreamTarget,
  method: string,
  path: string,
  headers: string[] | http.OutgoingHttpHeaders,
  agents: UpstreamAgents | false,
  deadlines: Deadlines | null,
): http.ClientRequest {
  const t = target;
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
  if (deadlines !== null) armDeadlines(req, deadlines);
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
