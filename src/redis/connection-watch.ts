/**
 * @module redis/connection-watch: connection lifecycle helpers shared by every Redis connection: follow
 * ready/lost transitions, and close a connection for good without leaving a socket or a timer behind.
 */
import { once } from 'node:events';
import type { RedisClient } from './redis-client.js';

export interface ClientWatch {
  /** Removes the listeners `watchClient` added. */
  stop(): void;
}

export interface WatchHandlers {
  /** Called with true on every `ready`, with false whenever the connection is lost. */
  onChange(ready: boolean): void;
  /** Connection errors (refused, reset, timeout): the client reconnects by itself. */
  onError(err: Error): void;
}

/**
 * Follows `client`'s connection and connects it if nobody has yet (a `lazyConnect` client). A failed first
 * connect is not final: the client's retry strategy keeps trying and `ready` comes later.
 */
export function watchClient(client: RedisClient, handlers: WatchHandlers): ClientWatch {
  const onReady = (): void => handlers.onChange(true);
  const onLost = (): void => handlers.onChange(false);
  const onError = (err: Error): void => handlers.onError(err);
  client.on('ready', onReady);
  client.on('close', onLost);
  client.on('end', onLost);
  client.on('error', onError);
  if (client.status === 'wait') client.connect().catch(() => undefined);
  return {
    stop() {
      client.off('ready', onReady);
      client.off('close', onLost);
      client.off('end', onLost);
      client.off('error', onError);
    },
  };
}

/** Statuses in which a socket may be open, so that `end` will follow a disconnect. */
const SOCKET_STATUSES = new Set(['connecting', 'connect', 'ready', 'disconnecting']);

/**
 * Quits `client` politely when it is connected, else drops it; resolves once its socket is gone (at most
 * ~2 s). A client waiting to reconnect has no socket: dropping it only cancels the timer.
 */
export async function closeClient(client: RedisClient): Promise<void> {
  // A late error from the closing socket must not surface as an unhandled 'error' event.
  client.on('error', () => undefined);
  if (client.status === 'end') return;
  const ended = once(client, 'end').then(
    () => undefined,
    () => undefined,
  );
  if (client.status === 'ready') await withTimeout(client.quit().then(() => undefined), 1000).catch(() => undefined);
  const status: string = client.status;
  if (status === 'end') return;
  client.disconnect();
  if (SOCKET_STATUSES.has(status)) await withTimeout(ended, 1000).catch(() => undefined);
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
