/** keyway's `secret`: signed messages between instances that share it; forged ones dropped and counted. */
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, test } from 'node:test';
import { RedisClusterAdapter, type ClusterActionRequest } from '../../../src/singleton/fluxstack/index.js';
import { randomPrefix } from '../../helpers/redis.js';
import { adapterRig } from './rig.js';
import { until, within } from '../../helpers/wait.js';

const SECRET = 'cluster-secret';
const rig = adapterRig();


async function open(prefix: string, secret: string): Promise<RedisClusterAdapter> {
  const redis = rig.client();
  const adapter = new RedisClusterAdapter({ redis, prefix, secret, heartbeatInterval: 60_000 });
  rig.track(adapter);
  await adapter.start();
  return adapter;
}

function request(source: string, target: string, requestId: string): ClusterActionRequest {
  return { requestId, componentName: 'Counter', componentId: 'c', action: 'reset', payload: {}, sourceInstanceId: source, targetInstanceId: target };
}

describe('secret', () => {
  test('two adapters with the same secret forward actions and deltas', async () => {
    const prefix = `${randomPrefix('fx-secret')}:`;
    const a = await open(prefix, SECRET);
    const b = await open(prefix, SECRET);
    b.onActionForward(async (req) => ({ success: true, result: 'done', requestId: req.requestId }));
    const deltas: unknown[] = [];
    b.onDelta((_id, _name, delta) => deltas.push(delta));
    const response = await within(a.forwardAction(request(a.instanceId, b.instanceId, 'r1')), 3000, 'the response');
    assert.deepEqual(response, { success: true, result: 'done', requestId: 'r1' });
    await a.publishDelta('c', 'Counter', { v: 1 });
    await until(() => deltas.length === 1, 3000, 'the delta');
    assert.deepEqual(deltas, [{ v: 1 }]);
    assert.equal(b.stats.forgedMessages + a.stats.forgedMessages, 0);
  });

  test('forged messages are dropped and counted: unsigned, badly signed, signed for another channel, other secret', async () => {
    const prefix = `${randomPrefix('fx-secret')}:`;
    const b = await open(prefix, SECRET);
    const intruder = await open(prefix, 'another-secret');
    let handled = 0;
    b.onActionForward(async (req) => {
      handled++;
      return { success: true, requestId: req.requestId };
    });
    let deltas = 0;
    b.onDelta(() => deltas++);
    const channel = `${prefix}actions:${b.instanceId}`;
    const json = JSON.stringify({ type: 'action_request', origin: 'evil', request: request('evil', b.instanceId, 'r-evil') });
    await rig.raw.publish(channel, json);
    await rig.raw.publish(channel, `kw1.${'A'.repeat(22)}.${json}`);
    const macForDelta = createHmac('sha256', SECRET).update(`${prefix}delta`).update('\n').update(json).digest('base64url').slice(0, 22);
    await rig.raw.publish(channel, `kw1.${macForDelta}.${json}`);
    await intruder.publishDelta('c', 'Counter', { v: 1 });
    await until(() => b.stats.forgedMessages === 4, 3000, () => `4 forged messages, counted ${b.stats.forgedMessages}`);
    assert.equal(handled, 0);
    assert.equal(deltas, 0);
    // The genuine MAC for this channel is accepted: the check is the MAC, not the publisher.
    const mac = createHmac('sha256', SECRET).update(channel).update('\n').update(json).digest('base64url').slice(0, 22);
    await rig.raw.publish(channel, `kw1.${mac}.${json}`);
    await until(() => handled === 1, 10_000, 'the signed request');
  });
});
