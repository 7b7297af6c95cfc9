/**
 * @module bench/backends/node-backend: the Node backend. `node node-backend.mjs PORT` answers every HTTP request with
 * a 12-byte body and echoes every WebSocket message (any path). Keep-alive is held for a minute so that the
 * proxies' upstream pools stay warm between runs. Imported, it starts backends pinned to the load CPU.
 */
import http from 'node:http';
import { fileURLToPath } from 'node:url';
import { WebSocketServer } from 'ws';
import { isMain } from '../lib/peer-kit.mjs';
import { LOAD_CPU, startPinned, waitForPort } from '../lib/procs.mjs';

/** Starts one backend process per port, pinned to the load CPU. */
export async function startNodeBackends(ports) {
  const file = fileURLToPath(import.meta.url);
  const children = ports.map((port) => startPinned(LOAD_CPU, process.execPath, [file, String(port)]));
  await Promise.all(ports.map((port, i) => waitForPort(port, { child: children[i] })));
  return children;
}

function serve(port) {
  const body = Buffer.from('hello world\n');
  const headers = { 'content-type': 'text/plain', 'content-length': String(body.length) };
  const server = http.createServer((_req, res) => {
    res.writeHead(200, headers);
    res.end(body);
  });
  server.keepAliveTimeout = 60_000;
  server.headersTimeout = 65_000;
  server.requestTimeout = 0;
  const wss = new WebSocketServer({ server, perMessageDeflate: false, clientTracking: false });
  wss.on('connection', (ws) => {
    ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
    ws.on('error', () => ws.terminate());
  });
  server.listen(port, '127.0.0.1');
  process.on('SIGTERM', () => process.exit(0));
}

if (isMain(import.meta.url)) serve(Number(process.argv[2]));
