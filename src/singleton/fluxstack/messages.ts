/**
 * @module singleton/fluxstack/messages: the shapes @fluxstack/live exchanges with the adapter (its cluster types,
 * declared here), the JSON of the stored records and of the pub/sub messages (the seed's), an optional HMAC
 * envelope around the messages, and the bounded bookkeeping of delta sequence numbers. Pure: no Redis, no timers.
 */
import { MAC_CHARS, MessageSigner } from '../messages.js';

/** A component's state in the shared store (@fluxstack/live's type). */
export interface ClusterComponentState {
  componentName: string;
  state: unknown;
  instanceId: string;
  updatedAt: number;
}

/** Who owns a singleton (@fluxstack/live's type). */
export interface ClusterSingletonOwner {
  instanceId: string;
  componentId: string;
}

/** The result of `claimSingleton` (@fluxstack/live's type); `recoveredState` is absent when none was stored. */
export interface ClusterSingletonClaim {
  claimed: boolean;
  recoveredState?: unknown;
}

/** Called for each delta another instance published (@fluxstack/live's type). */
export type ClusterDeltaHandler = (componentId: string, componentName: string, delta: unknown, sourceInstanceId: string) => void;

/** Request to run an action on the instance that owns a singleton (@fluxstack/live's type). */
export interface ClusterActionRequest {
  sourceInstanceId: string;
  targetInstanceId: string;
  componentId: string;
  componentName: string;
  action: string;
  payload: unknown;
  requestId: string;
  /** The caller's connection id (newer @fluxstack/live versions send it; passed through untouched). */
  callerConnectionId?: string;
  /** The caller's authenticated session (newer @fluxstack/live versions send it; passed through untouched). */
  callerSession?: unknown;
}

/** The owner's answer to a forwarded action (@fluxstack/live's type). */
export interface ClusterActionResponse {
  success: boolean;
  result?: unknown;
  error?: string;
  requestId: string;
}

/** Runs a forwarded action on this instance. */
export type ClusterActionHandler = (request: ClusterActionRequest) => Promise<ClusterActionResponse>;

export interface DeltaMessage {
  type: 'delta';
  origin: string;
  componentId: string;
  componentName: string;
  delta: unknown;
  /** Per (origin, component), from 1; absent in messages of old publishers, which are always delivered. */
  seq?: number;
}

export interface ActionRequestMessage {
  type: 'action_request';
  origin: string;
  request: ClusterActionRequest;
}

export interface ActionResponseMessage {
  type: 'action_response';
  origin: string;
  response: ClusterActionResponse;
}

export type ClusterMessage = DeltaMessage | ActionRequestMessage | ActionResponseMessage;

/** A received message, or why it was dropped. */
export type Decoded = { readonly ok: true; readonly message: ClusterMessage } | { readonly ok: false; readonly reason: 'forged' | 'malformed' };

const ENVELOPE = 'kw1.';
/**
 * Encodes and decodes messages. Without a secret a message is the seed's plain JSON, so keyway and seed instances
 * can share a prefix. With one it is `kw1.<mac>.<json>`, the MAC the singleton signer's (an HMAC-SHA256 of the
 * channel and the JSON): a message without a valid MAC (unsigned, tampered, or signed for another channel) is
 * `forged`. Replays of a genuine message on its own channel are not detected (deltas are still deduplicated by seq).
 */
export class MessageCodec {
  readonly #signer: MessageSigner;

  constructor(secret?: string) {
    this.#signer = new MessageSigner(secret);
  }

  encode(channel: string, message: ClusterMessage): string {
    const json = JSON.stringify(message);
    if (!this.#signer.signing) return json;
    return `${ENVELOPE}${this.#signer.mac(channel, json)}.${json}`;
  }

  decode(channel: string, raw: string): Decoded {
    const json = this.#signer.signing ? this.#verified(channel, raw) : raw;
    if (json === undefined) return { ok: false, reason: 'forged' };
    const message = parseMessage(json);
    return message ? { ok: true, message } : { ok: false, reason: 'malformed' };
  }

  /** The JSON inside a `kw1.<mac>.<json>` envelope whose MAC is right for `channel`, else undefined. */
  #verified(channel: string, raw: string): string | undefined {
    const macEnd = ENVELOPE.length + MAC_CHARS;
    if (!raw.startsWith(ENVELOPE) || raw[macEnd] !== '.') return undefined;
    const json = raw.slice(macEnd + 1);
    return this.#signer.verify(channel, raw.slice(ENVELOPE.length, macEnd), json) ? json : undefined;
  }
}

