/**
 * @module observe/logger: the pino logger keyway uses when none is injected. Level from
 * `KEYWAY_LOG_LEVEL` (default `info`); nothing is logged per request at info level.
 */
import { pino } from 'pino';
import type { Logger } from '../types.js';

/**
 * A JSON logger on stdout, narrowed to `component`. Its lines carry `app: "keyway"` and one `component`;
 * narrowing again with `.child({ component: 'gateway' })` replaces the component rather than repeating it.
 */
export function createLogger(component = 'keyway', level = process.env.KEYWAY_LOG_LEVEL ?? 'info'): Logger {
  return narrow(pino({ level, base: { app: 'keyway' } }), { component });
}

/** A logger that drops everything, for tests and embedding. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' }) as unknown as Logger;
}

/**
 * pino appends a child's bindings to its parent's as text, so a key bound twice is written twice on every
 * line. Building each child from the root with the merged bindings keeps one value per key, the latest.
 */
function narrow(root: pino.Logger, bindings: Record<string, unknown>, level?: string): Logger {
  const logger = root.child(bindings);
  if (level !== undefined) logger.level = level; // a pino child inherits its parent's level, not the root's
  const child = (more: Record<string, unknown>): Logger => narrow(root, { ...bindings, ...more }, logger.level);
  Object.defineProperty(logger, 'child', { value: child, configurable: true, writable: true });
  return logger as unknown as Logger;
}
