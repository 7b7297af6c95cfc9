#!/usr/bin/env node
/**
 * @module bench/singleton-instance: one instance of the singleton bench as a child process, driven by
 * `bench/singleton.mjs` over stdin/stdout (one JSON object a line; anything else goes to stderr).
 *
 *   node bench/singleton-instance.mjs '<config JSON>'
 *   config: { mode: 'keyway' | 'seed', redis: URL, keyPrefix, name?, leaseMs? }
 *
 * keyway: a SingletonGroup from the build output (KEYWAY_BENCH_DIST, else dist/) defining singleton `name`; the first
 * instance to start owns it. seed: @fluxstack/live-redis's forwardAction reduced to its pub/sub exchange with raw
 * ioredis: the caller PUBLISHes `{ type: 'action_request', origin, request }` to `<prefix>actions:<target>`, the target
 * runs the action in memory and PUBLISHes `{ type: 'action_response', origin, response }` to the caller's channel (no
 * commit, no fencing, no lease check).
 *
 * Parent -> child: { id, cmd: 'paced', op: 'call' | 'ping', rate, warmupMs, durationMs, target?, raw? }
 *                  | { id, cmd: 'flood', op, concurrency, warmupMs, durationMs, target? }
 *                  | { id, cmd: 'load', rate, deadlineMs } (runs until 'stop-load') | { id, cmd: 'stop-load' }
 *                  | { id, cmd: 'role' } | { id, cmd: 'exit' }
 * Child -> parent: { ev: 'ready', pid, instanceId, role } | { ev: 'measuring', id } (warm-up over)
 *                  | { ev: 'answerer', pid, at, sentAt } (a load call answered by another process than the one before)
 *                  | { ev: 'done', id, result } | { ev: 'failed', id, error }
 * Times sent (`at`, `sentAt`) are performance.timeOrigin + performance.now(): wall-clock ms with sub-ms resolution,
 * comparable across the processes of one machine.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Redis } from 'ioredis';
import { send, serveCommands } from './lib/child-rpc.mjs';

const config = JSON.parse(process.argv[2] ?? '{}');
const DIST = process.env.KEYWAY_BENCH_DIST ?? fileURLToPath(new URL('../dist/', import.meta.url));
/** Longest a phase may wait for its calls in flight once it is over (ms): a call's deadline plus a margin. */
const DEADLINE_MS = 5000;
const DRAIN_LIMIT_MS = DEADLINE_MS + 1000;

const wallNow = () => performance.timeOrigin + performance.now();
const connect = (url) => {
  const client = new Redis(url, { maxRetriesPerRequest: 1, connectionName: 'keyway-bench' });
  client.on('error', (err) => process.stderr.write(`redis: ${err.message}\n`));
  return client;
};

/** The action both approaches run: returns the count and which process ran it (so a caller sees who answered). */
const increment = (state, by) => {
  state.count += by ?? 1;
  return { count: state.count, pid: process.pid };
};

/** keyway: `call(target)` runs increment on the owner, wherever it is. */
async function keywayInstance() {
  const { SingletonGroup } = await import(pathToFileURL(join(DIST, 'singleton', 'index.js')).href);
  const group = new SingletonGroup({ redis: config.redis, keyPrefix: config.keyPrefix });
  const s = await group.singleton(config.name ?? 'counter', {
    initialState: { count: 0 },
    actions: { increment },
    leaseMs: config.leaseMs ?? 1000,
  });
  return {
    instanceId: group.instanceId,
    role: () => s.role,
    call: (_target, options) => s.call('increment', 1, { deadlineMs: DEADLINE_MS, ...options }),
    close: () => group.close(),
  };
}

