/**
 * @module coordinator/store/codec: the coordinator's script replies and pub/sub messages, parsed into the contract's
 * types. A reply of the wrong shape is a broken invariant (`TypeError`, mapped to `StoreScriptError` by the
 * store); a malformed message (a foreign publisher, a half-upgraded fleet) is skipped, never thrown.
 */
import { isObject, parseObject } from '../../replication/store/codec.js';
import type { CoordinatorEvent, LockRecord, MemberRecord, ResolveOutcome } from './types.js';

/** Parses the reply of `liveMembers-1`: flat `memberId, address, load` triples. */
export function parseMembers(reply: unknown): MemberRecord[] {
  const flat = strings(reply, 'liveMembers');
  if (flat.length % 3 !== 0) throw new TypeError('liveMembers reply is not a list of triples');
  const out: MemberRecord[] = [];
  for (let i = 0; i < flat.length; i += 3) out.push(member(flat[i], flat[i + 1], flat[i + 2]));
  return out;
}

/** Parses the reply of `resolveDestination-3` (see its header). */
export function parseResolve(reply: unknown): ResolveOutcome {
  if (!Array.isArray(reply) || typeof reply[0] !== 'string') throw new TypeError('resolve reply is not a list');
  const [kind, ...rest] = reply as [string, ...unknown[]];
  if (kind === 'unbound') return { kind };
  if (kind === 'orphaned') {
    const [epoch, ...owners] = rest;
    return { kind, epoch: integer(epoch), owners: strings(owners, 'resolve').sort() };
  }
  if (kind !== 'owner' && kind !== 'claimed' && kind !== 'reassigned') {
    throw new TypeError(`resolve reply has an unknown kind ${JSON.stringify(kind)}`);
  }
  const [memberId, address, load, epoch, ...previous] = rest;
  const record = member(memberId, address, load);
  if (kind === 'reassigned') {
    return { kind, member: record, epoch: integer(epoch), previous: strings(previous, 'resolve').sort() };
  }
  return { kind, member: record, epoch: integer(epoch) };
}

/** Parses the reply of `resolveLock-1` (metadata that is not a JSON object reads as `{}`). */
export function parseLock(lockId: string, reply: unknown): { lock: LockRecord; owner: MemberRecord | null } | null {
  if (reply === null) return null;
  const [memberId, destinationId, metadata, address, load] = strings(reply, 'resolveLock');
  if (memberId === undefined || destinationId === undefined || metadata === undefined) {
    throw new TypeError('resolveLock reply is too short');
  }
  const lock: LockRecord = { lockId, memberId, destinationId, metadata: parseObject(metadata) ?? {} };
  return { lock, owner: address === undefined ? null : member(memberId, address, load) };
}

/** The metadata JSON a lock stores; only a plain object is accepted. */
export function encodeMetadata(metadata: Readonly<Record<string, unknown>> | undefined): string {
  if (metadata === undefined) return '{}';
  if (!isObject(metadata)) throw new TypeError('lock metadata must be a plain object');
  return JSON.stringify(metadata);
}

/** A `CoordinatorEvent` from its JSON, or undefined when it is not one. */
export function parseCoordinatorEvent(raw: string): CoordinatorEvent | undefined {
  const e = parseObject(raw);
  if (!e) return undefined;
  switch (e.type) {
    case 'member:up': {
      const m = e.member;
      if (!isObject(m) || !isText(m.memberId) || !isText(m.address) || !isNumber(m.load)) return undefined;
      return { type: 'member:up', member: { memberId: m.memberId, address: m.address, load: m.load } };
    }
    case 'member:down':
      if (!isText(e.memberId) || (e.reason !== 'deregistered' && e.reason !== 'expired')) return undefined;
      return { type: 'member:down', memberId: e.memberId, reason: e.reason };
    case 'binding':
      if (!isText(e.destinationId) || !isNumber(e.epoch)) return undefined;
      return { type: 'binding', destinationId: e.destinationId, epoch: e.epoch };
    case 'lock':
      return isText(e.lockId) ? { type: 'lock', lockId: e.lockId } : undefined;
    default:
      return undefined;
  }
}

function member(memberId: unknown, address: unknown, load: unknown): MemberRecord {
  if (!isText(memberId) || typeof address !== 'string') throw new TypeError('member record is malformed');
  const n = Number(load);
  return { memberId, address, load: Number.isFinite(n) ? n : 0 };
}

function strings(reply: unknown, what: string): string[] {
  if (!Array.isArray(reply)) throw new TypeError(`${what} reply is not a list`);
  return reply.map((v: unknown) => {
    if (typeof v !== 'string') throw new TypeError(`${what} reply holds a ${typeof v}`);
    return v;
  });
}

function integer(value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value)) throw new TypeError('epoch is not an integer');
  return value;
}

function isText(value: unknown): value is string {
  return typeof value === 'string' && value !== '';
}

function isNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}
