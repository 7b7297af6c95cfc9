/**
 * @module observe/logger: the pino logger keyway uses when none is injected. Level from
 * `KEYWAY_LOG_LEVEL` (default `info`); nothing is logged per request at info level.
 */
import { pino } from 'pino';
import type { Logger } from '../types.js';

/** A JSON logger on stdout, narrowed to `component`. */
export function createLogger(component = 'keyway', level = process.env.KEYWAY_LOG_LEVEL ?? 'info'): Logger {
  return pino({ level, base: { component } }) as unknown as Logger;
}

/** A logger that drops everything, for tests and embedding. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' }) as unknown as Logger;
}
