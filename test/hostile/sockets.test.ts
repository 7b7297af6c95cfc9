/**
 * Socket exhaustion: every client socket lives under a deadline from accept (or from the end of its last answer) to
 * a complete request head, whether it sends nothing or a CRLF now and then; `limits.maxConnections` caps how many
 * are open at once. A client that keeps sending real requests is never cut.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { startGateway, type Started } from '../helpers/gateway.js';
import { request } from '../helpers/http.js';
import { startLoggingBackend, type LoggingBackend } from './helpers.js';

const HEADERS_MS = 400;
const IDLE_MS = 600;

let backend: LoggingBackend;
let gw: Started;

before(async () => {
  backend = await startLoggingBackend();
  gw = await startGateway({ backends: [{ id: 'a', url: backend.url }], sticky: false, timeouts: { clientHeadersMs: HEADERS_MS, clientIdleMs: IDLE_MS } });
});
after(async () => {
  await gw?.close();
  await backend?.close();
});

/** Opens a connection and resolves once it is connected; `closedAt` is set when the gateway closes it. */
function open(port: number): Promise<net.Socket & { closedAt?: number }> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1') as net.Socket & { closedAt?: number };
    s.on('error', () => undefined);
    // Flowing, so the gateway's FIN is read (a paused socket with no reader never sees its end, nor closes).
    s.resume();
    s.once('close', () => (s.closedAt = Date.now()));
    s.once('connect', () => resolve(s));
    s.once('error', reject);
  });
}

/** Resolves once every socket has closed, or after `withinMs` (the caller then asserts on `closedAt`). */
async function waitClosed(sockets: (net.Socket & { closedAt?: number })[], withinMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<void>((resolve) => (timer = setTimeout(resolve, withinMs)));
  const closed = Promise.all(sockets.map((s) => (s.closedAt !== undefined ? undefined : new Promise<void>((resolve) => s.once('close', () => resolve())))));
  await Promise.race([closed, late]);
  clearTimeout(timer);
}

test('300 connections that send nothing are all closed within clientHeadersMs plus one sweep', { timeout: 15_000 }, async () => {
  const start = Date.now();
  const sockets = await Promise.all(Array.from({ length: 300 }, () => open(gw.port)));
  await waitClosed(sockets, HEADERS_MS + 2000);
  const open_ = sockets.filter((s) => s.closedAt === undefined).length;
  for (const s of sockets) s.destroy();
  assert.equal(open_, 0, `${open_} still open`);
  const last = Math.max(...sockets.map((s) => s.closedAt as number)) - start;
  assert.ok(last <= HEADERS_MS + 1500, `closed after ${last} ms`);
  assert.equal((await request(gw.port)).status, 200, 'new clients are served');
});

test('a connection that sends CRLF every 100 ms before any request is closed within the deadline', { timeout: 10_000 }, async () => {
  const s = await open(gw.port);
  const start = Date.now();
  const drip = setInterval(() => s.writable && s.write('\r\n'), 100);
  await waitClosed([s], HEADERS_MS + 3000);
  clearInterval(drip);
  s.destroy();
  assert.ok(s.closedAt !== undefined, 'closed');
  assert.ok((s.closedAt as number) - start <= HEADERS_MS + 1500, `closed after ${(s.closedAt as number) - start} ms`);
});

test('a head sent one byte every 100 ms (slowloris) is cut within the deadline', { timeout: 10_000 }, async () => {
  const s = await open(gw.port);
  const start = Date.now();
  const bytes = 'GET / HTTP/1.1\r\nHost: x\r\nX-Slow: ' + 'a'.repeat(200);
  let i = 0;
  const drip = setInterval(() => s.writable && i < bytes.length && s.write(bytes[i++] as string), 100);
  await waitClosed([s], HEADERS_MS + 3000);
  clearInterval(drip);
  s.destroy();
  assert.ok(s.closedAt !== undefined, 'closed');
  assert.ok((s.closedAt as number) - start <= HEADERS_MS + 1500);
  assert.deepEqual(backend.log.filter((l) => l.rawHeaders.includes('X-Slow')), []);
});

test('after an answer, a keep-alive connection dripping CRLF is closed within clientIdleMs + clientHeadersMs', { timeout: 10_000 }, async () => {
  const s = await open(gw.port);
  let data = '';
  s.on('data', (c: Buffer) => (data += c.toString('latin1')));
  s.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
  while (!data.includes('\r\n\r\nok')) await new Promise((r) => setTimeout(r, 20));
  const answered = Date.now();
  const drip = setInterval(() => s.writable && s.write('\r\n'), 100);
  await waitClosed([s], IDLE_MS + HEADERS_MS + 3000);
  clearInterval(drip);
  s.destroy();
  assert.ok(s.closedAt !== undefined, 'closed');
  assert.ok((s.closedAt as number) - answered <= IDLE_MS + HEADERS_MS + 1500, `closed ${(s.closedAt as number) - answered} ms after its answer`);
});

test('a keep-alive client sending a request every 150 ms for 2 s is never cut', { timeout: 10_000 }, async () => {
  const s = await open(gw.port);
  let answers = 0;
  s.on('data', (c: Buffer) => (answers += c.toString('latin1').split('HTTP/1.1 200').length - 1));
  const end = Date.now() + 2000;
  let sent = 0;
  while (Date.now() < end) {
    s.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    sent++;
    await new Promise((r) => setTimeout(r, 150));
  }
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(s.closedAt, undefined, 'still open');
  assert.equal(answers, sent);
  s.destroy();
});

test('limits.maxConnections: connections past the cap are closed at accept, and served again once under it', { timeout: 10_000 }, async () => {
  const capped = await startGateway({ backends: [{ id: 'a', url: backend.url }], sticky: false, limits: { maxConnections: 5 }, timeouts: { clientHeadersMs: 5000 } });
  try {
    const held = await Promise.all(Array.from({ length: 5 }, () => open(capped.port)));
    const extra = await open(capped.port);
    await waitClosed([extra], 2000);
    assert.ok(extra.closedAt !== undefined, 'the sixth connection is closed');
    for (const s of held) s.destroy();
    await new Promise((r) => setTimeout(r, 100));
    assert.equal((await request(capped.port)).status, 200);
  } finally {
    await capped.close();
  }
});
