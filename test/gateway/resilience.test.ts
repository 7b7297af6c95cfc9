/**
 * Resilience of the in-process gateway: retries (policy and budget), passive outlier ejection, panic mode
 * (`whenAllDown`) and slow start, each against real backends on 127.0.0.1.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { IncomingMessage } from 'node:http';
import { startBackend, type Handler, type TestBackend } from '../helpers/backends.js';
import { startGateway, type Started } from '../helpers/gateway.js';
import { request } from '../helpers/http.js';
import { metricSum } from '../helpers/load.js';
import type { Candidate, PickContext } from '../../src/index.js';

const backends: TestBackend[] = [];
after(() => Promise.all(backends.map((b) => b.close())));

async function backend(name: string, handler?: Handler): Promise<TestBackend> {
  const b = await startBackend(name, handler);
  backends.push(b);
  return b;
}

/** A backend that reads the whole request, then resets the connection without answering. */
const resetAfterRead: Handler = (req) => {
  req.resume();
  req.on('end', () => req.socket.destroy());
};

/** Echoes the request body. */
const echo: Handler = (req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => res.end(Buffer.concat(chunks)));
};

/**
 * Always tries `first` first, then any other: makes "the first attempt fails" deterministic. A retry passes the
 * failed id in `ctx.exclude`.
 */
function firstTry(first: string) {
  return (candidates: readonly Candidate[], ctx: PickContext): Candidate | undefined =>
    candidates.find((c) => c.id === first && ctx.exclude?.has(c.id) !== true) ?? candidates.find((c) => ctx.exclude?.has(c.id) !== true);
}

/** A backend that passed the first health round, then stopped listening: connections are refused, health has not noticed. */
async function refusing(name: string): Promise<TestBackend> {
  return backend(name);
}

async function metric(gw: Started, name: string): Promise<number> {
  const m = gw.gateway.metrics;
  assert.ok(m !== null);
  return metricSum(await m.render(), name);
}

async function withGateway(config: Record<string, unknown>, body: (gw: Started) => Promise<void>): Promise<void> {
  const gw = await startGateway({ sticky: false, health: { interval: 60_000 }, ...config });
  try {
    await body(gw);
  } finally {
    await gw.close();
  }
}

// ---- retries --------------------------------------------------------------------------------------------------

test('retry: a GET whose backend refuses the connection is answered by another backend and counted', { timeout: 20_000 }, async () => {
  const [dead, good] = await Promise.all([refusing('dead'), backend('good')]);
  await withGateway(
    { strategy: firstTry('dead'), outlier: false, backends: [{ id: 'dead', url: dead.url }, { id: 'good', url: good.url }] },
    async (gw) => {
      await dead.close();
      for (let i = 0; i < 3; i++) {
        const r = await request(gw.port);
        assert.equal(r.status, 200);
        assert.equal(r.body, 'good');
      }
      assert.equal(await metric(gw, 'keyway_retries_total'), 3);
      assert.match(await gw.gateway.metrics!.render(), /keyway_retries_total\{backend="dead"\} 3/);
    },
  );
});

test('retry: a POST whose backend refuses the connection is retried and its body arrives intact', { timeout: 20_000 }, async () => {
  const [dead, good] = await Promise.all([refusing('dead'), backend('good', echo)]);
  await withGateway(
    { strategy: firstTry('dead'), outlier: false, backends: [{ id: 'dead', url: dead.url }, { id: 'good', url: good.url }] },
    async (gw) => {
      await dead.close();
      // Nothing reached the refusing backend, so the unread body can go to the next one: 256 KiB, larger than
      // any socket buffer, proves it was held back rather than buffered.
      const body = Buffer.alloc(256 * 1024, 'keyway-').toString();
      for (const payload of ['small body', body]) {
        const r = await request(gw.port, { method: 'POST', body: payload, headers: { 'content-type': 'text/plain' } });
        assert.equal(r.status, 200);
        assert.equal(r.body.length, payload.length);
        assert.equal(r.body, payload);
      }
      assert.equal(await metric(gw, 'keyway_retries_total'), 2);
    },
  );
});

