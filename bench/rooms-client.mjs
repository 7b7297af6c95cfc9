#!/usr/bin/env node
/**
 * @module bench/rooms-client: the rooms bench's WebSocket clients and load generator in one child process, driven by
 * `bench/rooms.mjs` over stdin/stdout (one JSON object a line).
 *
 *   node bench/rooms-client.mjs '<config JSON>'
 *   config: { proto: 'keyway' | 'socket.io', client: 'raw' | 'lib', ports: [p1, ...], rooms, perInstance }
 *
 * Members: for every room and every instance, `perInstance` WebSockets to that instance joined to the room. Senders:
 * one WebSocket per instance; room r is published through instance r % instances (so a room's messages have one
 * origin, and its counter `n` one order). A message's data is `{"r":ROOM,"n":N,"g":G,"t":T,"p":"x..."}` (1 KB of
 * JSON): `n` counts the room's messages, `g` all of them, `t` is performance.now() in this process when it was sent
 * (so publish -> receipt latency is measured on one clock).
 *
 * client 'raw' (default): raw TCP sockets with a minimal WebSocket framing (a zero mask on what is sent, unmasked
 * frames read without copying) and the peer's wire format spoken directly (for socket.io: engine.io 4 / socket.io 5
 * over the WebSocket transport: open `0{...}`, connect `40`, events `42[...]`, ping `2` -> pong `3`); a delivery's
 * fields are read from its first bytes, not JSON-parsed. The client costs the same per message for every peer.
 * client 'lib': `ws` WebSocket objects for keyway and socket.io-client sockets for socket.io, JSON parsed in full.
 *
 * Every delivery is checked per member socket: `n` must be the room's next (a repeat or an earlier one counts as
 * repeated/reordered), for keyway `s` (the room's seq) must increase; per message the members still owed (missing
 * when the phase has drained).
 *
 * Parent -> child: { id, cmd: 'connect' }
 *                  | { id, cmd: 'run', kind: 'paced' | 'window', rate?, window?, warmupMs, durationMs, drainMs,
 *                      releaseMs? }
 *                  | { id, cmd: 'exit' }
 * Child -> parent: { ev: 'ready', pid } | { ev: 'measuring', id } | { ev: 'measured', id }
 *                  | { ev: 'done', id, result } | { ev: 'failed', id, error }
 */
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { send, serveCommands } from './lib/child-rpc.mjs';

const config = JSON.parse(process.argv[2] ?? '{}');
const SIO = config.proto === 'socket.io';
const LIB = config.client === 'lib';
const PORTS = config.ports;
const ROOMS = config.rooms;
const PER = config.perInstance;
/** Instances each room's members are on: room r on instances r, r + 1, ... (mod n), its members split evenly. */
const SPREAD = config.spread ?? config.ports.length;
const now = () => performance.now();

/** Pads the data to 1 KB of JSON: `{"r":99,"n":12345,"g":123456,"t":12345.678,"p":"..."}`. */
const PAD = 'x'.repeat(1024 - 50);
const HANDSHAKE_TIMEOUT_MS = 15_000;
const OPEN_CONCURRENCY = 200;

// ---- per-message bookkeeping -----------------------------------------------------------------------------------

let capacity = 1 << 20;
/** Members that have not received message g yet. */
let remaining = new Int16Array(capacity);
/** When message g was sent (performance.now()). */
let sentAt = new Float64Array(capacity);
/** 1 once message g no longer holds a window slot (delivered to all, or released after releaseMs). */
let settled = new Uint8Array(capacity);
let lastG = 0;
const roomN = new Int32Array(ROOMS);
/** Ready member sockets per room: the deliveries each message is owed. */
const roomMembers = new Int16Array(ROOMS);
const totals = { received: 0, repeated: 0, jumped: 0, seqRepeated: 0, malformed: 0, closed: 0 };

function grow() {
  const next = capacity * 2;
  const r = new Int16Array(next);
  r.set(remaining);
  const s = new Float64Array(next);
  s.set(sentAt);
  const d = new Uint8Array(next);
  d.set(settled);
  remaining = r;
  sentAt = s;
  settled = d;
  capacity = next;
}

