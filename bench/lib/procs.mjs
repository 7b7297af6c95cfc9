/**
 * @module bench/lib/procs: every process the bench starts goes through here, so one call kills them all (also on
 * error, Ctrl+C or an uncaught exception). Processes are pinned with taskset; their CPU time and memory are read
 * from /proc.
 */
import { spawn, execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/** CPU that runs the proxy under test; everything else (wrk, backends, WebSocket clients, this script) runs on CPU 0. */
export const PROXY_CPU = 1;
export const LOAD_CPU = 0;

const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
const live = new Set();

/** The hard RLIMIT_NOFILE this process (and its children) can raise their soft limit to. */
export const HARD_NOFILE = Number(execFileSync('sh', ['-c', 'ulimit -Hn']).toString().trim()) || 1024;

/**
 * Starts `cmd args` pinned to `cpu`, with the soft fd limit raised to the hard one. `sh` and `taskset` exec, so the
 * returned child's pid is the program's own pid (what /proc is read for).
 */
export function startPinned(cpu, cmd, args, { env, cwd, log } = {}) {
  const script = `ulimit -n ${HARD_NOFILE} 2>/dev/null; exec taskset -c ${cpu} "$@"`;
  const child = spawn('sh', ['-c', script, 'sh', cmd, ...args], {
    cwd,
    env: { ...process.env, ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
    detached: true,
  });
  live.add(child);
  child.output = '';
  const keep = (chunk) => {
    // Keep the last 64 KB of output for error messages.
    child.output = (child.output + chunk.toString()).slice(-65536);
    if (log) process.stderr.write(chunk);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  child.on('exit', () => live.delete(child));
  child.on('error', () => live.delete(child));
  return child;
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves when the process is gone. */
export async function stop(child, graceMs = 2000) {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise((resolve) => child.once('exit', resolve));
  signalGroup(child, 'SIGTERM');
  const timer = setTimeout(() => signalGroup(child, 'SIGKILL'), graceMs);
  await gone;
  clearTimeout(timer);
}

function signalGroup(child, signal) {
  try {
    process.kill(-child.pid, signal);
  } catch {
    try {
      child.kill(signal);
    } catch {
      /* already gone */
    }
  }
}

/** Kills every process this bench started. Synchronous so that it also works in an 'exit' handler. */
export function killAllNow() {
  for (const child of live) signalGroup(child, 'SIGKILL');
  live.clear();
}

export async function stopAll() {
  await Promise.all([...live].map((child) => stop(child)));
}

let hooked = false;
/** Installs handlers that kill every started process on exit, signals and uncaught errors. */
export function killOnExit() {
  if (hooked) return;
  hooked = true;
  process.on('exit', killAllNow);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.on(signal, () => {
      killAllNow();
      process.exit(130);
    });
  }
  process.on('uncaughtException', (err) => {
    console.error(err);
    killAllNow();
    process.exit(1);
  });
}

/** A port that was free a moment ago on 127.0.0.1. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Waits until `port` accepts a TCP connection, or throws after `timeoutMs` (with the process's output). */
export async function waitForPort(port, { timeoutMs = 20_000, child } = {}) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child && (child.exitCode !== null || child.signalCode !== null)) {
      throw new Error(`process exited (${child.exitCode ?? child.signalCode}) before listening on ${port}:\n${child.output}`);
    }
    if (await canConnect(port)) return;
    await sleep(50);
  }
  throw new Error(`nothing listens on 127.0.0.1:${port} after ${timeoutMs} ms${child ? `:\n${child.output}` : ''}`);
}

function canConnect(port) {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.setTimeout(1000);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
  });
}

/** CPU seconds (user + system, all threads) the process has used so far. */
export function cpuSeconds(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may contain spaces) start after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
}

/** { rssKb, hwmKb }: resident memory now and its peak over the process's life. */
export function memory(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { rssKb: field('VmRSS'), hwmKb: field('VmHWM') };
}

/** Pins this process (the orchestrator) to `cpu`, so that its bookkeeping never takes time from the proxy. */
export function pinSelf(cpu) {
  try {
    execFileSync('taskset', ['-pc', String(cpu), String(process.pid)], { stdio: 'ignore' });
  } catch {
    /* taskset missing: measured below anyway */
  }
}

/** Runs a process to completion (pinned), returning its stdout; throws with its output on a non-zero exit or timeout. */
export function runPinned(cpu, cmd, args, { timeoutMs, env } = {}) {
  return new Promise((resolve, reject) => {
    const child = startPinned(cpu, cmd, args, { env });
    let stdout = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    const timer = setTimeout(() => signalGroup(child, 'SIGKILL'), timeoutMs);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve(stdout);
      else reject(new Error(`${cmd} ${args.join(' ')} exited ${code ?? signal}:\n${child.output}`));
    });
  });
}
