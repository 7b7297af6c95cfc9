/**
 * @module rooms/room-link: what one room needs from its group (one per process): the store, the signer, the shared
 * subscriber connection, the bounds and the counters. An interface, so `room.ts` never imports the group.
 */
import type { MessageSigner } from '../singleton/index.js';
import type { RoomStore } from './store/index.js';

/** What the group counts (see `RoomGroup.stats`). */
export type RoomCounter = 'forged' | 'malformed' | 'duplicates' | 'resyncs' | 'handlerErrors' | 'expired';

export interface RoomLink {
  readonly instanceId: string;
  readonly store: RoomStore;
  readonly signer: MessageSigner;
  readonly sharded: boolean;
  readonly maxPending: number;
  readonly maxPerRoom: number;
  /** Subscribes `channel` on the group's subscriber connection; resolves once subscribed. */
  listen(channel: string, onMessage: (raw: string) => void): Promise<void>;
  unlisten(channel: string): Promise<void>;
  count(what: RoomCounter, n?: number): void;
  /** A background failure nobody awaits: logged at warn level. */
  warn(err: unknown, message: string): void;
}
