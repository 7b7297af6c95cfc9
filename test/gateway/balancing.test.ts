import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { startBackend, type TestBackend } from '../helpers/backends.js';
import { startGateway } from '../helpers/gateway.js';
import { request } from '../helpers/http.js';
import { STRATEGY_NAMES } from '../../src/index.js';

const backends: TestBackend[] = [];
after(() => Promise.all(backends.map((b) => b.close())));

async function trio(): Promise<TestBackend[]> {
  const bs = await Promise.all(['a', 'b', 'c'].map((n) => startBackend(n)));
  backends.push(...bs);
  return bs;
}

for (const strategy of STRATEGY_NAMES) {
  test(`${strategy}: weights 3:2:1 through the gateway are honoured`, async () => {
    const [a, b, c] = await trio();
    const gw = await startGateway({
      strategy,
      sticky: false,
      hashKey: strategy === 'consistent-hash' ? 'header:x-user' : undefined,
      backends: [
        { id: 'a', url: a!.url, weight: 3 },
        { id: 'b', url: b!.url, weight: 2 },
        { id: 'c', url: c!.url, weight: 1 },
      ],
    });
    try {
      const counts: Record<string, number> = { a: 0, b: 0, c: 0 };
      const n = 600;
      for (let i = 0; i < n; i++) {
        const r = await request(gw.port, { headers: { 'x-user': `user-${i}` } });
        assert.equal(r.status, 200);
        counts[r.body]!++;
      }
      // Shares within 8 points of 50% / 33% / 17%: loose enough for random and hashing over 600 requests.
      assert.ok(Math.abs(counts.a! / n - 3 / 6) < 0.08, `a: ${JSON.stringify(counts)}`);
      assert.ok(Math.abs(counts.b! / n - 2 / 6) < 0.08, `b: ${JSON.stringify(counts)}`);
      assert.ok(Math.abs(counts.c! / n - 1 / 6) < 0.08, `c: ${JSON.stringify(counts)}`);
    } finally {
      await gw.close();
    }
  });
}

test('round-robin interleaves smoothly: 5:1:1 gives a a b a c a a', async () => {
  const [a, b, c] = await trio();
  const gw = await startGateway({
    strategy: 'round-robin',
    sticky: false,
    backends: [
      { id: 'a', url: a!.url, weight: 5 },
      { id: 'b', url: b!.url, weight: 1 },
      { id: 'c', url: c!.url, weight: 1 },
    ],
  });
  try {
    const seen: string[] = [];
    for (let i = 0; i < 14; i++) seen.push((await request(gw.port)).body);
    assert.deepEqual(seen.join(' '), 'a a b a c a a a a b a c a a');
  } finally {
    await gw.close();
  }
});

test('consistent-hash: the same key always reaches the same backend', async () => {
  const [a, b, c] = await trio();
  const gw = await startGateway({
    strategy: 'consistent-hash',
    hashKey: 'query:tenant',
    sticky: false,
    backends: [a!, b!, c!].map((x) => ({ id: x.name, url: x.url })),
  });
  try {
    for (const tenant of ['t1', 't2', 't3', 't4', 't5']) {
      const first = (await request(gw.port, { path: `/x?tenant=${tenant}` })).body;
      for (let i = 0; i < 5; i++) assert.equal((await request(gw.port, { path: `/y?tenant=${tenant}` })).body, first);
    }
  } finally {
    await gw.close();
  }
});

test('weight 0 takes no new traffic', async () => {
  const [a, b] = await trio();
  const gw = await startGateway({
    sticky: false,
    backends: [
      { id: 'a', url: a!.url, weight: 0 },
      { id: 'b', url: b!.url, weight: 1 },
    ],
  });
  try {
    for (let i = 0; i < 20; i++) assert.equal((await request(gw.port)).body, 'b');
  } finally {
    await gw.close();
  }
});

test('a custom strategy function from config picks the backend', async () => {
  const [a, b] = await trio();
  const gw = await startGateway({
    sticky: false,
    strategy: (candidates: readonly { id: string }[]) => candidates.find((x) => x.id === 'b'),
    backends: [
      { id: 'a', url: a!.url },
      { id: 'b', url: b!.url },
    ],
  });
  try {
    for (let i = 0; i < 10; i++) assert.equal((await request(gw.port)).body, 'b');
    assert.equal(gw.gateway.strategyName, 'custom');
  } finally {
    await gw.close();
  }
});
