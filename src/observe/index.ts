/** @module observe: logging (and, later, metrics and diagnostics channels). */
export { createLogger, silentLogger } from './logger.js';
