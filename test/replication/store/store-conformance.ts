/**
 * The one conformance suite every `GatewayStore` passes (memory and Redis, standalone and Cluster). The
 * factory gives stores that share state with each other and with nothing else (same backend or prefix).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { StoreUnavailableError } from '../../../src/errors.js';
import type { GatewayStore, Register, StoreEvent, Verdict } from '../../../src/replication/store/index.js';

/** Makes `count` unstarted stores sharing one fresh state. */
export type StoreFactory = (count: number) => Promise<GatewayStore[]>;

const LONG_TTL = 60_000;
const SHORT_TTL = 250;

/** Buffers a store's events; `next()` waits (bounded) for the next one. */
export class EventQueue {
  readonly #events: StoreEvent[] = [];
  #wake: (() => void) | undefined;
  constructor(store: GatewayStore) {
    store.on('event', (event) => {
      this.#events.push(event);
      this.#wake?.();
    });
  }
  async next(timeoutMs = 3000): Promise<StoreEvent> {
    const deadline = Date.now() + timeoutMs;
    while (this.#events.length === 0) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no store event within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.#wake = undefined;
    }
    return this.#events.shift()!;
  }
  get pending(): number {
    return this.#events.length;
  }
}

/** Polls `cond` until it holds (for expiry, which has no event); bounded. */
async function eventually(cond: () => Promise<boolean>, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

const verdict = (over: Partial<Verdict> = {}): Verdict => ({
  backendId: 'api-1',
  replicaId: 'replica-a',
  up: true,
  sinceMs: 1_700_000_000_000,
  ...over,
});
const register = (over: Partial<Register> = {}): Register => ({
  id: 'api-1',
  value: '{"state":"draining"}',
  atMs: 1_700_000_000_000,
  by: 'replica-a',
  ...over,
});

/** Registers the suite under `describe(name)`. */
export function storeConformance(name: string, factory: StoreFactory): void {
  /** Started stores, closed after the test whatever happens. */
  async function withStores(count: number, body: (stores: GatewayStore[]) => Promise<void>): Promise<void> {
    const stores = await factory(count);
    try {
      await Promise.all(stores.map((s) => s.start()));
      await body(stores);
    } finally {
      await Promise.all(stores.map((s) => s.close()));
    }
  }

  describe(`GatewayStore conformance: ${name}`, () => {
    it('starts available, emitting up', async () => {
      const [store] = await factory(1);
      try {
        let ups = 0;
        store!.on('up', () => ups++);
        await store!.start();
        assert.equal(store!.available, true);
        assert.equal(ups, 1);
        await store!.start(); // idempotent
        assert.equal(ups, 1);
        assert.deepEqual(await store!.read(), { verdicts: [], admin: [], backend: [] });
      } finally {
        await store!.close();
      }
    });

    it("two stores see each other's writes and events", async () => {
      await withStores(2, async ([a, b]) => {
        const seenByB = new EventQueue(b!);
        const seenByA = new EventQueue(a!);
        assert.equal(await a!.putVerdict(verdict(), LONG_TTL), true);
        assert.deepEqual(await seenByB.next(), { type: 'verdict', from: 'replica-a', verdict: verdict() });
        assert.equal((await seenByA.next()).type, 'verdict', 'the writer sees its own event too');
        assert.equal(await b!.putRegister('admin', register({ by: 'replica-b' }), LONG_TTL), true);
        const event = await seenByA.next();
        assert.equal(event.type, 'register');
        assert.equal(event.type === 'register' && event.kind, 'admin');
        assert.deepEqual(event.type === 'register' && event.register, register({ by: 'replica-b' }));
        for (const store of [a!, b!]) {
          assert.deepEqual(await store.read(), { verdicts: [verdict()], admin: [register({ by: 'replica-b' })], backend: [] });
        }
      });
    });

    it('putVerdict publishes only when up or sinceMs changes', async () => {
      await withStores(2, async ([a, b]) => {
        const events = new EventQueue(b!);
        assert.equal(await a!.putVerdict(verdict(), LONG_TTL), true);
        assert.equal(await a!.putVerdict(verdict(), LONG_TTL), false, 'a refresh publishes nothing');
        assert.equal(await a!.putVerdict(verdict({ up: false }), LONG_TTL), true);
        assert.equal(await a!.putVerdict(verdict({ up: false, sinceMs: 1_700_000_000_500 }), LONG_TTL), true);
        assert.equal(await a!.putVerdict(verdict({ replicaId: 'replica-b' }), LONG_TTL), true, 'another replica');
        const seen = [];
        for (let i = 0; i < 4; i++) seen.push(await events.next());
        // Events on one channel arrive in order, so a refresh that published would show up here.
        assert.deepEqual(
          seen.map((e) => e.type === 'verdict' && [e.verdict.replicaId, e.verdict.up, e.verdict.sinceMs]),
          [['replica-a', true, 1_700_000_000_000], ['replica-a', false, 1_700_000_000_000],
            ['replica-a', false, 1_700_000_000_500], ['replica-b', true, 1_700_000_000_000]],
        );
        const { verdicts } = await b!.read();
        assert.equal(verdicts.length, 2);
      });
    });

    it('a verdict expires unless refreshed, and read() skips it', async () => {
      await withStores(2, async ([a, b]) => {
        await a!.putVerdict(verdict({ backendId: 'short' }), SHORT_TTL);
        await a!.putVerdict(verdict({ backendId: 'long' }), LONG_TTL);
        assert.equal((await b!.read()).verdicts.length, 2);
        await eventually(async () => (await b!.read()).verdicts.length === 1);
        assert.deepEqual((await b!.read()).verdicts, [verdict({ backendId: 'long' })]);
        assert.equal(await a!.putVerdict(verdict({ backendId: 'short' }), SHORT_TTL), true, 'an expired verdict counts as absent');
      });
    });

    it('registers are last-writer-wins by (atMs, by), publishing only applied writes', async () => {
      await withStores(2, async ([a, b]) => {
        const events = new EventQueue(b!);
        const at = 1_700_000_000_000;
        assert.equal(await a!.putRegister('backend', register({ atMs: at, by: 'm', value: 'v1' }), LONG_TTL), true);
        assert.equal(await b!.putRegister('backend', register({ atMs: at - 1, by: 'z', value: 'old' }), LONG_TTL), false);
        assert.equal(await b!.putRegister('backend', register({ atMs: at, by: 'a', value: 'tie-lost' }), LONG_TTL), false);
        assert.equal(await b!.putRegister('backend', register({ atMs: at, by: 'm', value: 'v1' }), LONG_TTL), false, 'the same write again');
        assert.equal(await b!.putRegister('backend', register({ atMs: at, by: 'n', value: 'tie-won' }), LONG_TTL), true);
        assert.equal(await a!.putRegister('backend', register({ atMs: at + 1, by: 'a', value: 'newest' }), LONG_TTL), true);
        const values = [];
        for (let i = 0; i < 3; i++) {
          const e = await events.next();
          values.push(e.type === 'register' && [e.kind, e.register.value]);
        }
        assert.deepEqual(values, [['backend', 'v1'], ['backend', 'tie-won'], ['backend', 'newest']]);
        assert.deepEqual((await a!.read()).backend, [register({ atMs: at + 1, by: 'a', value: 'newest' })]);
        assert.deepEqual((await a!.read()).admin, [], 'kinds are separate');
      });
    });

    it('breaks atMs ties by the byte order of by, whatever the locale', async () => {
      await withStores(1, async ([a]) => {
        // Byte order: 'Z' (0x5a) < 'a' (0x61); U+FFFF (EF BF BF) < U+1F600 (F0 9F 98 80), unlike UTF-16 order.
        assert.equal(await a!.putRegister('admin', register({ id: 'x', by: 'a' }), LONG_TTL), true);
        assert.equal(await a!.putRegister('admin', register({ id: 'x', by: 'Z' }), LONG_TTL), false);
        assert.equal(await a!.putRegister('admin', register({ id: 'y', by: '\uffff' }), LONG_TTL), true);
        assert.equal(await a!.putRegister('admin', register({ id: 'y', by: '\u{1f600}' }), LONG_TTL), true);
        assert.equal(await a!.putRegister('admin', register({ id: 'y', by: 'ab' }), LONG_TTL), false);
      });
    });

    it('a register expires; then any write applies again', async () => {
      await withStores(2, async ([a, b]) => {
        await a!.putRegister('admin', register({ id: 'short', atMs: 2000 }), SHORT_TTL);
        await a!.putRegister('admin', register({ id: 'long' }), LONG_TTL);
        assert.equal((await b!.read()).admin.length, 2);
        await eventually(async () => (await b!.read()).admin.length === 1);
        assert.deepEqual((await b!.read()).admin.map((r) => r.id), ['long']);
        assert.equal(await b!.putRegister('admin', register({ id: 'short', atMs: 1000 }), LONG_TTL), true);
      });
    });

    it('keeps ids, values and numbers exactly', async () => {
      await withStores(1, async ([a]) => {
        const odd = verdict({ backendId: 'b|1 "é"/\\', replicaId: 'r\u{1f600}', sinceMs: 1_700_000_000_123.5 });
        const big = verdict({ backendId: 'big', sinceMs: Number.MAX_SAFE_INTEGER });
        const reg = register({ id: 'ü / "x"', value: '{"a":[1,2,"\\u0000"]}\n', atMs: 123_456_789.25, by: 'w|1' });
        await a!.putVerdict(odd, LONG_TTL);
        await a!.putVerdict(big, LONG_TTL);
        assert.equal(await a!.putVerdict(odd, LONG_TTL), false, 'a fractional sinceMs compares exactly');
        await a!.putRegister('backend', reg, LONG_TTL);
        const state = await a!.read();
        const byId = (v: Verdict): string => v.backendId;
        assert.deepEqual([...state.verdicts].sort((x, y) => byId(x).localeCompare(byId(y))), [odd, big].sort((x, y) => byId(x).localeCompare(byId(y))));
        assert.deepEqual(state.backend, [reg]);
      });
    });

    it('refuses bad arguments', async () => {
      await withStores(1, async ([a]) => {
        await assert.rejects(a!.putVerdict(verdict(), 0), RangeError);
        await assert.rejects(a!.putVerdict(verdict({ sinceMs: Number.NaN }), LONG_TTL), TypeError);
        await assert.rejects(a!.putRegister('nope' as 'admin', register(), LONG_TTL), TypeError);
        await assert.rejects(a!.putRegister('admin', register({ id: '' }), LONG_TTL), TypeError);
      });
    });

    it('close() is idempotent and later calls reject', async () => {
      const [store] = await factory(1);
      await store!.start();
      await Promise.all([store!.close(), store!.close()]);
      await store!.close();
      assert.equal(store!.available, false);
      await assert.rejects(store!.putVerdict(verdict(), LONG_TTL), StoreUnavailableError);
      await assert.rejects(store!.read(), StoreUnavailableError);
      await assert.rejects(store!.start(), StoreUnavailableError);
    });
  });
}