/** seed: the responder answers every request on its channel; `call(target)` is forwardAction to `target`. */
async function seedInstance() {
  const instanceId = `${process.pid}-${randomBytes(6).toString('base64url')}`;
  const prefix = config.keyPrefix;
  const pub = connect(config.redis);
  const sub = connect(config.redis);
  const mine = `${prefix}actions:${instanceId}`;
  const state = { count: 0 };
  const pending = new Map();
  sub.on('message', (channel, raw) => {
    if (channel !== mine) return;
    let m;
    try {
      m = JSON.parse(raw);
    } catch {
      return;
    }
    if (m.origin === instanceId) return;
    if (m.type === 'action_request') {
      const { request } = m;
      let response;
      try {
        response = { success: true, result: increment(state, request.payload), requestId: request.requestId };
      } catch (err) {
        response = { success: false, error: String(err?.message ?? err), requestId: request.requestId };
      }
      const reply = JSON.stringify({ type: 'action_response', origin: instanceId, response });
      pub.publish(`${prefix}actions:${request.sourceInstanceId}`, reply).catch(() => undefined);
    } else if (m.type === 'action_response') {
      const p = pending.get(m.response.requestId);
      if (p === undefined) return;
      pending.delete(m.response.requestId);
      clearTimeout(p.timer);
      if (m.response.success) p.resolve(m.response.result);
      else p.reject(new Error(m.response.error));
    }
  });
  await sub.subscribe(mine);
  let n = 0;
  const call = (target) =>
    new Promise((resolve, reject) => {
      const requestId = `${instanceId}-${++n}`;
      const request = {
        sourceInstanceId: instanceId, targetInstanceId: target, componentId: 'counter-1', componentName: 'counter',
        action: 'increment', payload: 1, requestId,
      };
      // The seed's actionTimeout (5 s).
      const timer = setTimeout(() => {
        pending.delete(requestId);
        reject(new Error(`Cluster action timeout after ${DEADLINE_MS}ms`));
      }, DEADLINE_MS);
      pending.set(requestId, { resolve, reject, timer });
      const channel = `${prefix}actions:${target}`;
      pub.publish(channel, JSON.stringify({ type: 'action_request', origin: instanceId, request })).catch((err) => {
        clearTimeout(timer);
        pending.delete(requestId);
        reject(err);
      });
    });
  return {
    instanceId,
    role: () => 'responder',
    call,
    close: async () => {
      for (const p of pending.values()) clearTimeout(p.timer);
      sub.disconnect();
      pub.disconnect();
    },
  };
}

const instance = config.mode === 'seed' ? await seedInstance() : await keywayInstance();
/** Plain PING on a connection of its own: the Redis round trip the other figures are compared with. */
let pinger;
const ops = {
  call: (target) => instance.call(target),
  ping: () => (pinger ??= connect(config.redis)).ping(),
};

/** Nearest-rank percentiles (ms) of `latencies`. */
function summarise(latencies) {
  const v = Float64Array.from(latencies).sort();
  const at = (p) => (v.length ? v[Math.min(v.length - 1, Math.max(0, Math.ceil(p * v.length) - 1))] : null);
  const mean = v.length ? v.reduce((a, b) => a + b, 0) / v.length : null;
  return { n: v.length, mean, p50: at(0.5), p90: at(0.9), p99: at(0.99), max: v.length ? v[v.length - 1] : null };
}

/** Waits for the calls in `inflight` (a Set of promises that remove themselves), at most DRAIN_LIMIT_MS. */
async function drain(inflight) {
  const limit = new Promise((resolve) => setTimeout(resolve, DRAIN_LIMIT_MS).unref());
  await Promise.race([Promise.allSettled([...inflight]), limit]);
  return inflight.size;
}

/**
 * Open loop at `rate` calls/s: call i starts at t0 + i / rate whether or not the earlier ones are answered (a timer
 * that wakes late starts the calls it owes at once), so a slow answer does not hold back the next call. Latency is
 * timed from each call's start; only calls started after the warm-up count.
 */
