/**
 * The seed's white-box dedup test runs unchanged against the drop-in: it builds the adapter on a stub with only
 * duplicate/on/publish/set/get/del/quit, spies on `adapter.redis.publish` and calls `handleDelta` directly. Also
 * the bounds keyway adds to the seq maps. No Redis.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { RedisClusterAdapter } from '../../../src/singleton/fluxstack/index.js';

interface RawDelta {
  type: 'delta';
  origin: string;
  componentId: string;
  componentName: string;
  delta: unknown;
  seq?: number;
}

/** The members the seed's test reaches through `as any`. */
interface WhiteBox {
  redis: { publish(channel: string, raw: string): Promise<number> };
  publishDelta(componentId: string, componentName: string, delta: unknown): Promise<void>;
  deleteState(componentId: string): Promise<void>;
  onDelta(handler: (componentId: string, componentName: string, delta: unknown) => void): void;
  handleDelta(message: RawDelta): void;
}

function fakeRedis(): object {
  return {
    duplicate: () => fakeRedis(),
    on() {
      return this;
    },
    publish: () => Promise.resolve(1),
    set: () => Promise.resolve('OK'),
    get: () => Promise.resolve(null),
    del: () => Promise.resolve(1),
    quit: () => Promise.resolve('OK'),
  };
}

function makeAdapter(): WhiteBox {
  return new RedisClusterAdapter({ redis: fakeRedis() as never }) as unknown as WhiteBox;
}

function capture(adapter: WhiteBox): { seq: number; componentId: string }[] {
  const sent: { seq: number; componentId: string }[] = [];
  adapter.redis.publish = (_channel, raw) => {
    sent.push(JSON.parse(raw) as { seq: number; componentId: string });
    return Promise.resolve(1);
  };
  return sent;
}

const msg = (origin: string, componentId: string, v: number, seq?: number): RawDelta => ({
  type: 'delta',
  origin,
  componentId,
  componentName: 'C',
  delta: { v },
  ...(seq === undefined ? {} : { seq }),
});

describe("the seed's white-box dedup scenarios", () => {
  test('publishDelta stamps a per-component seq', async () => {
    const a = makeAdapter();
    const sent = capture(a);
    await a.publishDelta('c1', 'Counter', { x: 1 });
    await a.publishDelta('c1', 'Counter', { x: 2 });
    await a.publishDelta('c2', 'Other', { y: 1 });
    assert.deepEqual(sent.map((m) => m.seq), [1, 2, 1]);
  });

  test('fresh once, duplicate dropped, older dropped, per origin and component, no seq always', () => {
    const a = makeAdapter();
    const seen: string[] = [];
    a.onDelta((id, _name, delta) => seen.push(`${id}:${(delta as { v: number }).v}`));
    a.handleDelta(msg('other', 'c1', 1, 5));
    a.handleDelta(msg('other', 'c1', 1, 5));
    a.handleDelta(msg('other', 'c1', 0, 4));
    a.handleDelta(msg('B', 'c1', 2, 1));
    a.handleDelta(msg('other', 'c2', 9, 1));
    a.handleDelta(msg('o', 'c3', 7));
    a.handleDelta(msg('o', 'c3', 7));
    assert.deepEqual(seen, ['c1:1', 'c1:2', 'c2:9', 'c3:7', 'c3:7']);
  });
});

describe('bounded seq maps', () => {
  test('a component whose outgoing counter was dropped by the bound or by deleteState never repeats a seq', async () => {
    const a = makeAdapter();
    const sent = capture(a);
    for (let i = 0; i <= 10_000; i++) await a.publishDelta(`c${i}`, 'C', {}); // c0's counter falls out
    await a.publishDelta('c0', 'C', {});
    assert.ok(sent.at(-1)!.seq > 1, `c0 restarted at ${sent.at(-1)!.seq}`);
    await a.publishDelta('kept', 'C', {});
    await a.publishDelta('kept', 'C', {});
    const before = sent.at(-1)!.seq;
    await a.deleteState('kept');
    await a.publishDelta('kept', 'C', {});
    assert.ok(sent.at(-1)!.seq > before);
  });

  test('incoming seqs are remembered for at most 10,000 (origin, component) pairs', () => {
    const a = makeAdapter();
    let delivered = 0;
    a.onDelta(() => delivered++);
    a.handleDelta(msg('o', 'first', 0, 5));
    for (let i = 0; i < 10_000; i++) a.handleDelta(msg('o', `c${i}`, 0, 1));
    a.handleDelta(msg('o', 'first', 0, 5)); // forgotten, so a redelivery gets through
    assert.equal(delivered, 10_002);
  });
});