/** The running phase (null between phases). */
let phase = null;
/** Latency histogram: 10 µs buckets up to 10 s, the last one for everything slower. */
const BUCKET_US = 10;
const BUCKETS = 1_000_001;

function newPhase(p) {
  const t0 = now();
  return {
    ...p,
    t0,
    from: t0 + p.warmupMs,
    end: t0 + p.warmupMs + p.durationMs,
    firstG: lastG + 1,
    sending: true,
    hist: new Uint32Array(BUCKETS),
    samples: 0,
    maxMs: 0,
    delivered: 0,
    published: 0,
    inflight: 0,
    maxInflight: 0,
    released: 0,
    onSettled: null,
    complete: 0,
    expected: 0,
    totalsAtStart: { ...totals },
  };
}

/** One delivery of message g (room counter n, seq s or -1) to member `m`, received at `at`. */
function delivered(m, n, g, t, s, at) {
  totals.received++;
  if (n <= m.lastN) totals.repeated++;
  else {
    if (n > m.lastN + 1) totals.jumped += n - m.lastN - 1;
    m.lastN = n;
  }
  if (s >= 0) {
    if (s <= m.lastS) totals.seqRepeated++;
    else m.lastS = s;
  }
  const ph = phase;
  if (ph === null) return;
  if (at >= ph.from && at < ph.end) ph.delivered++;
  if (t >= ph.from && t < ph.end) {
    const ms = at - t;
    ph.hist[Math.min(BUCKETS - 1, Math.floor((ms * 1000) / BUCKET_US))]++;
    ph.samples++;
    if (ms > ph.maxMs) ph.maxMs = ms;
  }
  if (g >= capacity) return;
  if (--remaining[g] === 0 && settled[g] === 0) {
    settled[g] = 1;
    ph.inflight--;
    ph.complete++;
    ph.onSettled?.();
  }
}

function percentile(ph, p) {
  if (ph.samples === 0) return null;
  let target = Math.ceil(ph.samples * p);
  for (let i = 0; i < BUCKETS; i++) {
    target -= ph.hist[i];
    if (target <= 0) return i === BUCKETS - 1 ? ph.maxMs : ((i + 1) * BUCKET_US) / 1000;
  }
  return ph.maxMs;
}

// ---- raw WebSocket ---------------------------------------------------------------------------------------------

/** A client frame (FIN, text) with a zero mask: the payload goes as it is (masking with zeros changes nothing). */
function textFrame(text) {
  const len = Buffer.byteLength(text);
  const hdr = len < 126 ? 6 : len < 65536 ? 8 : 14;
  const frame = Buffer.allocUnsafe(hdr + len);
  frame[0] = 0x81;
  if (len < 126) frame[1] = 0x80 | len;
  else if (len < 65536) {
    frame[1] = 0x80 | 126;
    frame.writeUInt16BE(len, 2);
  } else {
    frame[1] = 0x80 | 127;
    frame.writeBigUInt64BE(BigInt(len), 2);
  }
  frame.writeUInt32BE(0, hdr - 4);
  frame.write(text, hdr, 'utf8');
  return frame;
}
const PONG_FRAME = Buffer.from([0x8a, 0x80, 0, 0, 0, 0]);

/**
 * Opens a raw WebSocket to `path` on `port`; `onText(buf, start, end, at)` gets each text frame's payload.
 * Resolves with `{ socket, write(text) }` once upgraded.
 */
