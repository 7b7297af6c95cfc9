/** @module test/alerts/webhook-channel: webhook alerts and the manager's retries against a real HTTP receiver. */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { describe, it } from 'node:test';
import { AlertManager, WebhookChannel, type AlertEvent } from '../../src/alerts/index.js';
import { captureLogger, reply, startReceiver, TEST_TIMEOUT } from './helpers.js';

const opts = { timeout: TEST_TIMEOUT };

const event: AlertEvent = {
  kind: 'down',
  backend: { id: 7, url: 'http://admin:pw@10.0.0.7:3000/app', owner: 'o@example.com' },
  at: new Date('2024-05-01T12:00:00.000Z'),
  reason: 'status 503',
};

describe('WebhookChannel', () => {
  it('json: POSTs keyway\'s payload with the configured headers, without URL credentials', opts, async (t) => {
    const receiver = await startReceiver(reply(204));
    const channel = new WebhookChannel({ url: `${receiver.url}/hook`, format: 'json', headers: { authorization: 'Bearer tok' } });
    t.after(() => Promise.all([channel.close(), receiver.close()]));

    await channel.send(event);
    await channel.send({ kind: 'up', backend: { id: 'b', url: 'http://b:1' }, at: new Date(0) });

    const [first, second] = receiver.requests;
    assert.equal(first?.method, 'POST');
    assert.equal(first.url, '/hook');
    assert.equal(first.headers['content-type'], 'application/json');
    assert.equal(first.headers.authorization, 'Bearer tok');
    assert.deepEqual(JSON.parse(first.body), {
      event: 'backend.down',
      backend: { id: 7, url: 'http://10.0.0.7:3000/app' },
      at: '2024-05-01T12:00:00.000Z',
      reason: 'status 503',
    });
    assert.deepEqual(JSON.parse(second!.body), {
      event: 'backend.up',
      backend: { id: 'b', url: 'http://b:1' },
      at: '1970-01-01T00:00:00.000Z',
      reason: null,
    });
    assert.equal(channel.name, `webhook:${new URL(receiver.url).host}`);
  });

  it('slack: POSTs an incoming-webhook { text } message', opts, async (t) => {
    const receiver = await startReceiver(reply(200));
    const channel = new WebhookChannel({ url: receiver.url, format: 'slack' });
    t.after(() => Promise.all([channel.close(), receiver.close()]));

    await channel.send(event);

    const body = JSON.parse(receiver.requests[0]!.body) as Record<string, unknown>;
    assert.deepEqual(Object.keys(body), ['text']);
    assert.equal(
      body.text,
      ':red_circle: [keyway] backend 7 DOWN: http://10.0.0.7:3000/app at 2024-05-01T12:00:00.000Z (status 503)',
    );
  });

  it('rejects bad options at construction', () => {
    assert.throws(() => new WebhookChannel({ url: 'not a url' }), { code: 'KW_ERR_ALERT_CONFIG' });
    assert.throws(() => new WebhookChannel({ url: 'ftp://x/' }), { code: 'KW_ERR_ALERT_CONFIG' });
    assert.throws(() => new WebhookChannel({ url: 'http://x/', format: 'xml' as 'json' }), { code: 'KW_ERR_ALERT_CONFIG' });
    assert.throws(() => new WebhookChannel({ url: 'http://x/', timeoutMs: 0 }), { code: 'KW_ERR_ALERT_CONFIG' });
  });

  it('a hanging receiver fails the send after timeoutMs', opts, async (t) => {
    const receiver = await startReceiver(() => {});
    const channel = new WebhookChannel({ url: receiver.url, timeoutMs: 150 });
    t.after(() => Promise.all([channel.close(), receiver.close()]));

    const started = performance.now();
    await assert.rejects(channel.send(event), { code: 'KW_ERR_ALERT_DELIVERY', message: /timed out after 150 ms/ });
    const elapsed = performance.now() - started;
    assert.ok(elapsed >= 140 && elapsed < 2000, `took ${elapsed} ms`);
  });
});