test('retry policy: after the backend consumed body bytes a POST is never retried, whatever its Idempotency-Key', { timeout: 20_000 }, async () => {
  const [reset, good] = await Promise.all([backend('reset', resetAfterRead), backend('good', echo)]);
  await withGateway(
    {
      strategy: firstTry('reset'),
      outlier: false,
      retries: { idempotencyKey: true },
      backends: [{ id: 'reset', url: reset.url }, { id: 'good', url: good.url }],
    },
    async (gw) => {
      // retry-policy.ts: bytes consumed from the client cannot be sent again, so no retry (502), even with the key.
      for (const headers of [{}, { 'idempotency-key': 'k-1' }]) {
        const r = await request(gw.port, { method: 'POST', body: 'charge 10 EUR', headers });
        assert.equal(r.status, 502);
        assert.equal(JSON.parse(r.body).code, 'KW_ERR_PROXY_UPSTREAM');
      }
      assert.equal(good.hits, 0);
      assert.equal(reset.hits, 2);
      // Without a body the request can be replayed: with `idempotencyKey: true` a keyed POST is retried...
      const keyed = await request(gw.port, { method: 'POST', headers: { 'idempotency-key': 'k-2', 'content-length': '0' } });
      assert.equal(keyed.status, 200);
      assert.equal(good.hits, 1);
      // ...an un-keyed POST is not (it reached the backend, which may have acted on it)...
      const plain = await request(gw.port, { method: 'POST', headers: { 'content-length': '0' } });
      assert.equal(plain.status, 502);
      // ...and a GET (idempotent) is.
      const get = await request(gw.port);
      assert.equal(get.status, 200);
      assert.equal(good.hits, 2);
      assert.equal(await metric(gw, 'keyway_retries_total'), 2);
    },
  );
});

test('retry policy: Idempotency-Key is ignored unless retries.idempotencyKey is true', { timeout: 20_000 }, async () => {
  const [reset, good] = await Promise.all([backend('reset', resetAfterRead), backend('good')]);
  await withGateway(
    { strategy: firstTry('reset'), outlier: false, backends: [{ id: 'reset', url: reset.url }, { id: 'good', url: good.url }] },
    async (gw) => {
      const r = await request(gw.port, { method: 'POST', headers: { 'idempotency-key': 'k', 'content-length': '0' } });
      assert.equal(r.status, 502);
      assert.equal(good.hits, 0);
    },
  );
});

test('retries: false answers 502 where a retry would have succeeded', { timeout: 20_000 }, async () => {
  const [dead, good] = await Promise.all([refusing('dead'), backend('good')]);
  await withGateway(
    { strategy: firstTry('dead'), outlier: false, retries: false, backends: [{ id: 'dead', url: dead.url }, { id: 'good', url: good.url }] },
    async (gw) => {
      await dead.close();
      const r = await request(gw.port);
      assert.equal(r.status, 502);
      assert.equal(good.hits, 0);
      assert.equal(await metric(gw, 'keyway_retries_total'), 0);
    },
  );
});

test('retry budget: budgetPercent 0 and minPerSecond 0 allow no retry; each refusal is counted', { timeout: 20_000 }, async () => {
  const [dead, good] = await Promise.all([refusing('dead'), backend('good')]);
  await withGateway(
    {
      strategy: firstTry('dead'),
      outlier: false,
      retries: { budgetPercent: 0, minPerSecond: 0 },
      backends: [{ id: 'dead', url: dead.url }, { id: 'good', url: good.url }],
    },
    async (gw) => {
      await dead.close();
      for (let i = 1; i <= 3; i++) {
        assert.equal((await request(gw.port)).status, 502);
        assert.equal(await metric(gw, 'keyway_retry_budget_exhausted_total'), i);
      }
      assert.equal(good.hits, 0);
      assert.equal(await metric(gw, 'keyway_retries_total'), 0);
    },
  );
});

