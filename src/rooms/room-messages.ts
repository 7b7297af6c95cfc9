/**
 * @module rooms/room-messages: the wire format of a room's channel and history, and the messages handlers get. Pure.
 *
 * A message is `<epoch>|<seq>|<kind>|<ver>|<mac>|<json>`. The script that appends it writes epoch, seq, kind and
 * ver (the state's version for a `state` message); the writer builds and signs `<mac>|<json>` over the room's
 * channel name, so a message can be neither forged nor moved to another room. The sequence number is Redis's and
 * not covered: someone who can PUBLISH on the room's channel could replay an earlier signed message under a new
 * number (a limit stated in the README).
 *
 * JSON by kind: `e` {o: origin, e: event, d: data}; `j` {o, m: member, d: meta}; `l` {o, m, r: 'left'|'expired'};
 * `s` {o, p: {field: value or null}}.
 */
import type { MessageSigner } from '../singleton/index.js';
import { decodeJson } from './json-text.js';

interface Base {
  readonly room: string;
  /** When the room's numbering began (server ms, as text): a new epoch means Redis lost the room. */
  readonly epoch: string;
  readonly seq: number;
}

export interface RoomEventMessage extends Base {
  readonly type: 'event';
  readonly event: string;
  readonly data: unknown;
  /** The publishing instance. */
  readonly origin: string;
}
export interface RoomJoinMessage extends Base {
  readonly type: 'join';
  readonly member: string;
  readonly meta: unknown;
  readonly origin: string;
}
export interface RoomLeaveMessage extends Base {
  readonly type: 'leave';
  readonly member: string;
  /** `expired`: its instance stopped renewing (killed, paused, cut off) for longer than `presenceTtlMs`. */
  readonly reason: 'left' | 'expired';
  readonly origin: string;
}
export interface RoomStateMessage extends Base {
  readonly type: 'state';
  readonly version: number;
  /** The fields set; a field whose value is null was deleted. */
  readonly patch: Readonly<Record<string, unknown>>;
  readonly origin: string;
}
/**
 * Messages from `missedFrom` up to `seq - 1` cannot be delivered (no longer kept, or Redis lost the room): reload
 * what you show from `getState()` and `members()`; delivery goes on from `seq`.
 */
export interface RoomResyncMessage extends Base {
  readonly type: 'resync';
  readonly missedFrom: number;
}

export type RoomMessage = RoomEventMessage | RoomJoinMessage | RoomLeaveMessage | RoomStateMessage | RoomResyncMessage;

/** One message as read from the channel or the history, its JSON not yet parsed. */
export interface Envelope {
  readonly epoch: string;
  readonly seq: number;
  readonly kind: string;
  readonly ver: string;
  readonly mac: string;
  readonly json: string;
}

/** The envelope of `raw`, or null when it is not one. */
export function parseEnvelope(raw: string): Envelope | null {
  const a = raw.indexOf('|');
  const b = raw.indexOf('|', a + 1);
  const c = raw.indexOf('|', b + 1);
  const d = raw.indexOf('|', c + 1);
  const e = raw.indexOf('|', d + 1);
  if (a <= 0 || b < 0 || c < 0 || d < 0 || e < 0) return null;
  const seq = Number(raw.slice(a + 1, b));
  if (!Number.isSafeInteger(seq) || seq < 1) return null;
  return { epoch: raw.slice(0, a), seq, kind: raw.slice(b + 1, c), ver: raw.slice(c + 1, d), mac: raw.slice(d + 1, e), json: raw.slice(e + 1) };
}

/** The handler's message of `env`, or null when its JSON does not match its kind. */
export function toMessage(room: string, env: Envelope): RoomMessage | null {
  let body: Record<string, unknown>;
  try {
    const parsed: unknown = env.kind === 's' ? decodeJson(env.json) : JSON.parse(env.json);
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return null;
    body = parsed as Record<string, unknown>;
  } catch {
    return null;
  }
  const origin = body.o;
  if (typeof origin !== 'string') return null;
  const { epoch, seq } = env;
  // One object per message, built directly (no shared base spread into it): this runs for every delivery.
  switch (env.kind) {
    case 'e':
      return typeof body.e === 'string' ? { type: 'event', room, epoch, seq, origin, event: body.e, data: body.d } : null;
    case 'j':
      return typeof body.m === 'string' ? { type: 'join', room, epoch, seq, origin, member: body.m, meta: body.d ?? null } : null;
    case 'l':
      return typeof body.m === 'string' && (body.r === 'left' || body.r === 'expired')
        ? { type: 'leave', room, epoch, seq, origin, member: body.m, reason: body.r }
        : null;
    case 's': {
      const version = Number(env.ver);
      const patch = body.p;
      if (!Number.isSafeInteger(version) || patch === null || typeof patch !== 'object' || Array.isArray(patch)) return null;
      return { type: 'state', room, epoch, seq, origin, version, patch: patch as Record<string, unknown> };
    }
    default:
      return null;
  }
}

/** Signs bodies for one room's channel. */
export class BodySigner {
  readonly #signer: MessageSigner;
  readonly #channel: string;
  readonly #origin: string;

  constructor(signer: MessageSigner, channel: string, origin: string) {
    this.#signer = signer;
    this.#channel = channel;
    this.#origin = JSON.stringify(origin);
  }

  event(event: string, data: unknown): string {
    return this.#sign(`{"o":${this.#origin},"e":${JSON.stringify(event)},"d":${data === undefined ? 'null' : JSON.stringify(data)}}`);
  }

  join(member: string, metaJson: string): string {
    return this.#sign(`{"o":${this.#origin},"m":${JSON.stringify(member)},"d":${metaJson}}`);
  }

  leave(member: string, reason: 'left' | 'expired'): string {
    return this.#sign(`{"o":${this.#origin},"m":${JSON.stringify(member)},"r":"${reason}"}`);
  }

  /** `set`: field, json text, ...; `del`: fields. */
  state(set: readonly string[], del: readonly string[]): string {
    let p = '';
    for (let i = 0; i + 1 < set.length; i += 2) p += `${p === '' ? '' : ','}${JSON.stringify(set[i])}:${set[i + 1] as string}`;
    for (const f of del) p += `${p === '' ? '' : ','}${JSON.stringify(f)}:null`;
    return this.#sign(`{"o":${this.#origin},"p":{${p}}}`);
  }

  /** Whether `env` was signed for this room (always, without a secret). */
  verify(env: Envelope): boolean {
    return this.#signer.verify(this.#channel, env.mac, env.json);
  }

  #sign(json: string): string {
    return `${this.#signer.mac(this.#channel, json)}|${json}`;
  }
}
