/**
 * @module singleton/messages: the wire format of the singleton channels, and its authentication. Pure: no I/O.
 *
 * - request, on the requests channel: `<token>|<owner>|<mac>|[id, caller, action, payload, deadline, key]`; the
 *   forward script puts the holder's token and id in front, so the owner sees which lease it was meant for;
 * - reply, on the caller's reply channel: `<mac>|[id, ok, value, token]`; `value` is the result, or
 *   `[code, message]` when `ok` is 0;
 * - on the events channel: `a|<token>|<owner>` (claimed) and `r|<token>` (released), published by the scripts,
 *   and `d|<mac>|[token, seq, restore, {set}, [del]]` (a committed change) built by the owner.
 *
 * With a secret, `mac` is an HMAC-SHA256 (truncated to 128 bits) of the channel name and the JSON, so a message
 * can be neither forged nor replayed on another singleton's channel; replays on the same channel are caught by
 * request ids and deadlines (requests), pending-call ids (replies) and sequence numbers (deltas). The claim and
 * release hints are not signed (a script cannot sign): they only make an instance re-read the lease from Redis.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export interface RequestMessage {
  readonly token: number;
  readonly owner: string;
  readonly id: string;
  readonly caller: string;
  readonly action: string;
  readonly payload: unknown;
  /** Server ms. */
  readonly deadline: number;
  /** Idempotency key ('' for the request id). */
  readonly key: string;
}

export type ReplyMessage =
  | { readonly id: string; readonly ok: true; readonly result: unknown; readonly token: number }
  | { readonly id: string; readonly ok: false; readonly code: string; readonly message: string; readonly token: number };

export type EventMessage =
  | { readonly kind: 'claimed'; readonly token: number; readonly owner: string }
  | { readonly kind: 'released'; readonly token: number }
  | {
      readonly kind: 'delta';
      readonly token: number;
      readonly seq: number;
      readonly restore: boolean;
      readonly set: Readonly<Record<string, unknown>>;
      readonly del: readonly string[];
    };

/** Why a message was not delivered. */
export type Rejection = 'malformed' | 'forged';

/** Length of a MAC in characters (128 bits in base64url). */
export const MAC_CHARS = 22;

/** Signs and opens messages; without a secret it signs nothing and accepts any mac. */
export class MessageSigner {
  readonly #secret: Buffer | null;

  constructor(secret: string | undefined) {
    this.#secret = secret === undefined || secret === '' ? null : Buffer.from(secret, 'utf8');
  }

  get signing(): boolean {
    return this.#secret !== null;
  }

  /** `<mac>|<json>`. */
  sign(channel: string, json: string): string {
    return `${this.mac(channel, json)}|${json}`;
  }

  /** The MAC of `json` on `channel` (22 base64url characters; '' without a secret). */
  mac(channel: string, json: string): string {
    return this.#mac(channel, json);
  }

