/** @module test/alerts/alert-manager: notify() never blocks, close() is prompt and leaves nothing behind. */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { describe, it } from 'node:test';
import { AlertManager, retryDelayMs, WebhookChannel, type AlertChannel, type AlertEvent } from '../../src/alerts/index.js';
import { captureLogger, startReceiver, trackTimers, TEST_TIMEOUT } from './helpers.js';

const opts = { timeout: TEST_TIMEOUT };

const down: AlertEvent = { kind: 'down', backend: { id: 'x', url: 'http://x.test:1' }, at: new Date() };

describe('AlertManager', () => {
  it('notify() returns synchronously while the channel hangs; close() resolves promptly and leaves no timers', opts, async (t) => {
    const receiver = await startReceiver(() => {}); // never answers
    t.after(() => receiver.close());
    const timers = trackTimers();
    t.after(() => timers.stop());
    const logger = captureLogger();
    const alerts = new AlertManager({
      channels: [new WebhookChannel({ url: receiver.url, timeoutMs: 60_000 })],
      holdMs: 0,
      closeTimeoutMs: 200,
      logger,
    });

    const requested = new Promise<void>((resolve) => {
      const poll = setInterval(() => receiver.requests.length > 0 && (clearInterval(poll), resolve()), 5);
    });
    // Both sends are still in flight when notify() has returned: it did not wait for the hanging receiver.
    assert.equal(alerts.notify(down), undefined);
    alerts.notify({ ...down, backend: { ...down.backend, id: 'y' } });
    assert.equal(alerts.inflight, 2);
    await requested;
    assert.ok(timers.live() > 0, 'the tracker sees the sends\' timeout timers');

    const failed = once(alerts, 'failed');
    // close() must resolve although the receiver never answers (the test's own timeout bounds it).
    await alerts.close();
    const [delivery] = await failed;
    assert.match(delivery.error.message, /aborted/);
    assert.equal(alerts.inflight, 0);
    assert.equal(alerts.pending, 0);
    assert.ok(logger.entries.some((e) => e.level === 'error' && /shutting down/.test(e.msg ?? '')));

    await new Promise((resolve) => setImmediate(resolve)); // destroy hooks run on the next turn
    assert.equal(timers.live(), 0, 'a timer outlived close()');
    await alerts.close(); // idempotent
  });

  it('close() cuts a retry wait short and cancels pending holds', opts, async () => {
    let calls = 0;
    const flaky: AlertChannel = {
      name: 'flaky',
      send: async () => {
        calls++;
        throw new Error('nope');
      },
      close: async () => {},
    };
    const alerts = new AlertManager({ channels: [flaky], holdMs: 0, retry: { baseDelayMs: 60_000 } });
    const warned = new Promise<void>((resolve) => {
      const poll = setInterval(() => calls > 0 && (clearInterval(poll), resolve()), 5);
    });
    alerts.notify(down);
    await warned;
    const held = new AlertManager({ channels: [flaky], holdMs: 60_000 });
    held.notify(down);
    assert.equal(held.pending, 1);

    await Promise.all([alerts.close(), held.close()]);
    assert.equal(calls, 1, 'no retry after close()');
    assert.equal(held.pending, 0);
    held.notify(down); // ignored after close
    assert.equal(held.pending, 0);
  });

  it('never throws from notify(), even when a channel throws synchronously or a listener throws', opts, async () => {
    const logger = captureLogger();
    const sync: AlertChannel = {
      name: 'sync',
      send: () => {
        throw new Error('sync boom');
      },
      close: async () => {},
    };
    const alerts = new AlertManager({ channels: [sync], holdMs: 0, retry: { attempts: 1 }, logger });
    alerts.on('alert', () => {
      throw new Error('listener boom');
    });
    assert.doesNotThrow(() => alerts.notify(down));
    await alerts.close();
    assert.ok(logger.entries.some((e) => e.level === 'error' && e.obj.err === 'listener boom'));
  });

  it('closes its channels', opts, async () => {
    let closed = 0;
    const channel: AlertChannel = { name: 'c', send: async () => {}, close: async () => void closed++ };
    const alerts = new AlertManager({ channels: [channel] });
    await alerts.close();
    await alerts.close();
    assert.equal(closed, 1);
  });

  it('validates its options', () => {
    assert.throws(() => new AlertManager({ channels: [], retry: { attempts: 0 } }), RangeError);
    assert.throws(() => new AlertManager({ channels: [], retry: { baseDelayMs: -1 } }), RangeError);
    assert.throws(() => new AlertManager({ channels: [], holdMs: Number.NaN }), RangeError);
  });
});

describe('retryDelayMs', () => {
  it('doubles from baseDelayMs, caps at maxDelayMs, and jitters within [half, full]', () => {
    assert.deepEqual([1, 2, 3, 4].map((n) => retryDelayMs(n, 1000, 30_000, () => 0.999999)), [1000, 2000, 4000, 8000]);
    assert.deepEqual([1, 2, 3].map((n) => retryDelayMs(n, 1000, 30_000, () => 0)), [500, 1000, 2000]);
    assert.equal(retryDelayMs(10, 1000, 30_000, () => 0.999999), 30_000);
    assert.equal(retryDelayMs(10, 1000, 30_000, () => 0), 15_000);
  });
});
