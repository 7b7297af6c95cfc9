/**
 * The line protocol between a bench orchestrator and its child processes (instances, clients): the parent writes
 * `{ id, cmd, ...params }` lines to the child's stdin; the child answers `{ ev: 'done' | 'failed', id, ... }` and may
 * send events (`{ ev: 'ready' }`, `measuring`, `measured`, anything else) on stdout, one JSON object per line.
 */
import { EventEmitter } from 'node:events';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { stop } from './procs.mjs';

/** Parent side: a started child (from `startPinned`) driven by commands. Emits the child's events by name. */
export class CommandChild extends EventEmitter {
  #pending = new Map();
  #next = 0;

  constructor(label, child) {
    super();
    this.label = label;
    this.child = child;
    this.pid = child.pid;
    this.ready = new Promise((resolve, reject) => {
      this.once('ready', resolve);
      this.once('gone', reject);
    });
    this.ready.catch(() => {});
    createInterface({ input: child.stdout }).on('line', (line) => this.#onLine(line));
    // 'close': after its output has been read too (for the error message).
    child.on('close', (code, signal) => {
      const err = new Error(`${label} exited (${code ?? signal}):\n${child.output.slice(-3000)}`);
      this.emit('gone', err);
      for (const p of this.#pending.values()) p.reject(err);
      this.#pending.clear();
    });
  }

  #onLine(line) {
    let m;
    try {
      m = JSON.parse(line);
    } catch {
      return;
    }
    const p = this.#pending.get(m.id);
    if (m.ev === 'measuring') return p?.onMeasuring?.();
    if (m.ev === 'measured') return p?.onMeasured?.();
    if (m.ev === 'done' || m.ev === 'failed') {
      if (p === undefined) return;
      this.#pending.delete(m.id);
      clearTimeout(p.timer);
      return m.ev === 'done' ? p.resolve(m.result) : p.reject(new Error(`${this.label}: ${m.error}`));
    }
    this.emit(m.ev, m);
  }

  /** Sends `cmd`; rejects after `timeoutMs`. `onMeasuring`/`onMeasured` run when the child says its window began/ended. */
  command(cmd, params = {}, { timeoutMs = 10_000, onMeasuring, onMeasured } = {}) {
    const id = ++this.#next;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new Error(`${this.label}: ${cmd} gave no answer within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#pending.set(id, { resolve, reject, timer, onMeasuring, onMeasured });
      this.child.stdin.write(`${JSON.stringify({ id, cmd, ...params })}\n`);
    });
  }

  get alive() {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Asks the child to close (`exit`), waits for it to go (it may write a CPU profile first), then makes sure. */
  async close() {
    if (!this.alive) return;
    const gone = new Promise((resolve) => this.child.once('exit', resolve));
    await this.command('exit', {}, { timeoutMs: 3000 }).catch(() => undefined);
    await Promise.race([gone, sleep(5000)]);
    await stop(this.child, 1000);
  }
}

/** Child side: one JSON line on stdout. */
export const send = (m) => process.stdout.write(`${JSON.stringify(m)}\n`);

/**
 * Child side: runs `commands[cmd](message)` for every line on stdin and answers `done` with its result or `failed`
 * with the error; exits when the parent goes away (stdin closed). Then says `ready` (with `ready`'s fields).
 */
export function serveCommands(commands, ready = {}) {
  createInterface({ input: process.stdin }).on('line', (line) => {
    let m;
    try {
      m = JSON.parse(line);
    } catch {
      return;
    }
    const fn = commands[m.cmd];
    if (fn === undefined) return send({ ev: 'failed', id: m.id, error: `unknown command ${m.cmd}` });
    Promise.resolve()
      .then(() => fn(m))
      .then(
        (result) => send({ ev: 'done', id: m.id, result }),
        (err) => send({ ev: 'failed', id: m.id, error: String(err?.stack ?? err) }),
      );
  });
  // The parent went away (its stdin pipe closed): nobody reads the answers any more.
  process.stdin.on('end', () => process.exit(0));
  send({ ev: 'ready', pid: process.pid, ...ready });
}
