/**
 * @module rooms/room-feed: one room's messages, delivered in sequence order, once, whatever the channel did. Pure
 * logic over an injected history reader (no Redis here), so every path is tested on its own.
 *
 * Redis delivers one channel's messages in publish order, and the append script numbers them in that order, so a
 * gap on the channel means messages were lost (a dropped subscriber connection): they are read from the history,
 * and those past it become one `resync`. A message already delivered is dropped. A new epoch (Redis lost the room
 * and numbering began again) is a `resync` too, then delivery follows the new numbering from 1. So is a number
 * delivered before that comes again with other content: a Redis failover lost the last writes (asynchronous
 * replication) and the new master gave their numbers to new messages; delivery follows the new master from there.
 */
import type { Envelope } from './room-messages.js';

export interface HistoryPage {
  /** The last number given when read. */
  readonly seq: number;
  /** '' when the room holds nothing. */
  readonly epoch: string;
  /** Kept messages from the asked number on (verified), in order. */
  readonly messages: readonly Envelope[];
}

export interface FeedIo {
  /** Up to `count` kept messages from `from` on, and the position. */
  read(from: number, count: number): Promise<HistoryPage>;
  /** The next message in order. */
  deliver(env: Envelope): void;
  /** Messages `missedFrom` .. `resume - 1` are lost; delivery goes on from `resume`. */
  resync(epoch: string, missedFrom: number, resume: number): void;
  /** A history read failed; the feed tries again on the next message or `catchUp()`. */
  failed(err: unknown): void;
}

export interface FeedOptions {
  /** Most messages held while a gap is repaired (more are read from the history again). */
  readonly maxPending: number;
  /** Messages per history read. */
  readonly pageSize: number;
}

const MAX_ROUNDS = 32;
/** Recent messages remembered to tell a repeat (dropped) from a reused number (a failover lost writes). */
const RECENT = 1024;

export class RoomFeed {
  readonly #io: FeedIo;
  readonly #o: FeedOptions;
  #epoch = '';
  /** The next number to deliver; 0 until `start()` has read the position. */
  #next = 0;
  readonly #pending = new Map<number, Envelope>();
  /** seq -> JSON of the recently delivered (the strings already held: no copy). */
  readonly #recent = new Map<number, string>();
  #repairing: Promise<void> | null = null;
  #again = false;
  #closed = false;
  /** Messages dropped as already delivered. */
  duplicates = 0;

  constructor(io: FeedIo, options: FeedOptions) {
    this.#io = io;
    this.#o = options;
  }

  /** The next number this feed will deliver (0 before `start()`). */
  get next(): number {
    return this.#next;
  }

  get epoch(): string {
    return this.#epoch;
  }

  /** Reads where the room's numbering is; delivery starts after it. Messages that came meanwhile are kept. */
  async start(): Promise<void> {
    const head = await this.#io.read(0, 0);
    if (this.#closed) return;
    this.#epoch = head.epoch;
    this.#next = head.seq + 1;
    // Taken out first: delivering one drains the ones after it from #pending.
    const held = [...this.#pending.values()].sort((a, b) => a.seq - b.seq);
    this.#pending.clear();
    for (const env of held) this.onLive(env);
  }

  /** A message from the channel. */
  onLive(env: Envelope): void {
    if (this.#closed) return;
    if (this.#next === 0) {
      if (this.#pending.size < this.#o.maxPending) this.#pending.set(env.seq, env);
      return;
    }
    if (env.epoch !== this.#epoch) {
      if (this.#epoch === '' && this.#next === 1) this.#epoch = env.epoch;
      else this.#newEpoch(env.epoch);
    }
    if (env.seq < this.#next) {
      const seen = this.#recent.get(env.seq);
      if (seen === undefined || seen === env.json) {
        this.duplicates++;
        return;
      }
      this.#reused(env.seq);
    }
    if (env.seq === this.#next) {
      this.#deliver(env);
      this.#drain();
      return;
    }
    if (this.#pending.size < this.#o.maxPending) this.#pending.set(env.seq, env);
    this.#repair();
  }

  /** After the channel was subscribed again: what was published meanwhile is read from the history. */
  catchUp(): void {
    if (this.#next !== 0) this.#repair();
  }

  /** Resolves when no repair is running (for tests and orderly shutdown). */
  async settled(): Promise<void> {
    while (this.#repairing !== null) await this.#repairing;
  }

  close(): void {
    this.#closed = true;
    this.#pending.clear();
    this.#recent.clear();
  }

  #deliver(env: Envelope): void {
    this.#next = env.seq + 1;
    this.#recent.set(env.seq, env.json);
    this.#recent.delete(env.seq - RECENT);
    this.#io.deliver(env);
  }

  /** Number `seq` was delivered with other content: Redis lost writes from `seq` on; follow what it has now. */
  #reused(seq: number): void {
    this.#io.resync(this.#epoch, seq, seq);
    for (const s of this.#recent.keys()) if (s >= seq) this.#recent.delete(s);
    this.#pending.clear();
    this.#next = seq;
  }

  #drain(): void {
    for (;;) {
      const env = this.#pending.get(this.#next);
      if (env === undefined) break;
      this.#pending.delete(env.seq);
      this.#deliver(env);
    }
    if (this.#pending.size > 0) {
      for (const seq of this.#pending.keys()) if (seq < this.#next) this.#pending.delete(seq);
    }
  }

  #newEpoch(epoch: string): void {
    this.#io.resync(epoch, this.#next, 1);
    this.#epoch = epoch;
    this.#next = 1;
    this.#pending.clear();
    this.#recent.clear();
  }

  #repair(): void {
    if (this.#repairing !== null) {
      this.#again = true;
      return;
    }
    this.#repairing = this.#repairLoop().finally(() => {
      this.#repairing = null;
    });
  }

  async #repairLoop(): Promise<void> {
    // Each read fills the gap or resyncs past it; the bound only stops a Redis whose answers contradict themselves.
    let rounds = 0;
    do {
      this.#again = false;
      let page: HistoryPage;
      try {
        page = await this.#io.read(this.#next, this.#o.pageSize);
      } catch (err) {
        this.#io.failed(err);
        return;
      }
      if (this.#closed) return;
      this.#apply(page);
    } while (this.#again && !this.#closed && ++rounds < MAX_ROUNDS);
  }

  #apply(page: HistoryPage): void {
    if (page.epoch === '') return;
    if (page.epoch !== this.#epoch) {
      this.#newEpoch(page.epoch);
      this.#again = true;
      return;
    }
    // The head is behind what was delivered: a failover lost the last writes; their numbers will be given again.
    if (page.seq < this.#next - 1) this.#reused(page.seq + 1);
    const first = page.messages[0];
    if (first === undefined) {
      if (page.seq >= this.#next) this.#lost(page.seq + 1);
    } else if (first.seq > this.#next) {
      this.#lost(first.seq);
    }
    for (const env of page.messages) if (env.seq === this.#next) this.#deliver(env);
    this.#drain();
    if (page.messages.length === this.#o.pageSize && page.seq >= this.#next) this.#again = true;
    if (this.#pending.size > 0) this.#again = true;
  }

  #lost(resume: number): void {
    this.#io.resync(this.#epoch, this.#next, resume);
    this.#next = resume;
  }
}
