/**
 * @module rooms/room-subscribers: the local subscribers of one room, each at its own position: one joining with
 * `fromSeq` first gets the history (its live messages wait in its own bounded queue), then the live messages.
 */
import type { RoomMessage } from './room-messages.js';

export type RoomHandler = (message: RoomMessage) => void;

export interface Subscriber {
  readonly handler: RoomHandler;
  /** The next number it wants. */
  next: number;
  /** Live messages held while it catches up from the history; null once it follows the room. */
  queue: RoomMessage[] | null;
  /** Its queue filled up: what it missed is read again from the history. */
  overflowed: boolean;
}

/** Calls `handler` with `message`; a throw is counted, never allowed to stop delivery to the others. */
export type Call = (sub: Subscriber, message: RoomMessage) => void;

/** Hands `message` to `sub`: queued while it catches up, delivered once (by number) otherwise. */
export function offer(sub: Subscriber, message: RoomMessage, maxQueue: number, call: Call): void {
  if (sub.queue !== null) {
    if (sub.queue.length < maxQueue) sub.queue.push(message);
    else sub.overflowed = true;
    return;
  }
  if (message.type === 'resync') {
    sub.next = message.seq;
    call(sub, message);
    return;
  }
  if (message.seq < sub.next) return;
  sub.next = message.seq + 1;
  call(sub, message);
}

/** Ends `sub`'s catch-up: its held messages are delivered after what the history gave. */
export function release(sub: Subscriber, call: Call): void {
  const queue = sub.queue ?? [];
  sub.queue = null;
  for (const m of queue) offer(sub, m, 0, call);
}
