/**
 * Fuzzing the request head: valid requests, mutated at random (bytes flipped to the characters parsers disagree on,
 * framing and Host lines inserted, lines duplicated or cut), sent on raw sockets in concurrent batches. Bounded in
 * count and time; the seed is printed and can be fixed with KEYWAY_FUZZ_SEED to replay a run.
 *
 * Asserted for every case: the gateway answers or closes the connection within its deadlines, and the backend's own
 * parser never reads more requests from that client than the gateway answered it (each case connects from its own
 * 127.0.0.x address, which the backend sees in X-Forwarded-For). After every batch the gateway still serves.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startGateway, type Started } from '../helpers/gateway.js';
import { request } from '../helpers/http.js';
import { seededRandom } from '../helpers/random.js';
import { rawSend, startLoggingBackend, type LoggingBackend, type RawReply } from './helpers.js';

const CASES = Number(process.env.KEYWAY_FUZZ_CASES ?? 300);
const BATCH = 50;
const SEED = Number(process.env.KEYWAY_FUZZ_SEED ?? Date.now() % 2 ** 31);

let backend: LoggingBackend;
let gw: Started;

before(async () => {
  backend = await startLoggingBackend();
  gw = await startGateway({
    backends: [{ id: 'a', url: backend.url }],
    sticky: false,
    retries: false,
    timeouts: { clientHeadersMs: 800, requestMs: 1500, clientIdleMs: 800, responseMs: 2000, wsHandshakeMs: 1000 },
  });
});
after(async () => {
  await gw?.close();
  await backend?.close();
});

const BASES = [
  'GET / HTTP/1.1\r\nHost: x\r\n\r\n',
  'GET /a?b=c HTTP/1.1\r\nHost: example.com:8080\r\nAccept: */*\r\nCookie: a=b\r\n\r\n',
  'POST /p HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello',
  'POST /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n',
  'GET / HTTP/1.0\r\n\r\n',
  'GET /1 HTTP/1.1\r\nHost: x\r\n\r\nGET /2 HTTP/1.1\r\nHost: x\r\n\r\n',
  'GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n',
  'DELETE /d HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc',
];
const CHARS = ['\r', '\n', '\0', ' ', '\t', ':', ',', ';', '0', '9', 'a', 'f', 'F', '-', '+', '\x7f', '\xff', '"', '/', '@', '\\', 'x'];
const TOKENS = [
  'Transfer-Encoding: chunked\r\n',
  'Transfer-Encoding: gzip, chunked\r\n',
  'Transfer-Encoding : chunked\r\n',
  'Content-Length: 5\r\n',
  'Content-Length: 0\r\n',
  'Content-Length: -1\r\n',
  'Host: y\r\n',
  'Host: a@b\r\n',
  'Trailer: x\r\n',
  'Connection: close\r\n',
  'Connection: upgrade\r\nUpgrade: h2c\r\n',
  'Expect: 100-continue\r\n',
  '\r\n',
  'chunked',
  ' HTTP/1.1',
  '0\r\n\r\n',
  'ffffffffffffffff\r\n',
  'GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n',
];

function mutate(rand: () => number, input: string): string {
  let s = input;
  const n = 1 + Math.floor(rand() * 3);
  for (let k = 0; k < n; k++) {
    const at = Math.floor(rand() * (s.length + 1));
    const pick = <T>(xs: T[]): T => xs[Math.floor(rand() * xs.length)] as T;
    switch (Math.floor(rand() * 6)) {
      case 0:
        s = s.slice(0, at) + pick(CHARS) + s.slice(at + 1);
        break;
      case 1:
        s = s.slice(0, at) + pick(TOKENS) + s.slice(at);
        break;
      case 2:
        s = s.slice(0, at) + s.slice(at + 1 + Math.floor(rand() * 8));
        break;
      case 3: {
        const lines = s.split('\r\n');
        const i = Math.floor(rand() * lines.length);
        lines.splice(i, 0, lines[i] ?? '');
        s = lines.join('\r\n');
        break;
      }
      case 4:
        s = s.slice(0, at) + s.slice(at, at + 6).toUpperCase() + s.slice(at + 6);
        break;
      default:
        s = s.slice(0, Math.max(1, at));
    }
  }
  return s;
}

test(`fuzzed request heads (${CASES} cases, seed ${SEED}): answered or closed, never more requests at the backend than answers`, { timeout: 120_000 }, async () => {
  const rand = seededRandom(SEED);
  const started = Date.now();
  let answered = 0;
  let closed = 0;
  for (let first = 0; first < CASES && Date.now() - started < 90_000; first += BATCH) {
    backend.log.length = 0;
    const batch = Array.from({ length: Math.min(BATCH, CASES - first) }, (_, i) => ({
      bytes: mutate(rand, BASES[Math.floor(rand() * BASES.length)] as string),
      address: `127.0.0.${2 + i}`,
    }));
    const outcomes = await Promise.all(batch.map((c) => rawSend(gw.port, Buffer.from(c.bytes, 'latin1'), { idleMs: 250, localAddress: c.address })));
    // Let any request the gateway forwarded late reach the backend's log before counting.
    await new Promise((r) => setTimeout(r, 100));
    batch.forEach((c, i) => {
      const o = outcomes[i] as RawReply;
      const answers = o.statuses.length;
      const parsed = backend.log.filter((l) => l.headers['x-forwarded-for'] === c.address).length;
      const what = `case ${first + i} (seed ${SEED}): ${JSON.stringify(c.bytes)}`;
      assert.ok(answers > 0 || o.closed, `${what}: neither answered nor closed`);
      assert.ok(parsed <= answers, `${what}: the backend parsed ${parsed} requests, the client got ${answers} answers`);
      if (answers > 0) answered++;
      if (o.closed) closed++;
    });
    assert.equal((await request(gw.port)).status, 200, `the gateway serves after batch ${first / BATCH}`);
  }
  assert.ok(answered + closed > 0);
});