describe('AlertManager retries (webhook)', () => {
  it('a receiver that fails twice with 500 is retried and finally delivered', opts, async (t) => {
    const receiver = await startReceiver((res, i) => reply(i < 2 ? 500 : 200)(res));
    const logger = captureLogger();
    const alerts = new AlertManager({
      channels: [new WebhookChannel({ url: `${receiver.url}/services/T0/B0/SECRETPATH` })],
      holdMs: 0,
      retry: { attempts: 5, baseDelayMs: 20, maxDelayMs: 100 },
      logger,
    });
    t.after(() => Promise.all([alerts.close(), receiver.close()]));

    const sent = once(alerts, 'sent');
    alerts.notify(event);
    const [delivery] = await sent;

    assert.equal(delivery.attempts, 3);
    assert.equal(receiver.requests.length, 3);
    const warns = logger.entries.filter((e) => e.level === 'warn');
    assert.equal(warns.length, 2);
    assert.match(String(warns[0]?.obj.err), /answered 500/);
    assert.equal(warns[0]?.obj.component, 'alerts');
    assert.equal(logger.entries.filter((e) => e.level === 'error').length, 0);
    assert.doesNotMatch(JSON.stringify(logger.entries), /SECRETPATH/);
  });

  it('a receiver that never succeeds is given up after `attempts`, with one error log', opts, async (t) => {
    const receiver = await startReceiver(reply(503));
    const logger = captureLogger();
    const alerts = new AlertManager({
      channels: [new WebhookChannel({ url: receiver.url })],
      holdMs: 0,
      retry: { attempts: 3, baseDelayMs: 10, maxDelayMs: 50 },
      logger,
    });
    t.after(() => Promise.all([alerts.close(), receiver.close()]));
    let sent = 0;
    alerts.on('sent', () => sent++);

    const failed = once(alerts, 'failed');
    alerts.notify(event);
    const [delivery] = await failed;

    assert.equal(delivery.attempts, 3);
    assert.match(delivery.error.message, /answered 503/);
    assert.equal(receiver.requests.length, 3);
    assert.equal(sent, 0);
    const errors = logger.entries.filter((e) => e.level === 'error');
    assert.equal(errors.length, 1);
    assert.match(errors[0]?.msg ?? '', /out of attempts/);
    assert.equal(logger.entries.filter((e) => e.level === 'warn').length, 2);
    await new Promise((resolve) => setImmediate(resolve)); // 'failed' is emitted just before the send settles
    assert.equal(alerts.inflight, 0);
  });

  it('a 4xx answer (other than 408/429) is not retried', opts, async (t) => {
    const receiver = await startReceiver(reply(404));
    const alerts = new AlertManager({ channels: [new WebhookChannel({ url: receiver.url })], holdMs: 0, retry: { baseDelayMs: 1 } });
    t.after(() => Promise.all([alerts.close(), receiver.close()]));

    const failed = once(alerts, 'failed');
    alerts.notify(event);
    const [delivery] = await failed;

    assert.equal(delivery.attempts, 1);
    assert.equal(receiver.requests.length, 1);
  });

  it('each channel retries on its own: one failing channel does not hold back another', opts, async (t) => {
    const good = await startReceiver(reply(200));
    const bad = await startReceiver(reply(500));
    const alerts = new AlertManager({
      channels: [new WebhookChannel({ url: bad.url, name: 'bad' }), new WebhookChannel({ url: good.url, name: 'good' })],
      holdMs: 0,
      retry: { attempts: 2, baseDelayMs: 10 },
    });
    t.after(() => Promise.all([alerts.close(), good.close(), bad.close()]));

    const sent = once(alerts, 'sent');
    const failed = once(alerts, 'failed');
    alerts.notify(event);

    assert.equal((await sent)[0].channel, 'good');
    assert.equal((await failed)[0].channel, 'bad');
  });
});
