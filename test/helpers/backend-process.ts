/**
 * @module test/helpers/backend-process: real HTTP backends as child processes (fixtures/backend-server), for
 * tests that kill them with SIGKILL and start them again on the same port.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

const FIXTURE = fileURLToPath(new URL('./fixtures/backend-server.js', import.meta.url));

export interface BackendProcess {
  readonly name: string;
  /** Fixed at the first start; `restart()` binds it again. */
  readonly port: number;
  readonly url: string;
  readonly child: ChildProcess;
  /** Sends `signal` (default SIGKILL) and resolves once the process has exited. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Starts a new process on the same port; resolves once it listens. */
  restart(): Promise<void>;
  /** The `x-req-id` of every request this process (since its last start) received. */
  seen(): Promise<string[]>;
}

interface Started {
  child: ChildProcess;
  port: number;
}

async function launch(name: string, port: number, delayMs: number): Promise<Started> {
  const child = spawn(process.execPath, [FIXTURE, name, String(port), String(delayMs)], {
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
  });
  let out = '';
  const bound = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`backend ${name} did not start: ${out}`)), 10_000);
    child.stdout!.on('data', (c: Buffer) => {
      out += c;
      const m = /listening (\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`backend ${name} exited with ${code}: ${out}`));
    });
  });
  return { child, port: bound };
}

/** Starts backend `name` answering after `delayMs` (ms) on `port` (0: any free port). */
export async function spawnBackend(name: string, options: { port?: number; delayMs?: number } = {}): Promise<BackendProcess> {
  const delayMs = options.delayMs ?? 0;
  const first = await launch(name, options.port ?? 0, delayMs);
  const state: Started = first;
  const url = `http://127.0.0.1:${first.port}`;
  return {
    name,
    port: first.port,
    url,
    get child() {
      return state.child;
    },
    async kill(signal: NodeJS.Signals = 'SIGKILL') {
      const child = state.child;
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, 'exit');
      child.kill(signal);
      await exited;
    },
    async restart() {
      const next = await launch(name, first.port, delayMs);
      state.child = next.child;
    },
    async seen() {
      const res = await fetch(`${url}/__seen`, { signal: AbortSignal.timeout(5000) });
      return (await res.json()) as string[];
    },
  };
}
