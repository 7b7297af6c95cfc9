/**
 * @module test/replication/helpers: replicas (a SharedView over a MemoryStore, with a recording target) that
 * share one MemoryBackend, a store that can fail like a Redis connection, and a capturing logger.
 */
import { once } from 'node:events';
import {
  MemoryBackend,
  MemoryStore,
  type MemoryStoreOptions,
  type Register,
  type RegisterKind,
  type SharedState,
  type StoreEvent,
  type StoreEvents,
  type Verdict,
} from '../../src/replication/store/index.js';
import { StoreUnavailableError } from '../../src/errors.js';
import { SharedView, type AdminFact, type BackendFact, type ReplicaTarget, type SharedViewOptions } from '../../src/replication/index.js';
import type { Logger } from '../../src/types.js';

/** What a SharedView told its gateway. */
export class RecordingTarget implements ReplicaTarget {
  readonly health = new Map<string, boolean>();
  readonly healthCalls: [string, boolean][] = [];
  readonly admin: [string, AdminFact][] = [];
  readonly backends: [string, BackendFact][] = [];
  applyHealth(id: string, up: boolean): void {
    this.health.set(id, up);
    this.healthCalls.push([id, up]);
  }
  applyAdmin(id: string, fact: AdminFact): void {
    this.admin.push([id, fact]);
  }
  applyBackend(id: string, fact: BackendFact): void {
    this.backends.push([id, fact]);
  }
}

export interface LogEntry {
  readonly level: 'debug' | 'info' | 'warn' | 'error';
  readonly msg: string;
}

/** A Logger that keeps every entry (children share the list). */
export function captureLogger(entries: LogEntry[] = []): Logger & { entries: LogEntry[] } {
  const log = (level: LogEntry['level']) => (obj: object | string, msg?: string) => {
    entries.push({ level, msg: typeof obj === 'string' ? obj : (msg ?? '') });
  };
  return { entries, debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error'), child: () => captureLogger(entries) };
}

/**
 * A MemoryStore that can behave like a lost Redis connection: `goDown()` makes every call reject and emits
 * `down` (events are lost while down, as on a dropped subscription), `comeUp()` emits `up`. `failStart`
 * makes start() reject; `deaf` drops incoming events (a missed message).
 */
export class FlakyStore extends MemoryStore {
  failStart = false;
  deaf = false;
  /** Calls refused so far (start, put, read), to wait for a number of failed sync ticks. */
  refused = 0;
  /** Times `available` was asked while down (a sync tick skips the store then). */
  polledWhileDown = 0;
  #down = false;

  constructor(options: MemoryStoreOptions) {
    super(options);
  }

  override get available(): boolean {
    if (this.#down) this.polledWhileDown++;
    return super.available && !this.#down;
  }

  goDown(): void {
    this.#down = true;
    this.emit('down', new Error('connection lost'));
  }

  comeUp(): void {
    this.#down = false;
    this.failStart = false;
    this.emit('up');
  }

  override async start(): Promise<void> {
    if (this.failStart) {
      this.refused++;
      throw new Error('connect ECONNREFUSED 127.0.0.1:6379');
    }
    return super.start();
  }

  override async putVerdict(verdict: Verdict, ttlMs: number): Promise<boolean> {
    this.#check();
    return super.putVerdict(verdict, ttlMs);
  }

  override async putRegister(kind: RegisterKind, register: Register, ttlMs: number): Promise<boolean> {
    this.#check();
    return super.putRegister(kind, register, ttlMs);
  }

  override async read(): Promise<SharedState> {
    this.#check();
    return super.read();
  }

  // Loosely typed: the typed overloads of EventEmitter<T>.emit cannot be restated in a subclass.
  override emit(eventName: keyof StoreEvents, ...args: unknown[]): boolean {
    if ((this.deaf || this.#down) && eventName === 'event') return false;
    return (super.emit as (name: string, ...rest: unknown[]) => boolean).call(this, eventName, ...args);
  }

  #check(): void {
    if (!this.#down) return;
    this.refused++;
    throw new StoreUnavailableError('connection lost');
  }
}

/** Test defaults: fast ticks, short verdict TTL. */
export const FAST = { verdictTtlMs: 1000, stateTtlMs: 60_000, syncIntervalMs: 40, healthQuorum: undefined, required: false };

export interface Replica {
  readonly id: string;
  readonly store: FlakyStore;
  readonly view: SharedView;
  readonly target: RecordingTarget;
  readonly log: LogEntry[];
}

/** A replica over `backend` (not started). */
export function replica(backend: MemoryBackend, id: string, options: Partial<SharedViewOptions> = {}): Replica {
  const store = new FlakyStore({ backend, replicaId: id });
  const target = new RecordingTarget();
  const logger = captureLogger();
  const view = new SharedView(store, target, { ...FAST, replicaId: id, logger, ...options });
  return { id, store, view, target, log: logger.entries };
}

/** Every event published on `backend`, in order. */
export function recordEvents(backend: MemoryBackend): { events: StoreEvent[]; stop: () => void } {
  const events: StoreEvent[] = [];
  const stop = backend.subscribe((e) => events.push(e));
  return { events, stop };
}

/** Lets queued microtasks (the memory backend's event delivery) run. */
export function flush(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Closes views, then their stores. */
export async function closeAll(replicas: readonly Replica[]): Promise<void> {
  for (const r of replicas) await r.view.close();
  for (const r of replicas) await r.store.close();
}

export { MemoryBackend };

/**
 * Resolves on the view's next `synced`. The sync timer is unref'd, so this holds the event loop open (and
 * bounds the wait) with a timer of its own.
 */
export async function nextSync(view: SharedView, ms = 2000): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('no sync in time')), ms);
  });
  try {
    await Promise.race([once(view, 'synced'), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
