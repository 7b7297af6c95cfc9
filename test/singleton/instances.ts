/**
 * @module test/singleton/instances: singleton instances as real child processes (fixtures/instance.ts), with
 * their events collected in order, for the fault tests (SIGKILL, SIGSTOP, SIGCONT).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

const FIXTURE = fileURLToPath(new URL('./fixtures/instance.js', import.meta.url));

export interface InstanceEvent {
  readonly ev: string;
  readonly [k: string]: unknown;
}

export interface Instance {
  readonly child: ChildProcess;
  readonly instanceId: string;
  /** Every event since start, in arrival order. */
  readonly events: InstanceEvent[];
  send(m: object): void;
  /** The next event matching `pred` after `from` (an index into `events`), within `ms`. */
  next(pred: (e: InstanceEvent) => boolean, ms: number, from?: number): Promise<InstanceEvent>;
  ask(cmd: string, extra?: object, ms?: number): Promise<InstanceEvent>;
  kill(signal?: NodeJS.Signals): Promise<void>;
  readonly exited: boolean;
}

export interface InstanceOptions {
  readonly leaseMs?: number;
  readonly secret?: string;
  readonly ignoreLocalLease?: boolean;
}

let refs = 0;

export async function startInstance(redis: string | object, keyPrefix: string, options: InstanceOptions = {}): Promise<Instance> {
  const child = fork(FIXTURE, [JSON.stringify(redis), keyPrefix, JSON.stringify(options)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const events: InstanceEvent[] = [];
  const waiters = new Set<() => void>();
  let exited = false;
  child.on('message', (m: InstanceEvent) => {
    events.push(m);
    for (const w of [...waiters]) w();
  });
  child.once('exit', () => {
    exited = true;
    for (const w of [...waiters]) w();
  });
  const next = (pred: (e: InstanceEvent) => boolean, ms: number, from = 0): Promise<InstanceEvent> =>
    new Promise((resolve, reject) => {
      const check = (): void => {
        const found = events.slice(from).find(pred);
        if (found) {
          done();
          resolve(found);
        } else if (exited) {
          done();
          reject(new Error('instance exited'));
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`no matching event within ${ms} ms; last events: ${JSON.stringify(events.slice(-5))}`));
      }, ms);
      const done = (): void => {
        clearTimeout(timer);
        waiters.delete(check);
      };
      waiters.add(check);
      check();
    });
  const ready = await next((e) => e.ev === 'ready', 15_000);
  const instance: Instance = {
    child,
    instanceId: String(ready.instanceId),
    events,
    send: (m) => {
      if (!exited && child.connected) child.send(m);
    },
    next,
    ask: async (cmd, extra = {}, ms = 5000) => {
      const ref = ++refs;
      const from = events.length;
      instance.send({ cmd, ref, ...extra });
      return next((e) => e.ref === ref, ms, from);
    },
    kill: async (signal = 'SIGKILL') => {
      if (exited) return;
      const gone = once(child, 'exit');
      child.kill(signal);
      await gone;
    },
    get exited() {
      return exited;
    },
  };
  return instance;
}

/** Stops every instance: a polite exit, then SIGKILL for any left after 3 s. */
export async function stopAll(instances: readonly Instance[]): Promise<void> {
  await Promise.all(
    instances.map(async (i) => {
      if (i.exited) return;
      try {
        i.child.kill('SIGCONT');
      } catch {
        // already gone
      }
      i.send({ cmd: 'exit' });
      const t = setTimeout(() => i.child.kill('SIGKILL'), 3000);
      if (!i.exited) await once(i.child, 'exit');
      clearTimeout(t);
    }),
  );
}

/** The instance whose latest acquired/lost event says it owns the singleton now. */
export function ownerOf(instances: readonly Instance[]): Instance | undefined {
  return instances.find((i) => {
    const last = [...i.events].reverse().find((e) => e.ev === 'acquired' || e.ev === 'lost');
    return last?.ev === 'acquired' && !i.exited;
  });
}

/** Every ack event of every instance. */
export function acksOf(instances: readonly Instance[]): InstanceEvent[] {
  return instances.flatMap((i) => i.events.filter((e) => e.ev === 'ack'));
}