test('retry budget: minPerSecond is a floor that starts full and refills with time', { timeout: 20_000 }, async () => {
  const [dead, good] = await Promise.all([refusing('dead'), backend('good')]);
  await withGateway(
    {
      strategy: firstTry('dead'),
      outlier: false,
      retries: { budgetPercent: 0, minPerSecond: 1 },
      backends: [{ id: 'dead', url: dead.url }, { id: 'good', url: good.url }],
    },
    async (gw) => {
      await dead.close();
      // RetryBudget starts with one second's floor (1 token): the first retry is allowed, the next is not...
      assert.equal((await request(gw.port)).status, 200);
      assert.equal((await request(gw.port)).status, 502);
      assert.equal(await metric(gw, 'keyway_retry_budget_exhausted_total'), 1);
      // ...until a second's worth of floor has accrued.
      await new Promise((r) => setTimeout(r, 1100));
      assert.equal((await request(gw.port)).status, 200);
      assert.equal(await metric(gw, 'keyway_retries_total'), 2);
    },
  );
});

test('retry budget: budgetPercent deposits a share of a retry per request', { timeout: 20_000 }, async () => {
  const [dead, good] = await Promise.all([refusing('dead'), backend('good')]);
  await withGateway(
    {
      strategy: firstTry('dead'),
      outlier: false,
      retries: { budgetPercent: 50, minPerSecond: 0 },
      backends: [{ id: 'dead', url: dead.url }, { id: 'good', url: good.url }],
    },
    async (gw) => {
      await dead.close();
      // Each request deposits half a token; a retry spends a whole one: every second request may retry.
      const statuses: number[] = [];
      for (let i = 0; i < 6; i++) statuses.push((await request(gw.port)).status);
      assert.deepEqual(statuses, [502, 200, 502, 200, 502, 200]);
      assert.equal(await metric(gw, 'keyway_retry_budget_exhausted_total'), 3);
    },
  );
});

// ---- outlier ejection ------------------------------------------------------------------------------------------

function upstreamOf(gw: Started, id: string) {
  const u = gw.gateway.upstreams.find((x) => x.id === id);
  assert.ok(u);
  return u;
}

test('outlier: 3 resets in a row eject a backend; it gets no traffic, then returns after baseEjectionMs', { timeout: 20_000 }, async () => {
  const [bad, a, b] = await Promise.all([backend('bad', resetAfterRead), backend('a'), backend('b')]);
  await withGateway(
    {
      outlier: { consecutiveFailures: 3, baseEjectionMs: 200 },
      backends: [{ id: 'bad', url: bad.url }, { id: 'a', url: a.url }, { id: 'b', url: b.url }],
    },
    async (gw) => {
      const events: string[] = [];
      gw.gateway.on('backend:ejected', (s) => events.push(`ejected:${s.id}`));
      gw.gateway.on('backend:returned', (s) => events.push(`returned:${s.id}`));
      const ejected = once(gw.gateway, 'backend:ejected');
      for (let i = 0; i < 30 && events.length === 0; i++) {
        const r = await request(gw.port);
        assert.equal(r.status, 200, 'the retry hides the resets from clients');
      }
      const [status] = await ejected;
      const ejectedAt = Date.now();
      assert.equal(status.id, 'bad');
      assert.equal(bad.hits, 3);
      const returned = once(gw.gateway, 'backend:returned');
      const upstream = upstreamOf(gw, 'bad');
      let during = 0;
      // Only requests sent with a safe margin before the ejection ends are judged.
      while (upstream.ejectedUntil > Date.now() + 50) {
        assert.equal((await request(gw.port)).status, 200);
        during++;
      }
      assert.ok(during > 0, 'some requests ran during the ejection');
      assert.equal(bad.hits, 3, 'an ejected backend takes no traffic');
      await returned;
      assert.ok(Date.now() - ejectedAt >= 150, `returned after ${Date.now() - ejectedAt} ms`);
      for (let i = 0; i < 20 && bad.hits === 3; i++) await request(gw.port);
      assert.ok(bad.hits > 3, 'a returned backend takes traffic again');
      assert.deepEqual(events.slice(0, 2), ['ejected:bad', 'returned:bad']);
    },
  );
});

