/**
 * @module observe/access-log: an optional structured access log, one JSON line per finished request, written
 * asynchronously by pino so that logging never blocks the event loop on disk or a slow pipe.
 */
import { EventEmitter } from 'node:events';
import { mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import { pino } from 'pino';

/** One finished request. Fields are written as given, except `path`, which loses its query string. */
export interface AccessLogEntry {
  method: string;
  /** The request target; everything from the first `?` is dropped before writing. */
  path: string;
  /** The status sent to the client. */
  status: number;
  /** The backend that answered, or null when the gateway answered itself. */
  backend: string | null;
  /** From request start to response end, in milliseconds. */
  durationMs: number;
  /** Body bytes from backend to client. */
  bytesIn: number;
  /** Body bytes from client to backend. */
  bytesOut: number;
  /** The client's address as the socket saw it; undefined is written as null. */
  remoteAddress: string | undefined;
  /** How many times the request was retried on another backend. */
  retries: number;
}

/** Options of {@link AccessLog}. */
export interface AccessLogOptions {
  /**
   * `'stdout'`, `'stderr'`, or a file path: appended to, created with missing directories. The file is opened
   * in the constructor, so a path that cannot be written throws there (at startup) rather than later.
   */
  destination: string;
}

/** Events of {@link AccessLog}. */
export interface AccessLogEvents {
  /** A write to the destination failed (disk full, closed pipe...); the log is disabled from then on. */
  error: [err: Error];
}

type Destination = ReturnType<typeof pino.destination>;

/**
 * Writes one JSON line per request: `{"log":"access","time":"<ISO 8601>","method":…,"path":…,"status":…,
 * "backend":…,"durationMs":…,"bytesIn":…,"bytesOut":…,"remoteAddress":…,"retries":…}`. `"log":"access"` tells
 * these lines apart from the diagnostic log when both go to stdout. Query strings are stripped from `path`
 * because they routinely carry tokens and session ids that must not land in log files.
 *
 * Writes are buffered and asynchronous: `await close()` before exiting or lines are lost. Listen for
 * `'error'` (a destination failure is a background error nobody awaits); without a listener it is thrown.
 *
 * @example
 * const log = new AccessLog({ destination: '/var/log/keyway/access.log' });
 * log.on('error', (err) => logger.warn({ err }, 'access log disabled'));
 * log.write({ method: 'GET', path: req.url, status: 200, backend: 'a', durationMs: 3, bytesIn: 512, bytesOut: 0, remoteAddress: '10.0.0.1', retries: 0 });
 * await log.close();
 */
export class AccessLog extends EventEmitter<AccessLogEvents> {
  #dest: Destination;
  #logger: pino.Logger;
  #failed = false;
  #closed: Promise<void> | undefined;

  constructor(options: AccessLogOptions) {
    super();
    this.#dest = openDestination(options.destination);
    this.#logger = pino(
      {
        // An access line is not a diagnostic: no level, pid or hostname. The level formatter cannot return
        // nothing (pino would write `{,`), so it writes the discriminator instead.
        base: null,
        timestamp: pino.stdTimeFunctions.isoTime,
        formatters: { level: () => ({ log: 'access' }) },
      },
      this.#dest,
    );
    this.#dest.on('error', (err: Error) => {
      // pino's destination re-emits its first error, so the same failure can arrive twice: report it once.
      if (this.#failed) return;
      // Stop for good: a failed destination would otherwise buffer every later line in memory, and pino's
      // exit hook would retry the flush on every 'beforeExit', keeping the process alive forever.
      this.#failed = true;
      try {
        this.#dest.destroy();
      } catch {
        // Already destroyed: the failure came from closing the file itself.
      }
      this.emit('error', err);
    });
  }

  /** Appends one line. Dropped silently after close() or a destination failure. */
  write(entry: AccessLogEntry): void {
    if (this.#closed || this.#failed) return;
    const q = entry.path.indexOf('?');
    // A fixed literal (rather than a spread) keeps field order stable and the shape monomorphic.
    this.#logger.info({
      method: entry.method,
      path: q === -1 ? entry.path : entry.path.slice(0, q),
      status: entry.status,
      backend: entry.backend,
      durationMs: entry.durationMs,
      bytesIn: entry.bytesIn,
      bytesOut: entry.bytesOut,
      remoteAddress: entry.remoteAddress ?? null,
      retries: entry.retries,
    });
  }

  /** Flushes buffered lines and closes the destination (stdout and stderr are flushed, not closed). Idempotent. */
  close(): Promise<void> {
    this.#closed ??= new Promise<void>((resolve) => {
      const dest = this.#dest;
      if (this.#failed) return resolve();
      dest.once('close', () => resolve());
      // A failure while flushing is reported through 'error'; close() still settles.
      dest.once('error', () => resolve());
      dest.end();
    });
    return this.#closed;
  }
}

function openDestination(destination: string): Destination {
  if (destination === 'stdout') return pino.destination({ dest: 1, sync: false });
  if (destination === 'stderr') return pino.destination({ dest: 2, sync: false });
  // Opened here rather than by pino.destination({ dest: path, mkdir: true }): its asynchronous open reports
  // a bad path only through an event after startup, and then pino's exit hook throws on the unopened stream.
  mkdirSync(dirname(destination), { recursive: true });
  return pino.destination({ dest: openSync(destination, 'a'), sync: false });
}