/** The message `json` holds, or undefined when it is not JSON or not one of the three shapes. */
export function parseMessage(json: string): ClusterMessage | undefined {
  const m = parseJson(json);
  if (m === null || typeof m.origin !== 'string') return undefined;
  switch (m.type) {
    case 'delta':
      if (typeof m.componentId !== 'string' || typeof m.componentName !== 'string') return undefined;
      return m as unknown as DeltaMessage;
    case 'action_request': {
      const r = m.request;
      if (!isObject(r) || typeof r.requestId !== 'string' || typeof r.sourceInstanceId !== 'string') return undefined;
      return m as unknown as ActionRequestMessage;
    }
    case 'action_response':
      if (!isObject(m.response) || typeof m.response.requestId !== 'string') return undefined;
      return m as unknown as ActionResponseMessage;
    default:
      return undefined;
  }
}

/** A stored component state, or null when absent, corrupt or not an object. */
export function parseComponentState(raw: string | null): ClusterComponentState | null {
  return parseJson(raw) as ClusterComponentState | null;
}

/** The `state` of a stored singleton-state record `{state, updatedAt, token?}`, or null when absent or corrupt. */
export function parseSingletonState(raw: string | null): unknown {
  return parseJson(raw)?.state ?? null;
}

/** A JSON object from `raw`, or null when absent, corrupt, or not an object. */
function parseJson(raw: string | null): Record<string, unknown> | null {
  if (raw === null) return null;
  try {
    const value: unknown = JSON.parse(raw);
    return isObject(value) ? value : null;
  } catch {
    return null;
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** How many components (outgoing) or (origin, component) pairs (incoming) are remembered by default. */
export const DEFAULT_SEQ_ENTRIES = 10_000;

/**
 * The next outgoing seq per component, for at most `max` components (least recently published dropped first).
 * A dropped or forgotten counter raises a floor that every new counter starts above, so a component whose counter
 * was dropped never repeats a seq its receivers have seen. Until something is dropped counters start at 1.
 */
export class OutgoingSeqs {
  readonly #seqs = new Map<string, number>();
  readonly #max: number;
  #floor = 0;

  constructor(max = DEFAULT_SEQ_ENTRIES) {
    this.#max = max;
  }

  get size(): number {
    return this.#seqs.size;
  }

  next(componentId: string): number {
    const seq = (this.#seqs.get(componentId) ?? this.#floor) + 1;
    this.#seqs.delete(componentId);
    this.#seqs.set(componentId, seq);
    if (this.#seqs.size > this.#max) {
      const oldest = this.#seqs.keys().next().value as string;
      this.forget(oldest);
    }
    return seq;
  }

  forget(componentId: string): void {
    const seq = this.#seqs.get(componentId);
    if (seq === undefined) return;
    this.#seqs.delete(componentId);
    this.#floor = Math.max(this.#floor, seq);
  }
}

/**
 * The highest seq seen per (origin, component), for at most `max` pairs (least recently updated dropped first). A
 * dropped pair accepts its next delta again: redelivery is only caught for the pairs still remembered.
 */
export class SeenSeqs {
  readonly #seen = new Map<string, number>();
  readonly #max: number;

  constructor(max = DEFAULT_SEQ_ENTRIES) {
    this.#max = max;
  }

  get size(): number {
    return this.#seen.size;
  }

  /** True (and remembered) when `seq` is above the last one seen from `origin` for `componentId`. */
  accept(origin: string, componentId: string, seq: number): boolean {
    // '\n' cannot be confused with the ':' that ids contain; forgetComponent matches on the prefix.
    const key = `${componentId}\n${origin}`;
    if (seq <= (this.#seen.get(key) ?? 0)) return false;
    this.#seen.delete(key);
    this.#seen.set(key, seq);
    if (this.#seen.size > this.#max) this.#seen.delete(this.#seen.keys().next().value as string);
    return true;
  }

  /** Drops every origin's entry for `componentId` (a scan: called when a component's state is deleted). */
  forgetComponent(componentId: string): void {
    const start = `${componentId}\n`;
    for (const key of this.#seen.keys()) if (key.startsWith(start)) this.#seen.delete(key);
  }
}
