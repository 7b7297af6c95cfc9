/**
 * `limits.maxBodyBytes` and uploads that stop half way: a declared oversize body is refused before any backend is
 * contacted; a streamed one is refused (or its response cut) when it passes the limit, and the upstream request is
 * aborted; a client that leaves mid-upload aborts the upstream request too.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { startBackend, type TestBackend } from '../helpers/backends.js';
import { startGateway } from '../helpers/gateway.js';
import { request } from '../helpers/http.js';
import { until } from '../helpers/wait.js';
import { rawExchange } from '../helpers/raw.js';

const LIMIT = 1000;

const backends: TestBackend[] = [];
after(() => Promise.all(backends.map((b) => b.close())));

/** How the backend saw the upstream request end: its whole body (`end`) or cut short (`aborted`). */
interface Seen {
  bytes: number;
  outcome: Promise<'end' | 'aborted'>;
}

/**
 * A backend that reads the whole body and answers its length; with `answerFirst` it sends its response head
 * before reading. `seen` holds one entry per request, in order.
 */
async function countingBackend(answerFirst = false): Promise<{ backend: TestBackend; seen: Seen[] }> {
  const seen: Seen[] = [];
  const backend = await startBackend('counting', (req, res) => {
    const entry: Seen = { bytes: 0, outcome: Promise.resolve('end') };
    entry.outcome = new Promise((resolve) => {
      req.on('data', (c: Buffer) => (entry.bytes += c.length));
      req.once('end', () => resolve('end'));
      req.once('close', () => {
        if (!req.complete) resolve('aborted');
      });
    });
    seen.push(entry);
    if (answerFirst) {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('reading;');
    }
    req.once('end', () => res.end(answerFirst ? `read ${entry.bytes}` : String(entry.bytes)));
  });
  backends.push(backend);
  return { backend, seen };
}


const chunk = (body: string): string => `${body.length.toString(16)}\r\n${body}\r\n`;

test('a body declared larger than maxBodyBytes gets 413 at once, before any byte of it and without a backend', { timeout: 10_000 }, async () => {
  const { backend } = await countingBackend();
  const gw = await startGateway({ backends: [{ id: 1, url: backend.url }], limits: { maxBodyBytes: LIMIT } });
  try {
    // Only the head is sent: the answer must not wait for the body.
    const reply = await rawExchange(gw.port, `POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: ${LIMIT + 1}\r\n\r\n`);
    assert.match(reply, /^HTTP\/1\.1 413 /);
    assert.match(reply, /\r\nconnection: close\r\n/i);
    assert.match(reply, /"code":"KW_ERR_PROXY_BAD_REQUEST"/);
    assert.equal(backend.hits, 0);
    const ok = await request(gw.port, { method: 'POST', body: 'x'.repeat(LIMIT) });
    assert.equal(ok.status, 200);
    assert.equal(ok.body, String(LIMIT), 'a body of exactly the limit passes');
  } finally {
    await gw.close();
  }
});

test('a chunked body that passes maxBodyBytes gets 413 and the upstream request is aborted', { timeout: 10_000 }, async () => {
  const { backend, seen } = await countingBackend();
  const gw = await startGateway({ backends: [{ id: 1, url: backend.url }], limits: { maxBodyBytes: LIMIT } });
  try {
    const atLimit = await rawExchange(gw.port, `POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n${chunk('a'.repeat(LIMIT))}0\r\n\r\n`);
    assert.match(atLimit, /^HTTP\/1\.1 200 /);
    assert.equal(await seen[0]?.outcome, 'end');

    // Two chunks past the limit and no last chunk: the gateway must answer without waiting for the rest.
    const over = `POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n${chunk('a'.repeat(LIMIT))}${chunk('b'.repeat(10))}`;
    const reply = await rawExchange(gw.port, over);
    assert.match(reply, /^HTTP\/1\.1 413 /);
    assert.match(reply, /\r\nconnection: close\r\n/i);
    assert.equal(seen.length, 2);
    assert.equal(await seen[1]?.outcome, 'aborted', 'the backend saw the upstream request cut');
    assert.ok((seen[1]?.bytes ?? 0) <= LIMIT, `backend got ${seen[1]?.bytes} bytes`);
    assert.equal((await request(gw.port)).status, 200, 'still serving');
  } finally {
    await gw.close();
  }
});

test('a streamed body that passes maxBodyBytes after the response started: the response is cut, never completed', { timeout: 10_000 }, async () => {
  const { backend, seen } = await countingBackend(true);
  const gw = await startGateway({ backends: [{ id: 1, url: backend.url }], limits: { maxBodyBytes: LIMIT } });
  try {
    const outcome = await new Promise<string>((resolve) => {
      const req = http.request({ host: '127.0.0.1', port: gw.port, method: 'POST', path: '/', agent: false }, (res) => {
        assert.equal(res.statusCode, 200);
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => {
          body += c;
          // The head is there: now push the body past the limit.
          if (body === 'reading;') req.write('x'.repeat(LIMIT));
        });
        res.on('end', () => resolve(`complete: ${body}`));
        res.on('error', () => resolve('cut'));
        res.on('aborted', () => resolve('cut'));
      });
      req.on('error', () => resolve('cut'));
      req.flushHeaders();
      req.write('y');
    });
    assert.equal(outcome, 'cut');
    assert.equal(await seen[0]?.outcome, 'aborted');
    assert.equal((await request(gw.port)).status, 200, 'still serving');
  } finally {
    await gw.close();
  }
});

test('a client that leaves mid-upload aborts the upstream request; counters return to 0', { timeout: 10_000 }, async () => {
  const { backend, seen } = await countingBackend();
  const gw = await startGateway({ backends: [{ id: 1, url: backend.url }] });
  try {
    const s = net.connect(gw.port, '127.0.0.1');
    s.on('error', () => undefined);
    s.write(`POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n${'z'.repeat(5000)}`);
    // Wait until the first body bytes reached the backend, then reset the client connection.
    await until(() => (seen[0]?.bytes ?? 0) > 0);
    s.resetAndDestroy();
    assert.equal(await seen[0]?.outcome, 'aborted');
    await until(() => gw.gateway.backends[0]?.activeConnections === 0);
    assert.equal((await request(gw.port)).status, 200, 'still serving');
  } finally {
    await gw.close();
  }
});