function rawOpen(port, path, onText) {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port, noDelay: true });
    let head = Buffer.alloc(0);
    let pending = null;
    const timer = setTimeout(() => fail(new Error('handshake timeout')), HANDSHAKE_TIMEOUT_MS);
    const fail = (err) => {
      clearTimeout(timer);
      socket.destroy();
      reject(err);
    };
    socket.once('error', fail);
    socket.on('connect', () =>
      socket.write(
        `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
      ),
    );
    const onFrames = (chunk) => {
      const at = now();
      const buf = pending === null ? chunk : Buffer.concat([pending, chunk]);
      let off = 0;
      while (buf.length - off >= 2) {
        const b0 = buf[off];
        let len = buf[off + 1] & 0x7f;
        let hdr = 2;
        if (len === 126) {
          if (buf.length - off < 4) break;
          len = buf.readUInt16BE(off + 2);
          hdr = 4;
        } else if (len === 127) {
          if (buf.length - off < 10) break;
          len = Number(buf.readBigUInt64BE(off + 2));
          hdr = 10;
        }
        if (buf.length - off < hdr + len) break;
        const op = b0 & 0x0f;
        const start = off + hdr;
        off = start + len;
        if (op === 1) onText(buf, start, off, at);
        else if (op === 9) socket.write(PONG_FRAME);
        else if (op === 8) socket.end();
        else totals.malformed++;
      }
      pending = off < buf.length ? buf.subarray(off) : null;
    };
    const onHead = (chunk) => {
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      socket.off('data', onHead);
      clearTimeout(timer);
      const status = head.subarray(0, head.indexOf('\r\n')).toString();
      if (!/^HTTP\/1\.1 101/.test(status)) {
        socket.destroy();
        reject(new Error(`upgrade refused: ${status}`));
        return;
      }
      socket.off('error', fail);
      socket.on('error', () => undefined);
      socket.on('close', () => totals.closed++);
      socket.on('data', onFrames);
      const rest = head.subarray(end + 4);
      resolve({ socket, write: (text) => socket.write(textFrame(text)) });
      // After the caller's then() has the connection (a reply may need it).
      if (rest.length > 0) queueMicrotask(() => onFrames(rest));
    };
    socket.on('data', onHead);
  });
}

const KW_DATA = /^\{"s":(\d+),"r":(\d+),"n":(\d+),"g":(\d+),"t":([\d.]+)/;
const SIO_DATA = /^42\["m",\{"r":(\d+),"n":(\d+),"g":(\d+),"t":([\d.]+)/;

/** One member socket, raw: resolves once it is in its room (`ok`). */
function rawMember(port, r, member) {
  const m = { r, lastN: 0, lastS: -1 };
  return new Promise((resolve, reject) => {
    let conn;
    const timer = setTimeout(() => reject(new Error('no ok within the handshake timeout')), HANDSHAKE_TIMEOUT_MS);
    const ok = () => {
      clearTimeout(timer);
      resolve(m);
    };
    const onText = SIO
      ? (buf, start, end, at) => {
          const c = buf[start];
          if (c === 0x34 /* 4 */ && buf[start + 1] === 0x32 /* 2 */) {
            if (buf[start + 4] === 0x6d /* m */) {
              const x = SIO_DATA.exec(buf.toString('latin1', start, Math.min(end, start + 96)));
              if (x === null || end - start < 1000) return void totals.malformed++;
              delivered(m, Number(x[2]), Number(x[3]), Number(x[4]), -1, at);
            } else if (buf.toString('latin1', start, end) === '42["ok"]') ok();
          } else if (c === 0x32 /* 2: ping */ && end - start === 1) conn.write('3');
          else if (c === 0x30 /* 0: open */) conn.write('40');
        }
      : (buf, start, end, at) => {
          if (buf[start] === 0x7b /* { */) {
            const x = KW_DATA.exec(buf.toString('latin1', start, Math.min(end, start + 96)));
            if (x === null || end - start < 1000) return void totals.malformed++;
            delivered(m, Number(x[3]), Number(x[4]), Number(x[5]), Number(x[1]), at);
          } else if (end - start === 2) ok();
        };
    const path = SIO ? `/socket.io/?EIO=4&transport=websocket&r=${r}` : `/?r=${r}&m=${member}`;
    rawOpen(port, path, onText).then((c) => (conn = c), reject);
  });
}

/** A sender, raw: `publish(json)` sends the data. */
async function rawSender(port) {
  let conn;
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('sender: no ok')), HANDSHAKE_TIMEOUT_MS);
    const onText = (buf, start, end) => {
      const text = buf.toString('latin1', start, end);
      if (text === 'ok' || text === '42["ok"]') {
        clearTimeout(timer);
        resolve();
      } else if (SIO && text === '2') conn.write('3');
      else if (SIO && text[0] === '0') conn.write('40');
    };
    const path = SIO ? '/socket.io/?EIO=4&transport=websocket&pub=1' : '/?pub=1';
    rawOpen(port, path, onText).then((c) => (conn = c), reject);
  });
  return SIO ? (json) => conn.write(`42["pub",${json}]`) : (json) => conn.write(json);
}

// ---- library clients -------------------------------------------------------------------------------------------

let wsLib;
let sioLib;
async function libs() {
  if (SIO) sioLib ??= await import('socket.io-client');
  else wsLib ??= await import('ws');
}

function libMember(port, r, member) {
  const m = { r, lastN: 0, lastS: -1 };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no ok within the handshake timeout')), HANDSHAKE_TIMEOUT_MS);
    const ok = () => {
      clearTimeout(timer);
      resolve(m);
    };
    if (SIO) {
      const socket = sioLib.io(`http://127.0.0.1:${port}`, { transports: ['websocket'], forceNew: true, reconnection: false, query: { r } });
      socket.on('m', (d) => delivered(m, d.n, d.g, d.t, -1, now()));
      socket.once('ok', ok);
      socket.on('connect_error', (err) => reject(err));
      socket.on('disconnect', () => totals.closed++);
    } else {
      const ws = new wsLib.WebSocket(`ws://127.0.0.1:${port}/?r=${r}&m=${member}`, { perMessageDeflate: false });
      ws.on('message', (raw) => {
        const at = now();
        const text = raw.toString();
        if (text === 'ok') return ok();
        const d = JSON.parse(text);
        delivered(m, d.n, d.g, d.t, d.s, at);
      });
      ws.on('error', reject);
      ws.on('close', () => totals.closed++);
    }
  });
}

