/**
 * @module rooms/room-options: the options of a room group and of one room, their defaults and their validation,
 * done once before anything is created (a bad value throws naming the option and the reason).
 */
import type { SingletonGroup, SingletonGroupOptions } from '../singleton/index.js';

/** What one room may set for itself (the group's values otherwise). */
export interface RoomOptions {
  /** Messages kept for repair and `fromSeq` (0 keeps none: a gap is always a `resync`). Default 1000. */
  readonly historyLength?: number;
  /** How long a kept message stays (ms; 0 for no age limit). Default 300000 (5 min). */
  readonly historyMaxAgeMs?: number;
  /**
   * How long a member stays once its instance stops renewing (ms): killed, paused or cut off. Its instance renews
   * every third of it. Default 10000.
   */
  readonly presenceTtlMs?: number;
  /** The shared state expires this long after its last change (ms; 0 never). Default 0. */
  readonly stateTtlMs?: number;
}

export interface RoomGroupOptions extends RoomOptions, Partial<SingletonGroupOptions> {
  /**
   * A singleton group to share: its connections, instance id and secret (it stays the caller's to close). Without
   * it, give `redis` (and `keyPrefix`, `instanceId`, `secret`, `logger` as for a `SingletonGroup`).
   */
  readonly group?: SingletonGroup;
  /** Messages held per room while a gap is repaired, and per subscriber while it catches up. Default 10000. */
  readonly maxPending?: number;
  /** Most rooms open at once on this instance. Default 100000. */
  readonly maxRooms?: number;
  /** Most local subscribers and most local members per room. Default 100000. */
  readonly maxPerRoom?: number;
  /**
   * Sharded pub/sub (SPUBLISH/SSUBSCRIBE), so rooms spread over a Cluster's shards. Default: on for a Cluster, off
   * otherwise (Sentinel and single servers).
   */
  readonly sharded?: boolean;
}

export interface ResolvedRoomOptions {
  readonly historyLength: number;
  readonly historyMaxAgeMs: number;
  readonly presenceTtlMs: number;
  readonly stateTtlMs: number;
}

export const ROOM_DEFAULTS = {
  historyLength: 1000,
  historyMaxAgeMs: 300_000,
  presenceTtlMs: 10_000,
  stateTtlMs: 0,
  maxPending: 10_000,
  maxRooms: 100_000,
  maxPerRoom: 100_000,
} as const;

/** `value` as a whole number >= `min`, or a TypeError naming `what`. */
export function whole(what: string, value: unknown, min: number): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    throw new TypeError(`${what} must be a whole number >= ${min}, got ${JSON.stringify(value)}`);
  }
  return value;
}

export function resolveRoomOptions(where: string, o: RoomOptions, base: ResolvedRoomOptions): ResolvedRoomOptions {
  if (o === null || typeof o !== 'object') throw new TypeError(`${where} options must be an object`);
  return Object.freeze({
    historyLength: whole(`${where} option historyLength`, o.historyLength ?? base.historyLength, 0),
    historyMaxAgeMs: whole(`${where} option historyMaxAgeMs`, o.historyMaxAgeMs ?? base.historyMaxAgeMs, 0),
    presenceTtlMs: whole(`${where} option presenceTtlMs`, o.presenceTtlMs ?? base.presenceTtlMs, 300),
    stateTtlMs: whole(`${where} option stateTtlMs`, o.stateTtlMs ?? base.stateTtlMs, 0),
  });
}
