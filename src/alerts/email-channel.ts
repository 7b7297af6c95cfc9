/**
 * @module alerts/email-channel: delivers alerts by email through nodemailer, to the backend's `owner` and
 * any extra recipients. Credentials never reach a log line or an error message.
 */
import { createRequire } from 'node:module';
import type { Transporter, TransportConfig } from 'nodemailer';
import type { Logger } from '../types.js';
import { AlertError, AlertErrorCodes, redact } from './alert-error.js';
import { alertSubject, alertText } from './alert-message.js';
import type { AlertChannel, AlertEvent } from './types.js';

/** Options of an {@link EmailChannel}. */
export interface EmailChannelOptions {
  /**
   * nodemailer transport options, given to `createTransport()` as they are (`service`, `host`, `port`,
   * `secure`, `auth`, `tls`, `pool`, ...). Missing SMTP timeouts get short defaults (connect and greeting
   * 10 s, socket 30 s) so a dead mail server fails a send instead of holding it for minutes; nodemailer's
   * own `logger`/`debug` output is always off, since it bypasses keyway's logger.
   */
  readonly transport: TransportConfig;
  /** Sender address, e.g. `keyway <alerts@example.com>`. */
  readonly from: string;
  /** Addresses that get every alert, on top of the backend's owner. Default none. */
  readonly to?: readonly string[] | undefined;
  /** Start of every subject. Default `[keyway]`. */
  readonly subjectPrefix?: string | undefined;
  /** Narrowed with `child({ component: 'alerts:email' })`. */
  readonly logger?: Logger | undefined;
}

const SMTP_TIMEOUT_DEFAULTS = { connectionTimeout: 10_000, greetingTimeout: 10_000, socketTimeout: 30_000 };

/** Option names whose string values are secrets, wherever they sit in the transport options. */
const SECRET_KEY = /pass|secret|token|key|user/i;

/**
 * An {@link AlertChannel} that mails each alert. An event whose backend has no `owner`, with no extra `to`
 * configured, is skipped (logged at debug), which counts as delivered.
 *
 * @example
 * const email = new EmailChannel({
 *   transport: { service: 'gmail', auth: { user: 'alerts@example.com', pass: 'app-password' } },
 *   from: 'alerts@example.com',
 * });
 */
type Nodemailer = typeof import('nodemailer');
/**
 * nodemailer, loaded when the first email channel is made: a gateway without an `email` block never pays its
 * ~14 MB of RSS. A CommonJS package, so a synchronous require keeps construction (and its config errors) synchronous.
 */
function loadNodemailer(): Nodemailer {
  return createRequire(import.meta.url)('nodemailer') as Nodemailer;
}

export class EmailChannel implements AlertChannel {
  readonly name = 'email';
  readonly #transporter: Transporter;
  readonly #from: string;
  readonly #to: readonly string[];
  readonly #subjectPrefix: string;
  readonly #logger: Logger | undefined;
  readonly #secrets: string[];
  readonly #aborts = new Set<AbortController>();
  #closed = false;

  constructor(options: EmailChannelOptions) {
    this.#transporter = loadNodemailer().createTransport(withSafeDefaults(options.transport));
    this.#from = options.from;
    this.#to = options.to ?? [];
    this.#subjectPrefix = options.subjectPrefix ?? '[keyway]';
    this.#logger = options.logger?.child({ component: 'alerts:email' });
    this.#secrets = collectSecrets(options.transport);
  }

  async send(event: AlertEvent): Promise<void> {
    if (this.#closed) throw new AlertError(AlertErrorCodes.DELIVERY, 'email channel is closed', { retryable: false });
    const recipients = [...new Set([event.backend.owner, ...this.#to].filter((a): a is string => !!a))];
    if (recipients.length === 0) {
      this.#logger?.debug({ backend: event.backend.id, kind: event.kind }, 'no owner and no extra recipient: email alert skipped');
      return;
    }
    const abort = new AbortController();
    this.#aborts.add(abort);
    try {
      await this.#transporter.sendMail({
        from: this.#from,
        to: recipients,
        subject: alertSubject(event, this.#subjectPrefix),
        text: alertText(event),
        signal: abort.signal,
      });
    } catch (err) {
      throw this.#toAlertError(err);
    } finally {
      this.#aborts.delete(abort);
    }
  }

  /** Aborts sends in flight and closes the transport. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const abort of this.#aborts) abort.abort();
    this.#transporter.close();
  }

  /**
   * Keeps the error's code and SMTP reply code but not the error itself: nodemailer errors carry the
   * failing command and the server's reply, and a server may echo what it was sent.
   */
  #toAlertError(err: unknown): AlertError {
    const e = (err ?? {}) as { message?: unknown; code?: unknown; responseCode?: unknown };
    const message = redact(typeof e.message === 'string' ? e.message : String(err), this.#secrets);
    const code = typeof e.code === 'string' ? `${e.code}: ` : '';
    // A 5xx SMTP reply is permanent (bad credentials, unknown mailbox): retrying cannot help.
    const permanent = typeof e.responseCode === 'number' && e.responseCode >= 500;
    return new AlertError(AlertErrorCodes.DELIVERY, `email alert not sent: ${code}${message}`, { retryable: !permanent });
  }
}

function withSafeDefaults(transport: TransportConfig): TransportConfig {
  const t = transport as Record<string, unknown>;
  // A pool keeps idle connections for reuse; its sockets are closed by close() all the same.
  const timeouts = 'sendmail' in t || 'SES' in t || 'streamTransport' in t || 'jsonTransport' in t ? {} : SMTP_TIMEOUT_DEFAULTS;
  return { ...timeouts, ...t, logger: false, debug: false } as TransportConfig;
}

/** Every string found under a secret-looking key or under `auth`, longest first so overlaps mask fully. */
function collectSecrets(value: unknown, underSecret = false, out: string[] = []): string[] {
  if (typeof value === 'string') {
    if (underSecret) out.push(value);
  } else if (value !== null && typeof value === 'object') {
    for (const [key, child] of Object.entries(value as Record<string, unknown>)) {
      // `auth.type`/`auth.method` name a mechanism ('login', 'OAuth2'); masking those would garble messages.
      if (key === 'type' || key === 'method') continue;
      collectSecrets(child, underSecret || key === 'auth' || SECRET_KEY.test(key), out);
    }
  }
  return out.sort((a, b) => b.length - a.length);
}
