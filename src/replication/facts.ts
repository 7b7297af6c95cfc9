/**
 * @module replication/facts: the values kept in the store's last-writer-wins registers (a backend's admin
 * state, a backend added or removed at runtime), their JSON codec, and the `(atMs, by)` order between writes.
 * Decoding validates: a value written by another version, or by hand, is reported, never trusted.
 */
import type { RegisterKind } from './store/index.js';

/** What the operator allows a backend (see `upstream/upstream.ts`). */
export type AdminStateName = 'enabled' | 'draining' | 'disabled';

const ADMIN_STATES: readonly string[] = ['enabled', 'draining', 'disabled'] satisfies AdminStateName[];

/** Admin state of one backend set through the admin API. Absent fields were not set. */
export interface AdminFact {
  readonly state?: AdminStateName;
  /** Integer >= 0. */
  readonly weight?: number;
}

/** A backend added (with its admin-API entry, opaque here) or removed at runtime. */
export type BackendFact =
  | { readonly removed: true }
  | { readonly removed: false; readonly spec: Readonly<Record<string, unknown>> };

/** The fact type of each register kind. */
export interface FactByKind {
  admin: AdminFact;
  backend: BackendFact;
}

/** The result of decoding a register value: the fact, or why it was refused. */
export type Decoded<K extends RegisterKind> =
  | { readonly ok: true; readonly fact: FactByKind[K] }
  | { readonly ok: false; readonly reason: string };

/**
 * Encodes `fact` as the register value for `kind`. Throws TypeError for a fact that would not decode, so a
 * bad value is caught where it is made rather than on every other replica.
 *
 * @example
 * encodeFact('admin', { state: 'draining' }); // '{"state":"draining"}'
 */
export function encodeFact<K extends RegisterKind>(kind: K, fact: FactByKind[K]): string {
  const reason = kind === 'admin' ? adminProblem(fact) : backendProblem(fact);
  if (reason !== undefined) throw new TypeError(`invalid ${kind} fact: ${reason}`);
  return JSON.stringify(fact);
}

/** Decodes a register value of `kind`; never throws. Unknown fields are dropped (newer writers may add some). */
export function decodeFact<K extends RegisterKind>(kind: K, value: string): Decoded<K> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    return { ok: false, reason: 'not JSON' };
  }
  const reason = kind === 'admin' ? adminProblem(parsed) : backendProblem(parsed);
  if (reason !== undefined) return { ok: false, reason };
  const fact = kind === 'admin' ? pickAdmin(parsed as AdminFact) : pickBackend(parsed as BackendFact);
  return { ok: true, fact: fact as FactByKind[K] };
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function adminProblem(v: unknown): string | undefined {
  if (!isRecord(v)) return 'not an object';
  if (v.state !== undefined && !(typeof v.state === 'string' && ADMIN_STATES.includes(v.state))) {
    return `state: must be one of ${ADMIN_STATES.join(', ')}`;
  }
  if (v.weight !== undefined && !(typeof v.weight === 'number' && Number.isInteger(v.weight) && v.weight >= 0)) {
    return 'weight: must be an integer >= 0';
  }
  return undefined;
}

function backendProblem(v: unknown): string | undefined {
  if (!isRecord(v)) return 'not an object';
  if (v.removed === true) return undefined;
  if (v.removed !== false) return 'removed: must be a boolean';
  return isRecord(v.spec) ? undefined : 'spec: must be an object';
}

function pickAdmin(v: AdminFact): AdminFact {
  return {
    ...(v.state !== undefined && { state: v.state }),
    ...(v.weight !== undefined && { weight: v.weight }),
  };
}

function pickBackend(v: BackendFact): BackendFact {
  return v.removed ? { removed: true } : { removed: false, spec: v.spec };
}
