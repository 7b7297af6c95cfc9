/** @module test/alerts/flap-damper: one alert per state change that outlasts the hold. */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { describe, it } from 'node:test';
import { AlertManager, FlapDamper, type AlertEvent, type TimerScheduler } from '../../src/alerts/index.js';
import { sleep, startReceiver, reply, TEST_TIMEOUT } from './helpers.js';
import { WebhookChannel } from '../../src/alerts/index.js';

const opts = { timeout: TEST_TIMEOUT };

function ev(kind: AlertEvent['kind'], id: string | number = 'a', at = new Date()): AlertEvent {
  return { kind, backend: { id, url: `http://${id}.test:1` }, at };
}

/** Time that moves only when told: `advance(ms)` fires what falls due, in order. */
function manualClock(): TimerScheduler & { advance(ms: number): void; count(): number } {
  let now = 0;
  const timers = new Map<number, { at: number; fn: () => void }>();
  let next = 0;
  return {
    set(fn, ms) {
      timers.set(++next, { at: now + ms, fn });
      return next;
    },
    clear(handle) {
      timers.delete(handle as number);
    },
    advance(ms) {
      const until = now + ms;
      for (;;) {
        const due = [...timers.entries()].filter(([, t]) => t.at <= until).sort((a, b) => a[1].at - b[1].at)[0];
        if (!due) break;
        timers.delete(due[0]);
        now = due[1].at;
        due[1].fn();
      }
      now = until;
    },
    count: () => timers.size,
  };
}

function damped(holdMs = 100) {
  const clock = manualClock();
  const alerts: AlertEvent[] = [];
  const damper = new FlapDamper((e) => alerts.push(e), { holdMs, scheduler: clock });
  return { clock, alerts, damper };
}

describe('FlapDamper (manual clock)', () => {
  it('a down that lasts past the hold yields one down alert, carrying the original event', () => {
    const { clock, alerts, damper } = damped();
    const first = ev('down');
    damper.push(first);
    clock.advance(99);
    assert.equal(alerts.length, 0);
    damper.push(ev('down')); // repeats keep the first timer
    clock.advance(1);
    assert.deepEqual(alerts, [first]);
    clock.advance(1000);
    assert.equal(alerts.length, 1);
  });

  it('down -> up -> down within the hold yields exactly one down, a hold after the last down', () => {
    const { clock, alerts, damper } = damped();
    damper.push(ev('down'));
    clock.advance(30);
    damper.push(ev('up'));
    clock.advance(30);
    const last = ev('down');
    damper.push(last);
    clock.advance(99);
    assert.equal(alerts.length, 0);
    clock.advance(1);
    assert.deepEqual(alerts, [last]);
  });

  it('a blip (down then up within the hold) yields nothing', () => {
    const { clock, alerts, damper } = damped();
    damper.push(ev('down'));
    clock.advance(50);
    damper.push(ev('up'));
    clock.advance(1000);
    assert.deepEqual(alerts, []);
    assert.equal(damper.pending, 0);
    assert.equal(clock.count(), 0);
  });

  it('never alerts up for a backend whose down was never alerted', () => {
    const { clock, alerts, damper } = damped();
    damper.push(ev('up'));
    clock.advance(1000);
    damper.push(ev('down'));
    clock.advance(10);
    damper.push(ev('up'));
    clock.advance(1000);
    assert.deepEqual(alerts, []);
  });

  it('an up that lasts past the hold after an alerted down yields one up; an up blip yields nothing', () => {
    const { clock, alerts, damper } = damped();
    damper.push(ev('down'));
    clock.advance(100);
    damper.push(ev('up'));
    clock.advance(20);
    damper.push(ev('down')); // the recovery did not last: still down, nothing to say
    clock.advance(1000);
    assert.deepEqual(alerts.map((a) => a.kind), ['down']);
    damper.push(ev('up'));
    clock.advance(100);
    assert.deepEqual(alerts.map((a) => a.kind), ['down', 'up']);
  });

  it('tracks backends independently, by String(id)', () => {
    const { clock, alerts, damper } = damped();
    damper.push(ev('down', 1));
    clock.advance(50);
    damper.push(ev('down', 2));
    damper.push(ev('up', '1'));
    clock.advance(100);
    assert.deepEqual(alerts.map((a) => a.backend.id), [2]);
  });

  it('holdMs 0 alerts at once; close() cancels pending holds and ignores later pushes', () => {
    const immediate: AlertEvent[] = [];
    new FlapDamper((e) => immediate.push(e), { holdMs: 0 }).push(ev('down'));
    assert.equal(immediate.length, 1);

    const { clock, alerts, damper } = damped();
    damper.push(ev('down'));
    damper.close();
    damper.close();
    damper.push(ev('down', 'b'));
    assert.equal(clock.count(), 0);
    clock.advance(1000);
    assert.deepEqual(alerts, []);
    assert.throws(() => new FlapDamper(() => {}, { holdMs: -1 }), RangeError);
  });
});

describe('AlertManager flap damping (real timers, holdMs 100)', () => {
  it('flapping down/up/down quickly produces exactly one down alert after the hold', opts, async (t) => {
    const receiver = await startReceiver(reply(200));
    const alerts = new AlertManager({ channels: [new WebhookChannel({ url: receiver.url })], holdMs: 100 });
    t.after(() => Promise.all([alerts.close(), receiver.close()]));
    const kinds: string[] = [];
    alerts.on('alert', (e) => kinds.push(e.kind));

    const sent = once(alerts, 'sent');
    alerts.notify(ev('down'));
    alerts.notify(ev('up'));
    const lastDownAt = performance.now();
    alerts.notify(ev('down'));
    await sent;

    assert.ok(performance.now() - lastDownAt >= 95, 'not before the hold');
    // Nothing more may come: give a stray second alert more than a hold to show up.
    await sleep(250);
    assert.deepEqual(kinds, ['down']);
    assert.equal(receiver.requests.length, 1);
    assert.equal(JSON.parse(receiver.requests[0]!.body).event, 'backend.down');
  });

  it('a quick blip (down then up within the hold) produces none', opts, async (t) => {
    const receiver = await startReceiver(reply(200));
    const alerts = new AlertManager({ channels: [new WebhookChannel({ url: receiver.url })], holdMs: 100 });
    t.after(() => Promise.all([alerts.close(), receiver.close()]));
    let count = 0;
    alerts.on('alert', () => count++);

    alerts.notify(ev('down'));
    assert.equal(alerts.pending, 1);
    alerts.notify(ev('up'));
    assert.equal(alerts.pending, 0);
    await sleep(250);
    assert.equal(count, 0);
    assert.equal(receiver.requests.length, 0);
  });
});
