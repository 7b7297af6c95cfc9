/**
 * @module alerts/email-settings: reads smart-stick-loadbalancer's `email` config block into
 * {@link EmailChannelOptions}. smart-stick passes `{ service, auth }` to nodemailer and mails from
 * `auth.user`; keyway keeps that meaning and accepts every other nodemailer transport option beside it.
 */
import type { TransportConfig } from 'nodemailer';
import { AlertError, AlertErrorCodes } from './alert-error.js';
import type { EmailChannelOptions } from './email-channel.js';

/**
 * The `email` block. Keys other than the four keyway reads are nodemailer transport options, passed on
 * unchanged (`service`, `host`, `port`, `secure`, `auth: { user, pass }`, `tls`, `pool`, ...).
 *
 * @example smart-stick's own block, valid as is: mail from alerts@gmail.com to each backend's owner
 * { "service": "gmail", "auth": { "user": "alerts@gmail.com", "pass": "app-password" } }
 */
export interface EmailSettings {
  /** `false` turns email alerts off while keeping the block. Default `true`. */
  readonly enabled?: boolean;
  /** Sender. Default `auth.user`, as in smart-stick. */
  readonly from?: string;
  /** Extra recipients of every alert, besides the backend's `owner`. */
  readonly to?: string | readonly string[];
  /** Start of every subject. Default `[keyway]`. */
  readonly subjectPrefix?: string;
  readonly [transportOption: string]: unknown;
}

/** Options that pick a transport other than SMTP-by-host; with one of them, `service`/`host` is not needed. */
const TRANSPORT_SELECTORS = ['service', 'host', 'url', 'sendmail', 'SES', 'streamTransport', 'jsonTransport'];

/**
 * Validates the block and maps it to {@link EmailChannelOptions}; `undefined` when `enabled: false`.
 * Throws an {@link AlertError} (`KW_ERR_ALERT_CONFIG`) naming the field; never quotes a value, since the
 * block holds credentials.
 */
export function parseEmailSettings(block: Readonly<Record<string, unknown>>): EmailChannelOptions | undefined {
  const { enabled, from, to, subjectPrefix, ...transport } = block;
  const fail = (message: string): never => {
    throw new AlertError(AlertErrorCodes.CONFIG, `email.${message}`);
  };
  if (enabled !== undefined && typeof enabled !== 'boolean') fail('enabled: must be a boolean');
  if (enabled === false) return undefined;
  if (!TRANSPORT_SELECTORS.some((key) => transport[key] !== undefined)) fail('service: give a nodemailer `service` or a `host`');
  const auth = transport.auth;
  if (auth !== undefined && (typeof auth !== 'object' || auth === null || Array.isArray(auth))) fail('auth: must be an object');
  const user = (auth as { user?: unknown } | undefined)?.user;
  const sender = from ?? (typeof user === 'string' && user !== '' ? user : undefined);
  if (typeof sender !== 'string' || sender === '') fail('from: required (a non-empty string) when auth.user is not set');
  const extra = to === undefined ? [] : typeof to === 'string' ? [to] : to;
  if (!Array.isArray(extra) || !extra.every((a) => typeof a === 'string' && a !== '')) {
    fail('to: must be an email address or an array of them');
  }
  if (subjectPrefix !== undefined && typeof subjectPrefix !== 'string') fail('subjectPrefix: must be a string');
  return {
    transport: transport as TransportConfig,
    from: sender as string,
    to: extra as string[],
    subjectPrefix: subjectPrefix as string | undefined,
  };
}