test('outlier: 5xx answers eject only with on5xx: true (and are passed to the client, not retried)', { timeout: 20_000 }, async () => {
  const fail: Handler = (req, res) => {
    req.resume();
    res.statusCode = 500;
    res.end('boom');
  };
  for (const on5xx of [false, true]) {
    const [sick, good] = await Promise.all([backend('sick', fail), backend('good')]);
    await withGateway(
      {
        strategy: firstTry('sick'),
        outlier: { consecutiveFailures: 3, baseEjectionMs: 60_000, on5xx },
        backends: [{ id: 'sick', url: sick.url }, { id: 'good', url: good.url }],
      },
      async (gw) => {
        let ejections = 0;
        gw.gateway.on('backend:ejected', () => ejections++);
        const statuses: number[] = [];
        for (let i = 0; i < 5; i++) statuses.push((await request(gw.port)).status);
        if (on5xx) {
          assert.deepEqual(statuses, [500, 500, 500, 200, 200]);
          assert.equal(ejections, 1);
        } else {
          assert.deepEqual(statuses, [500, 500, 500, 500, 500]);
          assert.equal(ejections, 0);
        }
        assert.equal(await metric(gw, 'keyway_retries_total'), 0);
      },
    );
  }
});

test('outlier: maxEjectionPercent keeps at least half of the backends serving', { timeout: 20_000 }, async () => {
  const bad = await Promise.all(['r1', 'r2', 'r3', 'r4'].map((n) => backend(n, resetAfterRead)));
  await withGateway(
    {
      retries: false,
      outlier: { consecutiveFailures: 1, baseEjectionMs: 60_000, maxEjectionPercent: 50 },
      backends: bad.map((b) => ({ id: b.name, url: b.url })),
    },
    async (gw) => {
      const ejected: unknown[] = [];
      gw.gateway.on('backend:ejected', (s) => ejected.push(s.id));
      for (let i = 0; i < 12; i++) {
        // 502, never 503: two backends always stay candidates.
        assert.equal((await request(gw.port)).status, 502);
      }
      assert.equal(ejected.length, 2);
      assert.equal(gw.gateway.upstreams.filter((u) => u.ejectedUntil > 0).length, 2);
      assert.equal(await metric(gw, 'keyway_ejections_total'), 2);
    },
  );
});

// ---- panic ------------------------------------------------------------------------------------------------------

test('whenAllDown: fail-open forwards when every backend fails its checks; the default rejects with 503', { timeout: 20_000 }, async () => {
  const sickHealth: Handler = (req: IncomingMessage, res) => {
    req.resume();
    res.statusCode = req.url === '/healthz' ? 500 : 200;
    res.end('served');
  };
  const [s1, s2] = await Promise.all([backend('s1', sickHealth), backend('s2', sickHealth)]);
  const list = [{ id: 's1', url: s1.url }, { id: 's2', url: s2.url }];
  const health = { interval: 60_000, path: '/healthz', algorithm: 'http-status' };
  await withGateway({ health, whenAllDown: 'fail-open', backends: list }, async (gw) => {
    assert.ok(gw.gateway.backends.every((b) => !b.healthy));
    assert.equal(gw.gateway.panicking, true);
    for (let i = 0; i < 4; i++) {
      const r = await request(gw.port);
      assert.equal(r.status, 200);
      assert.equal(r.body, 'served');
    }
  });
  await withGateway({ health, backends: list }, async (gw) => {
    assert.equal(gw.gateway.panicking, false);
    const r = await request(gw.port);
    assert.equal(r.status, 503);
    assert.equal(JSON.parse(r.body).code, 'KW_ERR_PROXY_NO_BACKEND');
  });
});

// ---- slow start -------------------------------------------------------------------------------------------------

