/** @module test/alerts/email-channel: email alerts against a real SMTP server on loopback. */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { describe, it } from 'node:test';
import { AlertManager, createAlertChannels, EmailChannel, parseEmailSettings, type AlertEvent } from '../../src/alerts/index.js';
import { captureLogger, startSmtp, TEST_TIMEOUT } from './helpers.js';

const opts = { timeout: TEST_TIMEOUT };

function down(owner?: string): AlertEvent {
  return {
    kind: 'down',
    backend: { id: 'api-1', url: 'http://10.0.0.11:5000', owner },
    at: new Date('2024-05-01T12:00:00.000Z'),
    reason: 'connect ECONNREFUSED',
  };
}

describe('EmailChannel', () => {
  it('mails a down alert to the owner and the extra recipients', opts, async (t) => {
    const smtp = await startSmtp();
    const alerts = new AlertManager({
      channels: createAlertChannels({
        email: { host: '127.0.0.1', port: smtp.port, secure: false, from: 'keyway@example.com', to: 'ops@example.com' },
      }),
      holdMs: 0,
    });
    t.after(() => Promise.all([alerts.close(), smtp.close()]));

    const sent = once(alerts, 'sent');
    alerts.notify(down('owner@example.com'));
    const [delivery] = await sent;

    assert.equal(delivery.channel, 'email');
    assert.equal(delivery.attempts, 1);
    assert.equal(smtp.mails.length, 1);
    const mail = smtp.mails[0]!;
    assert.equal(mail.mailFrom, 'keyway@example.com');
    assert.deepEqual(mail.rcptTo.sort(), ['ops@example.com', 'owner@example.com']);
    assert.match(mail.raw, /^Subject: \[keyway\] backend api-1 DOWN\r?$/m);
    assert.match(mail.raw, /http:\/\/10\.0\.0\.11:5000/);
    assert.match(mail.raw, /2024-05-01T12:00:00\.000Z/);
    assert.match(mail.raw, /ECONNREFUSED/);
  });

  it("logs in with auth.user/auth.pass, sends from auth.user (smart-stick's default), never logs them", opts, async (t) => {
    const smtp = await startSmtp((user, pass) => user === 'alerts@example.com' && pass === 's3cret-app-pass');
    const logger = captureLogger();
    const email = { host: '127.0.0.1', port: smtp.port, auth: { user: 'alerts@example.com', pass: 's3cret-app-pass' } };
    const alerts = new AlertManager({ channels: createAlertChannels({ email, logger }), holdMs: 0, logger });
    t.after(() => Promise.all([alerts.close(), smtp.close()]));

    const sent = once(alerts, 'sent');
    alerts.notify(down('owner@example.com'));
    await sent;

    assert.deepEqual(smtp.auths, [{ username: 'alerts@example.com', password: 's3cret-app-pass' }]);
    assert.equal(smtp.mails[0]?.user, 'alerts@example.com');
    assert.equal(smtp.mails[0]?.mailFrom, 'alerts@example.com');
    assert.ok(logger.entries.length > 0);
    assert.doesNotMatch(JSON.stringify(logger.entries), /s3cret-app-pass/);
  });

  it('a rejected login fails at once (5xx is permanent), with no credential in the error or the logs', opts, async (t) => {
    const smtp = await startSmtp(() => false);
    const logger = captureLogger();
    const email = { host: '127.0.0.1', port: smtp.port, from: 'k@example.com', auth: { user: 'someone', pass: 'wrong-pass-123' } };
    const alerts = new AlertManager({ channels: createAlertChannels({ email, logger }), holdMs: 0, logger, retry: { baseDelayMs: 1 } });
    t.after(() => Promise.all([alerts.close(), smtp.close()]));

    const failed = once(alerts, 'failed');
    alerts.notify(down('owner@example.com'));
    const [delivery] = await failed;

    assert.equal(delivery.attempts, 1);
    assert.match(delivery.error.message, /^email alert not sent: EAUTH/);
    assert.doesNotMatch(delivery.error.message, /wrong-pass-123|someone/);
    const errors = logger.entries.filter((e) => e.level === 'error');
    assert.equal(errors.length, 1);
    assert.doesNotMatch(JSON.stringify(logger.entries), /wrong-pass-123/);
    assert.equal(smtp.mails.length, 0);
  });

  it('skips silently (debug) when the backend has no owner and no extra recipient', opts, async (t) => {
    const smtp = await startSmtp();
    const logger = captureLogger();
    const channel = new EmailChannel({ transport: { host: '127.0.0.1', port: smtp.port }, from: 'k@example.com', logger });
    t.after(() => Promise.all([channel.close(), smtp.close()]));

    await channel.send(down());

    assert.equal(smtp.mails.length, 0);
    assert.deepEqual(
      logger.entries.map((e) => [e.level, e.obj.component]),
      [['debug', 'alerts:email']],
    );
  });

  it('close() is idempotent and later sends fail without retry', opts, async () => {
    const channel = new EmailChannel({ transport: { host: '127.0.0.1', port: 9 }, from: 'k@example.com' });
    await channel.close();
    await channel.close();
    await assert.rejects(channel.send(down('o@example.com')), { code: 'KW_ERR_ALERT_DELIVERY', retryable: false });
  });
});

describe('parseEmailSettings', () => {
  it("accepts smart-stick's block unchanged: nodemailer service + auth, from = auth.user", () => {
    const block = { service: 'gmail', auth: { user: 'sender@gmail.com', pass: 'app password' } };
    assert.deepEqual(parseEmailSettings(block), {
      transport: { service: 'gmail', auth: { user: 'sender@gmail.com', pass: 'app password' } },
      from: 'sender@gmail.com',
      to: [],
      subjectPrefix: undefined,
    });
  });

  it('passes other nodemailer options through and reads from/to/subjectPrefix', () => {
    const parsed = parseEmailSettings({
      host: 'smtp.example.com',
      port: 465,
      secure: true,
      from: 'keyway <k@example.com>',
      to: ['a@example.com', 'b@example.com'],
      subjectPrefix: '[prod]',
    });
    assert.deepEqual(parsed, {
      transport: { host: 'smtp.example.com', port: 465, secure: true },
      from: 'keyway <k@example.com>',
      to: ['a@example.com', 'b@example.com'],
      subjectPrefix: '[prod]',
    });
  });

  it('enabled: false turns email off', () => {
    assert.equal(parseEmailSettings({ enabled: false }), undefined);
    assert.deepEqual(createAlertChannels({ email: { enabled: false, service: 'gmail' } }), []);
  });

  it('rejects unusable blocks, naming the field and never quoting a value', () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ auth: { user: 'u@example.com', pass: 'hunter2hunter2' } }, /^email\.service: /],
      [{ service: 'gmail', auth: { pass: 'hunter2hunter2' } }, /^email\.from: /],
      [{ service: 'gmail', from: 'k@example.com', to: [1] }, /^email\.to: /],
      [{ service: 'gmail', from: 'k@example.com', enabled: 'yes' }, /^email\.enabled: /],
      [{ service: 'gmail', from: 'k@example.com', auth: 'hunter2hunter2' }, /^email\.auth: /],
    ];
    for (const [block, message] of cases) {
      assert.throws(
        () => parseEmailSettings(block),
        (err: Error & { code?: string }) => {
          assert.equal(err.code, 'KW_ERR_ALERT_CONFIG');
          assert.match(err.message, message);
          assert.doesNotMatch(err.message, /hunter2/);
          return true;
        },
      );
    }
  });
});
