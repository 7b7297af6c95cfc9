/** @module test/alerts/helpers: real SMTP and HTTP receivers on 127.0.0.1:0, and a logger that records. */
import { createHook } from 'node:async_hooks';
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { SMTPServer, type SMTPServerOptions } from 'smtp-server';
import type { Logger } from '../../src/types.js';

/** Every test here is bounded by this (ms). */
export const TEST_TIMEOUT = 10_000;

export interface LogEntry {
  level: 'debug' | 'info' | 'warn' | 'error';
  obj: Record<string, unknown>;
  msg: string | undefined;
}

/** A pino-compatible logger whose lines (bindings merged in) land in `entries`. */
export function captureLogger(entries: LogEntry[] = [], bindings: Record<string, unknown> = {}): Logger & { entries: LogEntry[] } {
  const at =
    (level: LogEntry['level']) =>
    (obj: object | string, msg?: string): void => {
      if (typeof obj === 'string') entries.push({ level, obj: { ...bindings }, msg: obj });
      else entries.push({ level, obj: { ...bindings, ...obj }, msg });
    };
  return {
    entries,
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    child: (more) => captureLogger(entries, { ...bindings, ...more }),
  };
}

export interface ReceivedMail {
  mailFrom: string;
  rcptTo: string[];
  raw: string;
  user: string | undefined;
}

export interface SmtpReceiver {
  port: number;
  mails: ReceivedMail[];
  auths: { username: string | undefined; password: string | undefined }[];
  close(): Promise<void>;
}

/** A real SMTP server without TLS; `accept` decides logins when given (otherwise auth is optional and any login passes). */
export async function startSmtp(accept?: (user: string, pass: string) => boolean): Promise<SmtpReceiver> {
  const mails: ReceivedMail[] = [];
  const auths: SmtpReceiver['auths'] = [];
  const options: SMTPServerOptions = {
    authOptional: accept === undefined,
    allowInsecureAuth: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onAuth(auth, _session, callback) {
      auths.push({ username: auth.username, password: auth.password ?? undefined });
      if (accept && !accept(auth.username ?? '', auth.password ?? '')) {
        callback(new Error('Invalid username or password'));
        return;
      }
      callback(null, { user: auth.username });
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const from = session.envelope.mailFrom;
        mails.push({
          mailFrom: from === false ? '' : from.address,
          rcptTo: session.envelope.rcptTo.map((r) => r.address),
          raw: Buffer.concat(chunks).toString('utf8'),
          user: typeof session.user === 'string' ? session.user : undefined,
        });
        callback();
      });
    },
  };
  const server = new SMTPServer(options);
  server.listen(0, '127.0.0.1');
  await once(server.server, 'listening');
  const { port } = server.server.address() as AddressInfo;
  return { port, mails, auths, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

export interface ReceivedRequest {
  method: string | undefined;
  url: string | undefined;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export interface HttpReceiver {
  url: string;
  requests: ReceivedRequest[];
  close(): Promise<void>;
}

/** A real HTTP server; `respond` gets the 0-based index of the request and may leave it hanging. */
export async function startReceiver(respond: (res: http.ServerResponse, index: number) => void): Promise<HttpReceiver> {
  const requests: ReceivedRequest[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const index = requests.push({ method: req.method, url: req.url, headers: req.headers, body: Buffer.concat(chunks).toString('utf8') }) - 1;
      respond(res, index);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Replies with `status` and an empty body. */
export function reply(status: number): (res: http.ServerResponse) => void {
  return (res) => {
    res.statusCode = status;
    res.end();
  };
}

/**
 * Counts timers (ref'd or not) created by `src/alerts/` while it runs and not yet cleared or fired.
 * `getActiveResourcesInfo()` cannot see unref'd timers, which are all the alerting module creates; and
 * undici keeps a shared timer of its own for a while after a fetch, which is not ours to judge.
 */
export function trackTimers(): { live(): number; stop(): void } {
  const live = new Set<number>();
  const hook = createHook({
    init(id, type) {
      if (type === 'Timeout' && /[/\\]src[/\\]alerts[/\\]/.test(new Error().stack ?? '')) live.add(id);
    },
    destroy(id) {
      live.delete(id);
    },
  }).enable();
  return { live: () => live.size, stop: () => hook.disable() };
}

/** Resolves after `ms`; only where the point is that nothing happens. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
