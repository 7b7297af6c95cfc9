/**
 * @module singleton/group-link: what one singleton needs from its group (one per process): the store, the clock,
 * the signer, the shared subscription and the counters. An interface, so `singleton.ts` never imports the group.
 */
import type { Logger } from '../types.js';
import type { MessageSigner } from './messages.js';
import type { ServerClock } from './server-clock.js';
import type { SingletonStore } from './store/index.js';

/** What the group counts (see `SingletonGroup.stats`). */
export type GroupCounter = 'forged' | 'malformed' | 'expired' | 'fenced';

export interface ChannelListener {
  onMessage(channel: string, raw: string): void;
}

export interface GroupLink {
  readonly instanceId: string;
  readonly store: SingletonStore;
  readonly clock: ServerClock;
  readonly signer: MessageSigner;
  readonly log: Logger | undefined;
  /** Subscribes `channel` on the group's connection, delivering to `listener`; resolves once subscribed. */
  listen(channel: string, listener: ChannelListener): Promise<void>;
  unlisten(channel: string): Promise<void>;
  count(what: GroupCounter): void;
  /** A background failure nobody awaits: logged at warn level. */
  warn(err: unknown, message: string): void;
}
