/**
 * @module demo/demo-backend: a tiny service instance for `keyway demo`. Its page names the instance that
 * answered and offers to stop it for a while, so balancing, stickiness and failover can be watched live.
 */
import http from 'node:http';
import { once } from 'node:events';

export interface DemoBackend {
  readonly name: string;
  readonly url: string;
  readonly port: number;
  /** Stops answering (closes its port) for `ms`, then comes back on the same port. */
  stopFor(ms: number): void;
  close(): Promise<void>;
}

const COLORS = ['#2563eb', '#16a34a', '#db2777', '#ea580c', '#7c3aed'];
const STOP_MS = 20_000;

export async function startDemoBackend(name: string, index: number, host = '127.0.0.1'): Promise<DemoBackend> {
  let served = 0;
  let closed = false;
  let restartTimer: NodeJS.Timeout | undefined;
  const color = COLORS[index % COLORS.length] as string;
  const server = http.createServer((req, res) => {
    served++;
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/health') return text(res, 200, 'ok');
    if (path === '/api/whoami') return json(res, { backend: name, served });
    if (path === '/_demo/stop' && req.method === 'POST') {
      html(res, stoppingPage(name, STOP_MS));
      setTimeout(() => backend.stopFor(STOP_MS), 200).unref();
      return;
    }
    if (path === '/_demo/forget') {
      res.writeHead(303, { location: '/', 'set-cookie': 'keyway_sticky=; Path=/; Max-Age=0' });
      return res.end();
    }
    if (path === '/') return html(res, page(name, color, served, req));
    text(res, 404, 'not found');
  });
  server.listen(0, host);
  await once(server, 'listening');
  const port = (server.address() as { port: number }).port;
  const backend: DemoBackend = {
    name,
    port,
    url: `http://${host}:${port}`,
    stopFor(ms) {
      if (!server.listening || closed) return;
      server.close();
      server.closeAllConnections();
      restartTimer = setTimeout(() => {
        if (!closed) server.listen(port, host);
      }, ms);
      restartTimer.unref();
    },
    async close() {
      closed = true;
      clearTimeout(restartTimer);
      if (server.listening) {
        const done = once(server, 'close');
        server.close();
        server.closeAllConnections();
        await done;
      }
    },
  };
  return backend;
}

function text(res: http.ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'content-type': 'text/plain' });
  res.end(body);
}

function json(res: http.ServerResponse, value: unknown): void {
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify(value));
}

function html(res: http.ServerResponse, body: string): void {
  res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
  res.end(body);
}

function escape(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function page(name: string, color: string, served: number, req: http.IncomingMessage): string {
  const pinned = /keyway_sticky=/.test(req.headers.cookie ?? '');
  return `<!doctype html><html><head><meta charset="utf-8"><title>keyway demo: ${name}</title>
<style>body{font-family:system-ui,sans-serif;max-width:42rem;margin:3rem auto;padding:0 1rem;color:#111}
.badge{display:inline-block;padding:.6rem 1.2rem;border-radius:.5rem;color:#fff;background:${color};font-size:2rem;font-weight:700}
button,a.btn{font:inherit;padding:.4rem .8rem;margin:.3rem .3rem 0 0;border:1px solid #999;border-radius:.4rem;background:#f5f5f5;color:#111;text-decoration:none;cursor:pointer}
code{background:#f0f0f0;padding:0 .3rem;border-radius:.2rem}</style></head><body>
<p>This page was served by</p><p class="badge" id="backend">${escape(name)}</p>
<p>${escape(name)} has answered ${served} requests. Your browser ${pinned ? 'carries' : 'has just received'} a signed sticky cookie, so reloading keeps you on ${escape(name)}.</p>
<p><a class="btn" href="/">Reload</a>
<a class="btn" href="/_demo/forget">Forget my backend (re-balance)</a></p>
<form method="post" action="/_demo/stop"><button type="submit">Stop ${escape(name)} for ${STOP_MS / 1000} s</button></form>
<p>After a stop, the gateway's health checks mark ${escape(name)} down within a couple of seconds and your next request
moves to another backend, rewriting the cookie. When it comes back it rejoins the rotation.</p>
<p>Gateway status: <a href="/_lb/health"><code>/_lb/health</code></a> &middot; JSON: <a href="/api/whoami"><code>/api/whoami</code></a></p>
</body></html>`;
}

function stoppingPage(name: string, ms: number): string {
  return `<!doctype html><html><head><meta charset="utf-8"><meta http-equiv="refresh" content="3;url=/">
<title>stopping ${name}</title></head><body style="font-family:system-ui,sans-serif;max-width:42rem;margin:3rem auto">
<p>${escape(name)} stops now for ${ms / 1000} s. This page reloads in 3 s; the gateway will send you to another backend.</p>
</body></html>`;
}
