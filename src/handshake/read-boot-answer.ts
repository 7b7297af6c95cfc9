/**
 * @module handshake/read-boot-answer: one read of one backend's boot handshake over HTTP(S), mirroring
 * health/probe: a fresh connection, a deadline, an abort signal. It never throws and leaves no socket or
 * timer behind.
 */
import { request as httpRequest, type ClientRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { UpstreamTarget } from '../upstream/index.js';
import { parseBootAnswer, type BootAnswer } from './boot-answer.js';

/** Largest answer read (bytes); a backend sending more is treated as having no handshake. */
const MAX_BODY_BYTES = 64 * 1024;

/**
 * The outcome of one read. `answered`: a valid handshake. `invalid`: the backend answered HTTP but with no
 * handshake (404, another 4xx, a 2xx that is not the JSON): it does not run the helper on that path.
 * `unreachable`: no answer, a timeout or a 5xx, which says nothing about its settings.
 */
export type BootRead =
  | { readonly kind: 'answered'; readonly answer: BootAnswer }
  | { readonly kind: 'invalid'; readonly reason: string }
  | { readonly kind: 'unreachable'; readonly reason: string };

/** Options of {@link readBootAnswer}. */
export interface BootReadOptions {
  /** Handshake path, prefixed with the target's `basePath`. */
  readonly path: string;
  /** Deadline for the whole exchange, body included (ms). */
  readonly timeoutMs: number;
  /** Aborts the read; it then resolves `unreachable` with reason `aborted`. */
  readonly signal?: AbortSignal | undefined;
}

/**
 * GETs the handshake of the backend at `target` on a new connection (`agent: false`, as health probes do,
 * so a read also proves the backend accepts connections now).
 *
 * @example
 * const r = await readBootAnswer(upstream.target, { path: '/.well-known/keyway/boot', timeoutMs: 2000 });
 * if (r.kind === 'answered') console.log(r.answer.bootId);
 */
export function readBootAnswer(target: UpstreamTarget, options: BootReadOptions): Promise<BootRead> {
  if (options.signal?.aborted) return Promise.resolve({ kind: 'unreachable', reason: 'aborted' });
  return new Promise<BootRead>((resolve) => {
    let outcome: BootRead | undefined;
    const settle = (read: BootRead): void => {
      outcome ??= read;
    };
    let req: ClientRequest;
    try {
      req = send(target, options.path);
    } catch (err) {
      resolve({ kind: 'unreachable', reason: describe(err) });
      return;
    }
    const fail = (reason: string): void => {
      settle({ kind: 'unreachable', reason });
      req.destroy();
    };
    const onAbort = (): void => fail('aborted');
    const timer = setTimeout(() => fail('timeout'), options.timeoutMs);
    timer.unref(); // the pending socket holds the loop open; the deadline need not
    options.signal?.addEventListener('abort', onAbort, { once: true });
    req.on('response', (res) => onResponse(res, settle, () => req.destroy()));
    req.on('error', (err) => settle({ kind: 'unreachable', reason: describe(err) }));
    // 'close' comes last in every path (answered, refused, destroyed), when the socket is gone.
    req.on('close', () => {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      resolve(outcome ?? { kind: 'unreachable', reason: 'no response' });
    });
    req.end();
  });
}

function onResponse(res: IncomingMessage, settle: (read: BootRead) => void, destroy: () => void): void {
  const status = res.statusCode ?? 0;
  if (status < 200 || status >= 300) {
    settle(status >= 500 ? { kind: 'unreachable', reason: `status ${status}` } : { kind: 'invalid', reason: `status ${status}` });
    res.resume();
    return;
  }
  const chunks: Buffer[] = [];
  let size = 0;
  res.on('data', (chunk: Buffer) => {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) {
      settle({ kind: 'invalid', reason: 'answer too large' });
      destroy();
      return;
    }
    chunks.push(chunk);
  });
  res.on('error', () => {}); // the request's 'error' or 'close' reports it
  res.on('end', () => settle(parse(Buffer.concat(chunks).toString('utf8'))));
}

function parse(text: string): BootRead {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { kind: 'invalid', reason: 'answer is not JSON' };
  }
  const parsed = parseBootAnswer(value);
  return 'answer' in parsed ? { kind: 'answered', answer: parsed.answer } : { kind: 'invalid', reason: parsed.error };
}

function send(target: UpstreamTarget, path: string): ClientRequest {
  const { protocol, hostname, port, basePath } = target;
  const request = protocol === 'https:' ? httpsRequest : httpRequest;
  return request({
    protocol,
    hostname,
    port,
    path: basePath + (path.startsWith('/') ? path : `/${path}`),
    method: 'GET',
    headers: { accept: 'application/json', connection: 'close', 'user-agent': 'keyway-boot-handshake' },
    agent: false,
  });
}

/** A short, log-safe reason: the socket error code when there is one, else the message. */
function describe(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as NodeJS.ErrnoException).code;
    return typeof code === 'string' ? code : err.message;
  }
  return String(err);
}