/** Sends requests one after another for `ms`; returns the share answered by `name`. */
async function shareDuring(port: number, ms: number, name: string): Promise<{ share: number; n: number }> {
  const end = Date.now() + ms;
  let n = 0;
  let mine = 0;
  while (Date.now() < end) {
    const r = await request(port);
    assert.equal(r.status, 200);
    n++;
    if (r.body === name) mine++;
  }
  return { share: mine / n, n };
}

test('slow start: a backend that comes back starts with a small share of traffic that grows', { timeout: 20_000 }, async () => {
  const [a, b] = await Promise.all([backend('a'), backend('b')]);
  await withGateway(
    {
      slowStartMs: 1000,
      health: { interval: 50, rise: 1, fall: 1, timeout: 500 },
      backends: [{ id: 'a', url: a.url }, { id: 'b', url: b.url }],
    },
    async (gw) => {
      const down = once(gw.gateway, 'backend:down');
      await a.close();
      await down;
      let weightAtUp = -1;
      const up = new Promise<void>((resolve) =>
        gw.gateway.once('backend:up', () => {
          weightAtUp = upstreamOf(gw, 'a').weight;
          resolve();
        }),
      );
      await a.restart();
      await up;
      assert.ok(weightAtUp > 0 && weightAtUp < 0.5, `effective weight right after rejoining: ${weightAtUp}`);
      const listed = (await request(gw.port, { path: '/_lb/backends' })).body;
      const entry = (JSON.parse(listed) as { backends: { id: unknown; effectiveWeight: number; weight: number }[] }).backends.find(
        (x) => x.id === 'a',
      );
      assert.ok(entry !== undefined && entry.effectiveWeight < entry.weight, listed);
      const early = await shareDuring(gw.port, 200, 'a');
      // Wait for the ramp to finish (the pool refreshes weights every 100 ms), then measure again.
      const upstream = upstreamOf(gw, 'a');
      const deadline = Date.now() + 5000;
      while (upstream.weight < upstream.configuredWeight && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      assert.equal(upstream.weight, upstream.configuredWeight);
      const late = await shareDuring(gw.port, 200, 'a');
      assert.ok(early.share < late.share, `early ${JSON.stringify(early)} late ${JSON.stringify(late)}`);
      assert.ok(late.share > 0.4, `late ${JSON.stringify(late)}`);
    },
  );
});

test('an ejected backend that active checks see go down and come back up rejoins at once, not when its ejection ends', { timeout: 20_000 }, async () => {
  const [a, b] = await Promise.all([backend('a'), backend('b')]);
  await withGateway(
    {
      outlier: { consecutiveFailures: 2, baseEjectionMs: 60_000 },
      health: { interval: 50, rise: 1, fall: 1, timeout: 500 },
      backends: [{ id: 'a', url: a.url }, { id: 'b', url: b.url }],
    },
    async (gw) => {
      const events: string[] = [];
      for (const e of ['backend:ejected', 'backend:returned', 'backend:down', 'backend:up'] as const) {
        gw.gateway.on(e, (s) => events.push(`${e.slice(8)}:${s.id}`));
      }
      const ejected = once(gw.gateway, 'backend:ejected');
      const down = once(gw.gateway, 'backend:down');
      await a.close();
      // Real traffic notices first: refusals eject `a` (each request is retried on `b`).
      for (let i = 0; i < 20 && !events.includes('ejected:a'); i++) assert.equal((await request(gw.port)).status, 200);
      await ejected;
      await down;
      const up = once(gw.gateway, 'backend:up');
      await a.restart();
      await up;
      assert.equal(upstreamOf(gw, 'a').ejectedUntil, 0, 'the 60 s ejection ended when the probes passed');
      const hits = a.hits;
      for (let i = 0; i < 4; i++) assert.equal((await request(gw.port)).status, 200);
      assert.ok(a.hits > hits, 'it takes traffic again');
      assert.deepEqual(events, ['ejected:a', 'down:a', 'returned:a', 'up:a']);
    },
  );
});
