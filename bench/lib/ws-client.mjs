/**
 * @module bench/lib/ws-client: a lean WebSocket load generator on raw sockets (one pre-masked frame, byte counting),
 * so that the client on the load CPU costs as little as possible. Run as a child process:
 *
 *   node ws-client.mjs echo PORTS CONNECTIONS SECONDS   -> one JSON line: round trips/s and latency percentiles
 *   node ws-client.mjs idle PORTS COUNT                 -> one JSON line once COUNT sockets are open, then holds them
 *                                                          until SIGTERM
 *
 * PORTS is comma-separated; connections are spread over them. Each echo connection keeps one 32-byte text message
 * in flight: it sends, waits for the echo (34 bytes, unmasked), and sends again.
 */
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

const PAYLOAD = 32;
const ECHO_BYTES = 2 + PAYLOAD;
const FRAME = maskedTextFrame(Buffer.alloc(PAYLOAD, 'x'));
const HANDSHAKE_TIMEOUT_MS = 10_000;
/** Handshakes in flight at once while opening many sockets. */
const OPEN_CONCURRENCY = 200;

function maskedTextFrame(payload) {
  const mask = Buffer.from([0x12, 0x34, 0x56, 0x78]);
  const frame = Buffer.alloc(2 + 4 + payload.length);
  frame[0] = 0x81; // FIN, text
  frame[1] = 0x80 | payload.length; // masked, length < 126
  mask.copy(frame, 2);
  for (let i = 0; i < payload.length; i++) frame[6 + i] = payload[i] ^ mask[i & 3];
  return frame;
}

/** Opens a WebSocket on `port`; resolves with the socket and any bytes that followed the 101 head. */
function open(port) {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port, noDelay: true });
    let head = Buffer.alloc(0);
    const timer = setTimeout(() => fail(new Error('handshake timeout')), HANDSHAKE_TIMEOUT_MS);
    const fail = (err) => {
      clearTimeout(timer);
      socket.destroy();
      reject(err);
    };
    socket.once('error', fail);
    socket.on('connect', () =>
      socket.write(
        `GET /ws HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
      ),
    );
    const onData = (chunk) => {
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      socket.off('data', onData);
      socket.off('error', fail);
      clearTimeout(timer);
      const status = head.subarray(0, head.indexOf('\r\n')).toString();
      if (!/^HTTP\/1\.1 101/.test(status)) {
        socket.destroy();
        reject(new Error(`upgrade refused: ${status}`));
        return;
      }
      resolve({ socket, rest: head.subarray(end + 4) });
    };
    socket.on('data', onData);
  });
}

async function openMany(ports, count) {
  const sockets = [];
  let failed = 0;
  let firstError;
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const port = ports[next++ % ports.length];
      try {
        sockets.push(await open(port));
      } catch (err) {
        failed++;
        firstError ??= err.message;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(OPEN_CONCURRENCY, count) }, worker));
  return { sockets, failed, firstError };
}

async function echo(ports, connections, seconds) {
  const { sockets, failed, firstError } = await openMany(ports, connections);
  // Latency histogram in 10 µs buckets up to 1 s.
  const buckets = new Uint32Array(100_001);
  let trips = 0;
  let errors = failed;
  let running = true;
  let measuring = false;
  const warmupMs = 500;
  for (const { socket } of sockets) {
    let received = 0;
    let sentAt = 0n;
    const send = () => {
      sentAt = process.hrtime.bigint();
      socket.write(FRAME);
    };
    socket.on('data', (chunk) => {
      received += chunk.length;
      while (received >= ECHO_BYTES) {
        received -= ECHO_BYTES;
        if (measuring) {
          trips++;
          const us = Number(process.hrtime.bigint() - sentAt) / 1000;
          buckets[Math.min(100_000, Math.floor(us / 10))]++;
        }
        if (running) send();
      }
    });
    socket.on('error', () => errors++);
    send();
  }
  await sleep(warmupMs);
  measuring = true;
  const start = process.hrtime.bigint();
  await sleep(seconds * 1000);
  measuring = false;
  const elapsed = Number(process.hrtime.bigint() - start) / 1e9;
  running = false;
  for (const { socket } of sockets) socket.destroy();
  const pct = (p) => {
    let target = Math.ceil((trips * p) / 100);
    for (let i = 0; i < buckets.length; i++) {
      target -= buckets[i];
      if (target <= 0) return ((i + 1) * 10) / 1000;
    }
    return NaN;
  };
  return { rps: trips / elapsed, trips, errors, opened: sockets.length, firstError, p50Ms: pct(50), p99Ms: pct(99) };
}

async function idle(ports, count) {
  const started = Date.now();
  const { sockets, failed, firstError } = await openMany(ports, count);
  let closed = 0;
  for (const { socket } of sockets) {
    socket.on('close', () => closed++);
    socket.on('error', () => {});
  }
  process.stdout.write(`${JSON.stringify({ opened: sockets.length, failed, firstError, openMs: Date.now() - started })}\n`);
  process.on('SIGTERM', () => {
    for (const { socket } of sockets) socket.destroy();
    process.exit(0);
  });
  // Bounded: the orchestrator stops us long before this.
  await sleep(10 * 60_000);
  process.stderr.write(`idle holder gave up waiting (closed by peers: ${closed})\n`);
  process.exit(1);
}

const [mode, portList, n, seconds] = process.argv.slice(2);
const ports = portList.split(',').map(Number);
if (mode === 'echo') {
  process.stdout.write(`${JSON.stringify(await echo(ports, Number(n), Number(seconds)))}\n`);
  process.exit(0);
} else if (mode === 'idle') {
  await idle(ports, Number(n));
} else {
  process.stderr.write('usage: ws-client.mjs echo|idle PORTS N [SECONDS]\n');
  process.exit(2);
}
