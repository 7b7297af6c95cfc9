/**
 * @module replication/store/codec: the JSON the Redis store writes and reads: hash values, script replies and events.
 * Anything malformed (a foreign writer, a half-upgraded fleet) is skipped rather than trusted.
 */
import type { Register, RegisterKind, SharedState, StoreEvent, Verdict } from './types.js';

type Json = Record<string, unknown>;

/** Parses the reply of `readState-3`, keeping the entries not yet expired by the server's clock. */
export function parseState(reply: unknown): SharedState {
  if (!Array.isArray(reply) || reply.length !== 4) throw new TypeError('readState reply is not a 4-array');
  const [now, verdicts, admin, backend] = reply as [unknown, unknown, unknown, unknown];
  const nowMs = Number(now);
  return {
    verdicts: fields(verdicts).flatMap(([, raw]) => {
      const v = parseVerdictEntry(raw, nowMs);
      return v ? [v] : [];
    }),
    admin: fields(admin).flatMap(([id, raw]) => registerList(id, raw, nowMs)),
    backend: fields(backend).flatMap(([id, raw]) => registerList(id, raw, nowMs)),
  };
}

/** A `StoreEvent` from its JSON, or undefined when it is not one. */
export function parseEvent(raw: string): StoreEvent | undefined {
  const e = parseObject(raw);
  if (!e || typeof e.from !== 'string') return undefined;
  if (e.type === 'verdict') {
    const verdict = asVerdict(e.verdict);
    return verdict && { type: 'verdict', from: e.from, verdict };
  }
  if (e.type === 'register' && isKind(e.kind)) {
    const register = asRegister(e.register);
    return register && { type: 'register', from: e.from, kind: e.kind, register };
  }
  return undefined;
}

/** The event JSON a write script publishes, with only the contract's fields. */
export function encodeEvent(event: StoreEvent): string {
  if (event.type === 'verdict') {
    const { backendId, replicaId, up, sinceMs } = event.verdict;
    return JSON.stringify({ type: 'verdict', from: event.from, verdict: { backendId, replicaId, up, sinceMs } });
  }
  const { id, value, atMs, by } = event.register;
  return JSON.stringify({ type: 'register', from: event.from, kind: event.kind, register: { id, value, atMs, by } });
}

function parseVerdictEntry(raw: string, nowMs: number): Verdict | undefined {
  const e = parseObject(raw);
  if (!e || !fresh(e, nowMs)) return undefined;
  return asVerdict({ ...e, sinceMs: Number(e.sinceMs) });
}

function registerList(id: string, raw: string, nowMs: number): Register[] {
  const e = parseObject(raw);
  if (!e || !fresh(e, nowMs)) return [];
  const register = asRegister({ id, value: e.value, atMs: Number(e.atMs), by: e.by });
  return register ? [register] : [];
}

function asVerdict(v: unknown): Verdict | undefined {
  if (!isObject(v)) return undefined;
  const { backendId, replicaId, up, sinceMs } = v;
  if (typeof backendId !== 'string' || typeof replicaId !== 'string' || typeof up !== 'boolean') return undefined;
  if (typeof sinceMs !== 'number' || !Number.isFinite(sinceMs)) return undefined;
  return { backendId, replicaId, up, sinceMs };
}

function asRegister(r: unknown): Register | undefined {
  if (!isObject(r)) return undefined;
  const { id, value, atMs, by } = r;
  if (typeof id !== 'string' || typeof value !== 'string' || typeof by !== 'string') return undefined;
  if (typeof atMs !== 'number' || !Number.isFinite(atMs)) return undefined;
  return { id, value, atMs, by };
}

function fresh(entry: Json, nowMs: number): boolean {
  return typeof entry.expiresAtMs === 'number' && entry.expiresAtMs > nowMs;
}

function fields(flat: unknown): [string, string][] {
  if (!Array.isArray(flat)) return [];
  const out: [string, string][] = [];
  for (let i = 0; i + 1 < flat.length; i += 2) out.push([String(flat[i]), String(flat[i + 1])]);
  return out;
}

/** The JSON object in `raw`, or undefined when `raw` is not one (never throws). */
export function parseObject(raw: string): Json | undefined {
  try {
    const value: unknown = JSON.parse(raw);
    return isObject(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

/** A plain (non-array) object. */
export function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isKind(kind: unknown): kind is RegisterKind {
  return kind === 'admin' || kind === 'backend';
}