  /** Whether `mac` is `json`'s on `channel` (always true without a secret). */
  verify(channel: string, mac: string, json: string): boolean {
    if (this.#secret === null) return true;
    if (mac.length !== MAC_CHARS) return false;
    return timingSafeEqual(Buffer.from(mac), Buffer.from(this.#mac(channel, json)));
  }

  #mac(channel: string, json: string): string {
    if (this.#secret === null) return '';
    return createHmac('sha256', this.#secret).update(channel).update('\n').update(json).digest('base64url').slice(0, MAC_CHARS);
  }
}

/** The caller's part of a request: `<mac>|<json>`. */
export function encodeRequest(signer: MessageSigner, channel: string, r: Omit<RequestMessage, 'token' | 'owner'>): string {
  return signer.sign(channel, JSON.stringify([r.id, r.caller, r.action, r.payload ?? null, r.deadline, r.key]));
}

export function decodeRequest(signer: MessageSigner, channel: string, raw: string): RequestMessage | Rejection {
  const a = raw.indexOf('|');
  const b = a < 0 ? -1 : raw.indexOf('|', a + 1);
  const c = b < 0 ? -1 : raw.indexOf('|', b + 1);
  if (c < 0) return 'malformed';
  const mac = raw.slice(b + 1, c);
  const json = raw.slice(c + 1);
  if (!signer.verify(channel, mac, json)) return 'forged';
  const v = parse(json);
  if (!Array.isArray(v) || v.length !== 6) return 'malformed';
  const [id, caller, action, payload, deadline, key] = v as unknown[];
  const token = Number(raw.slice(0, a));
  if (!isText(id) || !isText(caller) || !isText(action) || typeof deadline !== 'number' || typeof key !== 'string') return 'malformed';
  if (!Number.isSafeInteger(token)) return 'malformed';
  return { token, owner: raw.slice(a + 1, b), id, caller, action, payload, deadline, key };
}

export function encodeReply(signer: MessageSigner, channel: string, r: ReplyMessage): string {
  const value = r.ok ? (r.result === undefined ? null : r.result) : [r.code, r.message];
  return signer.sign(channel, JSON.stringify([r.id, r.ok ? 1 : 0, value, r.token]));
}

/** A success reply whose result is already JSON (the owner stringified it once, for the commit as well). */
export function replyOk(signer: MessageSigner, channel: string, id: string, resultJson: string, token: number): string {
  return signer.sign(channel, `[${JSON.stringify(id)},1,${resultJson},${token}]`);
}

export function replyError(signer: MessageSigner, channel: string, id: string, code: string, message: string, token: number): string {
  return encodeReply(signer, channel, { id, ok: false, code, message, token });
}

export function decodeReply(signer: MessageSigner, channel: string, raw: string): ReplyMessage | Rejection {
  const a = raw.indexOf('|');
  if (a < 0) return 'malformed';
  const json = raw.slice(a + 1);
  if (!signer.verify(channel, raw.slice(0, a), json)) return 'forged';
  const v = parse(json);
  if (!Array.isArray(v) || v.length !== 4) return 'malformed';
  const [id, ok, value, token] = v as unknown[];
  if (!isText(id) || typeof token !== 'number') return 'malformed';
  if (ok === 1) return { id, ok: true, result: value, token };
  if (ok !== 0 || !Array.isArray(value) || typeof value[0] !== 'string' || typeof value[1] !== 'string') return 'malformed';
  return { id, ok: false, code: value[0], message: value[1], token };
}

export function encodeDelta(
  signer: MessageSigner,
  channel: string,
  token: number,
  seq: number,
  restore: boolean,
  setJson: string,
  del: readonly string[],
): string {
  // `setJson` is assembled from the per-field JSON the owner already has: no second stringify of the values.
  return `d|${signer.sign(channel, `[${token},${seq},${restore ? 1 : 0},${setJson},${JSON.stringify(del)}]`)}`;
}

export function decodeEvent(signer: MessageSigner, channel: string, raw: string): EventMessage | Rejection {
  const kind = raw.slice(0, 2);
  if (kind === 'a|') {
    const bar = raw.indexOf('|', 2);
    const token = Number(raw.slice(2, bar));
    if (bar < 0 || !Number.isSafeInteger(token)) return 'malformed';
    return { kind: 'claimed', token, owner: raw.slice(bar + 1) };
  }
  if (kind === 'r|') {
    const token = Number(raw.slice(2));
    return Number.isSafeInteger(token) ? { kind: 'released', token } : 'malformed';
  }
  if (kind !== 'd|') return 'malformed';
  const bar = raw.indexOf('|', 2);
  if (bar < 0) return 'malformed';
  const json = raw.slice(bar + 1);
  if (!signer.verify(channel, raw.slice(2, bar), json)) return 'forged';
  const v = parse(json);
  if (!Array.isArray(v) || v.length !== 5) return 'malformed';
  const [token, seq, restore, set, del] = v as unknown[];
  if (typeof token !== 'number' || typeof seq !== 'number' || !isRecord(set) || !Array.isArray(del)) return 'malformed';
  if (!del.every((d) => typeof d === 'string')) return 'malformed';
  return { kind: 'delta', token, seq, restore: restore === 1, set, del: del as string[] };
}

function parse(json: string): unknown {
  try {
    return JSON.parse(json);
  } catch {
    return undefined;
  }
}

function isText(v: unknown): v is string {
  return typeof v === 'string' && v.length > 0 && v.length <= 512;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