async function libSender(port) {
  if (SIO) {
    const socket = sioLib.io(`http://127.0.0.1:${port}`, { transports: ['websocket'], forceNew: true, reconnection: false, query: { pub: 1 } });
    await new Promise((resolve, reject) => {
      socket.once('ok', resolve);
      socket.once('connect_error', reject);
    });
    // Emitted as an object: socket.io-client serialises it (the raw client sends the same JSON text).
    return (_json, data) => socket.emit('pub', data);
  }
  const ws = new wsLib.WebSocket(`ws://127.0.0.1:${port}/?pub=1`, { perMessageDeflate: false });
  await new Promise((resolve, reject) => {
    ws.once('message', resolve);
    ws.once('error', reject);
  });
  return (json) => ws.send(json);
}

// ---- connect, publish ------------------------------------------------------------------------------------------

let senders = [];

async function connect() {
  const t0 = now();
  if (LIB) await libs();
  const member = LIB ? libMember : rawMember;
  const jobs = [];
  for (let r = 0; r < ROOMS; r++) {
    const perHere = (PER * PORTS.length) / SPREAD;
    for (let j = 0; j < SPREAD; j++) {
      const i = (r + j) % PORTS.length;
      for (let k = 0; k < perHere; k++) jobs.push([PORTS[i], r, `m${r}-${i}-${k}`]);
    }
  }
  let next = 0;
  let failed = 0;
  let firstError;
  const worker = async () => {
    while (next < jobs.length) {
      const [port, r, name] = jobs[next++];
      try {
        await member(port, r, name);
        roomMembers[r]++;
      } catch (err) {
        failed++;
        firstError ??= String(err?.message ?? err);
      }
    }
  };
  await Promise.all(Array.from({ length: OPEN_CONCURRENCY }, worker));
  senders = await Promise.all(PORTS.map((p) => (LIB ? libSender(p) : rawSender(p))));
  let joined = 0;
  for (const c of roomMembers) joined += c;
  return { joined, failed, firstError, connectMs: now() - t0 };
}

let nextRoom = 0;
/** Publishes the next room's next message (rooms in turn). */
function publishNext(ph) {
  const r = nextRoom;
  nextRoom = (nextRoom + 1) % ROOMS;
  const g = ++lastG;
  if (g >= capacity) grow();
  const n = ++roomN[r];
  const t = now();
  remaining[g] = roomMembers[r];
  sentAt[g] = t;
  settled[g] = roomMembers[r] === 0 ? 1 : 0;
  const tText = t.toFixed(3);
  const json = `{"r":${r},"n":${n},"g":${g},"t":${tText},"p":"${PAD}"}`;
  senders[r % senders.length](json, LIB && SIO ? { r, n, g, t: Number(tText), p: PAD } : undefined);
  if (t >= ph.from && t < ph.end) ph.published++;
  ph.expected += roomMembers[r];
  if (settled[g] === 0) {
    ph.inflight++;
    if (ph.inflight > ph.maxInflight) ph.maxInflight = ph.inflight;
  }
}

