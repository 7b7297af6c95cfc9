/** @module types: shared leaf types with no runtime code. */

/** The subset of pino's logger keyway calls; any pino-compatible logger fits. */
export interface Logger {
  debug(obj: object | string, msg?: string): void;
  info(obj: object | string, msg?: string): void;
  warn(obj: object | string, msg?: string): void;
  error(obj: object | string, msg?: string): void;
  child(bindings: Record<string, unknown>): Logger;
}

/** Anything that holds a socket, timer or connection. `close()` is idempotent. */
export interface Closeable {
  close(): Promise<void>;
}
