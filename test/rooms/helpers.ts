/**
 * @module test/rooms/helpers: room groups on a real redis-server, and a subscriber that records what it got.
 */
import { RoomGroup, type RoomGroupOptions, type RoomMessage } from '../../src/rooms/index.js';

export function roomGroup(url: string, keyPrefix: string, extra: Partial<RoomGroupOptions> = {}): RoomGroup {
  return new RoomGroup({ redis: url, keyPrefix, ...extra });
}

/** A handler that keeps every message, and waits for a count. */
export class Recorder {
  readonly messages: RoomMessage[] = [];
  readonly #waiters: { n: number; resolve: () => void }[] = [];
  readonly handler = (m: RoomMessage): void => {
    this.messages.push(m);
    for (const w of this.#waiters.splice(0)) {
      if (this.messages.length >= w.n) w.resolve();
      else this.#waiters.push(w);
    }
  };

  /** Resolves once `n` messages came; rejects after `ms`. */
  async waitFor(n: number, ms = 5000): Promise<void> {
    if (this.messages.length >= n) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      new Promise<void>((resolve) => this.#waiters.push({ n, resolve })),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${this.messages.length} of ${n} messages after ${ms} ms`)), ms);
      }),
    ]).finally(() => clearTimeout(timer));
  }

  /** The seq of each message of `type` (all when omitted). */
  seqs(type?: RoomMessage['type']): number[] {
    return this.messages.filter((m) => type === undefined || m.type === type).map((m) => m.seq);
  }
}