/**
 * One phase. paced: open loop at `rate` messages/s (a late timer sends what it owes at once). window: closed loop,
 * `window` messages not yet delivered to every member at once; a message still owed after `releaseMs` gives its
 * slot up (counted), so a lost one cannot stall the loop.
 */
async function run(p) {
  const ph = newPhase(p);
  phase = ph;
  let measuring = false;
  const mark = () => {
    if (!measuring && now() >= ph.from) {
      measuring = true;
      send({ ev: 'measuring', id: p.id });
    }
  };
  await new Promise((resolve) => {
    const stop = () => {
      ph.sending = false;
      send({ ev: 'measured', id: p.id });
      resolve();
    };
    if (p.kind === 'paced') {
      const gap = 1000 / p.rate;
      let sent = 0;
      const tick = () => {
        mark();
        const t = now();
        for (let due = ph.t0 + sent * gap; due <= t && due < ph.end; due = ph.t0 + sent * gap) {
          sent++;
          publishNext(ph);
        }
        const next = ph.t0 + sent * gap;
        if (next >= ph.end) return stop();
        setTimeout(tick, Math.max(0, next - now()));
      };
      tick();
    } else {
      let head = ph.firstG;
      ph.onSettled = () => {
        if (ph.sending && now() < ph.end) publishNext(ph);
      };
      const release = () => {
        const t = now();
        while (head <= lastG && (settled[head] === 1 || sentAt[head] < t - p.releaseMs)) {
          if (settled[head] === 0) {
            settled[head] = 1;
            ph.inflight--;
            ph.released++;
            if (t < ph.end) publishNext(ph);
          }
          head++;
        }
      };
      const timer = setInterval(() => {
        mark();
        release();
        if (now() >= ph.end) {
          clearInterval(timer);
          stop();
        }
      }, 10);
      for (let i = 0; i < p.window; i++) publishNext(ph);
    }
  });
  // Drain: wait until every message of the phase reached every member, or drainMs.
  const drainStart = now();
  const lastOfPhase = lastG;
  const owed = () => {
    let owedMessages = 0;
    let owedDeliveries = 0;
    for (let g = ph.firstG; g <= lastOfPhase; g++) {
      if (remaining[g] > 0) {
        owedMessages++;
        owedDeliveries += remaining[g];
      }
    }
    return { owedMessages, owedDeliveries };
  };
  while (now() - drainStart < p.drainMs && owed().owedMessages > 0) await new Promise((r) => setTimeout(r, 20));
  const { owedMessages, owedDeliveries } = owed();
  phase = null;
  const seconds = p.durationMs / 1000;
  const counted = Object.fromEntries(Object.keys(totals).map((k) => [k, totals[k] - ph.totalsAtStart[k]]));
  return {
    kind: p.kind,
    rate: p.rate,
    window: p.window,
    published: ph.published,
    publishedPerSecond: ph.published / seconds,
    delivered: ph.delivered,
    deliveredPerSecond: ph.delivered / seconds,
    sentInPhase: lastOfPhase - ph.firstG + 1,
    latencySamples: ph.samples,
    p50: percentile(ph, 0.5),
    p90: percentile(ph, 0.9),
    p99: percentile(ph, 0.99),
    max: ph.maxMs,
    maxInflight: ph.maxInflight,
    released: ph.released,
    missingMessages: owedMessages,
    missingDeliveries: owedDeliveries,
    drainMs: now() - drainStart,
    /** Deliveries owed by the messages sent in the phase (members of their rooms), and what arrived. */
    expectedDeliveries: ph.expected,
    ...counted,
  };
}

const commands = {
  connect,
  run,
  exit: () => {
    setImmediate(() => process.exit(0));
    return { closed: true };
  },
};

serveCommands(commands);
