/**
 * @module rooms/fluxstack/redis-room-adapter: `RedisRoomAdapter`, a drop-in for @fluxstack/live-redis's (same
 * options, methods, handler events, channel and state key names), on keyway's rooms: every message is numbered by
 * the script that publishes it and repaired from the history after a dropped connection, membership is stored
 * presence that expires with its instance, and the state is merged field by field as JSON text, never decoded by Lua.
 */
import { randomUUID } from 'node:crypto';
import type { RedisClient } from '../../redis/index.js';
import { RoomGroup } from '../room-group.js';
import type { RoomMessage } from '../room-messages.js';
import type { Room } from '../room.js';
import type { RoomKeys } from '../store/index.js';

/** The seed's handler: `(event, data)`; keyway's own events are `$state:update`, `$sub:join`, `$sub:leave`, `$room:resync`. */
export type RoomEventHandler = (event: string, data: any) => void; // eslint-disable-line @typescript-eslint/no-explicit-any

export interface RedisRoomAdapterOptions {
  /** ioredis client for commands (used, never closed). */
  redis: RedisClient;
  /**
   * The seed subscribes on it; keyway subscribes on a connection of its own duplicated from `redis` (it must
   * resubscribe and repair after every reconnect). Given, it is only disconnected by `shutdown()`, as the seed does.
   */
  subscriber?: RedisClient;
  /** Prefix of every key and channel. Default `fluxstack:room:`. */
  prefix?: string;
  /** The room state's expiry in seconds, set again on every change; 0 never. Default 86400. */
  stateTtl?: number;
  // ---- keyway's additions ----
  /** Signs every message (HMAC); instances without it, or with another, cannot inject messages. */
  secret?: string;
  /** This instance's id (default a random UUID). */
  instanceId?: string;
  /** Messages kept for repair. Default 1000. */
  historyLength?: number;
  /** How long a kept message stays (ms). Default 300000. */
  historyMaxAgeMs?: number;
  /** How long a member stays once its instance stops renewing (ms). Default 10000. */
  presenceTtlMs?: number;
}

export class RedisRoomAdapter {
  readonly instanceId: string;
  readonly #rooms: RoomGroup;
  readonly #subscriber: RedisClient | undefined;
  readonly #prefix: string;
  #shutdown: Promise<void> | undefined;

  constructor(options: RedisRoomAdapterOptions) {
    if (options === null || typeof options !== 'object' || options.redis === undefined) throw new TypeError('RedisRoomAdapter needs options.redis');
    const prefix = options.prefix ?? 'fluxstack:room:';
    if (typeof prefix !== 'string') throw new TypeError('RedisRoomAdapter option prefix must be a string');
    const stateTtl = options.stateTtl ?? 86400;
    if (typeof stateTtl !== 'number' || !Number.isFinite(stateTtl) || stateTtl < 0) {
      throw new TypeError(`RedisRoomAdapter option stateTtl must be a number of seconds >= 0, got ${JSON.stringify(stateTtl)}`);
    }
    this.#prefix = prefix;
    this.#subscriber = options.subscriber;
    this.instanceId = options.instanceId ?? randomUUID();
    const keysOf = (roomId: string): RoomKeys => ({
      channel: `${prefix}ch:${roomId}`,
      state: `${prefix}state:${roomId}`,
      meta: `${prefix}meta:${roomId}`,
      history: `${prefix}hist:${roomId}`,
      presence: `${prefix}members:${roomId}`,
      instances: `${prefix}instances:${roomId}`,
    });
    this.#rooms = new RoomGroup(
      {
        redis: options.redis,
        // The group's own channel name; braces and spaces are not allowed in it.
        keyPrefix: prefix.replace(/[{}\s]/g, '_').replace(/:+$/, '') || 'fluxstack',
        instanceId: this.instanceId,
        secret: options.secret,
        historyLength: options.historyLength,
        historyMaxAgeMs: options.historyMaxAgeMs,
        presenceTtlMs: options.presenceTtlMs,
        stateTtlMs: Math.round(stateTtl * 1000),
      },
      keysOf,
    );
  }

  async publish(roomId: string, event: string, data: unknown): Promise<void> {
    await this.#room(roomId).publish(event, data);
  }

  /** Calls `handler` with every event of `roomId` from other instances, in order; resolves with its unsubscribe. */
  async subscribe(roomId: string, handler: RoomEventHandler): Promise<() => void> {
    const unsubscribe = await this.#room(roomId).subscribe((m) => this.#dispatch(m, handler));
    return () => {
      void unsubscribe();
    };
  }

  /** Stored presence: `join` adds `componentId` as a member through this instance, `leave` removes it (if it is). */
  async publishMembership(roomId: string, action: 'join' | 'leave', componentId: string): Promise<void> {
    if (action === 'join') await this.#room(roomId).join(componentId);
    else await this.#room(roomId).leave(componentId);
  }

  /** Merges `updates` into the room's state (null deletes a field) and broadcasts them, in one script. */
  async publishStateChange(roomId: string, updates: Record<string, unknown>): Promise<void> {
    await this.#room(roomId).mergeState(updates);
  }

  /** The room's state, or null when it has none. */
  async getPersistedState<T = any>(roomId: string): Promise<T | null> { // eslint-disable-line @typescript-eslint/no-explicit-any
    const read = await this.#room(roomId).getState();
    return Object.keys(read.state).length === 0 ? null : (read.state as T);
  }

  async deletePersistedState(roomId: string): Promise<boolean> {
    return this.#room(roomId).deleteState();
  }

  /** Unsubscribes every room and closes keyway's subscriber connection (and `subscriber`, if given). Idempotent. */
  shutdown(): Promise<void> {
    this.#shutdown ??= (async () => {
      await this.#rooms.close();
      this.#subscriber?.disconnect();
    })();
    return this.#shutdown;
  }

  #room(roomId: string): Room {
    return this.#rooms.room(roomId);
  }

  #dispatch(m: RoomMessage, handler: RoomEventHandler): void {
    if (m.type === 'resync') {
      handler('$room:resync', { missedFrom: m.missedFrom, seq: m.seq });
      return;
    }
    // The seed's echo prevention: an instance does not hear what it sent.
    if (m.origin === this.instanceId) return;
    switch (m.type) {
      case 'event':
        handler(m.event, m.data);
        break;
      case 'state':
        handler('$state:update', { state: m.patch });
        break;
      case 'join':
      case 'leave':
        handler(`$sub:${m.type}`, { subscriberId: m.member });
        break;
    }
  }

  /** The prefix of every key and channel. */
  get prefix(): string {
    return this.#prefix;
  }
}
