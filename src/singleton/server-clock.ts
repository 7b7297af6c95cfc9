/**
 * @module singleton/server-clock: the Redis server's clock as seen from this process. Deadlines travel in server
 * milliseconds, so the caller, the owner and the commit script judge them by one clock whatever the hosts' skew.
 * Every script answer that carries the server's time refreshes the estimate.
 */

export class ServerClock {
  /** server ms - local ms, from the latest sample. */
  #offset = 0;

  /** The server's time now (ms), estimated. */
  now(): number {
    return Date.now() + this.#offset;
  }

  /**
   * Records that the server said `serverMs` for a request sent at local `sentAt` (Date.now()) and answered now: the
   * server's reading is taken to be from the middle of the round trip.
   */
  sample(serverMs: number, sentAt: number): void {
    if (!Number.isFinite(serverMs) || serverMs <= 0) return;
    const at = (sentAt + Date.now()) / 2;
    this.#offset = serverMs - at;
  }
}