async function paced({ id, op, rate, warmupMs, durationMs, target, raw }) {
  const fn = ops[op];
  const gapMs = 1000 / rate;
  const t0 = performance.now();
  const from = t0 + warmupMs;
  const end = from + durationMs;
  const latencies = [];
  const inflight = new Set();
  let started = 0;
  let errors = 0;
  let measuring = false;
  let firstError;
  await new Promise((resolve) => {
    const tick = () => {
      const now = performance.now();
      if (!measuring && now >= from) {
        measuring = true;
        send({ ev: 'measuring', id });
      }
      for (let due = t0 + started * gapMs; due <= now && due < end; due = t0 + started * gapMs) {
        started++;
        const s = performance.now();
        const counted = s >= from;
        const p = fn(target).then(
          () => counted && latencies.push(performance.now() - s),
          (err) => {
            if (counted) errors++;
            firstError ??= String(err?.code ?? err?.message ?? err);
          },
        );
        inflight.add(p);
        p.finally(() => inflight.delete(p));
      }
      const next = t0 + started * gapMs;
      if (next >= end) return resolve();
      setTimeout(tick, Math.max(0, next - performance.now()));
    };
    tick();
  });
  const elapsedS = (performance.now() - from) / 1000;
  const unfinished = await drain(inflight);
  const counted = latencies.length + errors;
  const result = { ...summarise(latencies), errors, unfinished, firstError, achievedRate: counted / elapsedS, elapsedS };
  // Every latency (µs-rounded ms), for the parent to pool rounds: percentiles of percentiles would not do.
  if (raw) result.latencies = latencies.map((x) => Math.round(x * 1000) / 1000);
  return result;
}

/** Closed loop: `concurrency` callers, each starting its next call when the last is answered. */
async function flood({ id, op, concurrency, warmupMs, durationMs, target }) {
  const fn = ops[op];
  const t0 = performance.now();
  const from = t0 + warmupMs;
  const end = from + durationMs;
  const latencies = [];
  let errors = 0;
  let firstError;
  setTimeout(() => send({ ev: 'measuring', id }), warmupMs);
  const worker = async () => {
    while (performance.now() < end) {
      const s = performance.now();
      try {
        await fn(target);
        const e = performance.now();
        if (s >= from && e <= end) latencies.push(e - s);
      } catch (err) {
        if (s >= from) errors++;
        firstError ??= String(err?.code ?? err?.message ?? err);
      }
    }
  };
  // Every call has a deadline, so the workers end within DEADLINE_MS of `end`.
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { ...summarise(latencies), errors, firstError, callsPerSecond: latencies.length / (durationMs / 1000) };
}

/**
 * Paced calls until stopped, each with its own idempotency key (a retry across the failover is applied once);
 * reports each change of the process that answers.
 */
let load;
function startLoad({ rate, deadlineMs }) {
  const me = { stop: false, ok: 0, failed: 0, codes: {}, slowestMs: 0, inflight: new Set(), answerer: 0 };
  load = me;
  const gapMs = 1000 / rate;
  const t0 = performance.now();
  let started = 0;
  const tick = () => {
    if (me.stop) return;
    for (let due = t0 + started * gapMs; due <= performance.now(); due = t0 + started * gapMs) {
      started++;
      const sentAt = wallNow();
      const key = `${instance.instanceId}-${started}`;
      const p = instance.call(null, { deadlineMs, idempotencyKey: key }).then(
        (result) => {
          const at = wallNow();
          me.ok++;
          me.slowestMs = Math.max(me.slowestMs, at - sentAt);
          if (result?.pid !== me.answerer) {
            me.answerer = result?.pid;
            send({ ev: 'answerer', pid: result?.pid, at, sentAt });
          }
        },
        (err) => {
          me.failed++;
          const code = String(err?.code ?? err?.message ?? err);
          me.codes[code] = (me.codes[code] ?? 0) + 1;
        },
      );
      me.inflight.add(p);
      p.finally(() => me.inflight.delete(p));
    }
    setTimeout(tick, Math.max(0, t0 + started * gapMs - performance.now()));
  };
  tick();
  return { started: true };
}

async function stopLoad() {
  const me = load;
  if (me === undefined) return null;
  me.stop = true;
  const unfinished = await drain(me.inflight);
  return { ok: me.ok, failed: me.failed, codes: me.codes, slowestMs: me.slowestMs, unfinished };
}

const commands = {
  paced,
  flood,
  load: startLoad,
  'stop-load': stopLoad,
  role: () => ({ role: instance.role() }),
  exit: async () => {
    if (load !== undefined) load.stop = true;
    await Promise.race([instance.close(), new Promise((r) => setTimeout(r, 2000).unref())]);
    pinger?.disconnect();
    setImmediate(() => process.exit(0));
    return { closed: true };
  },
};

serveCommands(commands, { instanceId: instance.instanceId, role: instance.role() });
