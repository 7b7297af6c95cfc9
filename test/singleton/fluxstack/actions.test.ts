/** Action forwarding between instances, its timeout, and what shutdown does to pending forwards. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  RedisClusterAdapter,
  type ClusterActionRequest,
  type RedisClusterAdapterOptions,
} from '../../../src/singleton/fluxstack/index.js';
import { randomPrefix } from '../../helpers/redis.js';
import { adapterRig } from './rig.js';
import { within } from '../../helpers/wait.js';

const rig = adapterRig();


async function open(prefix: string, options: Partial<RedisClusterAdapterOptions> = {}): Promise<RedisClusterAdapter> {
  const redis = rig.client();
  const adapter = new RedisClusterAdapter({ redis, prefix, heartbeatInterval: 60_000, ...options });
  rig.track(adapter);
  await adapter.start();
  return adapter;
}

function request(from: RedisClusterAdapter, target: string, requestId: string): ClusterActionRequest {
  return {
    requestId,
    componentName: 'Counter',
    componentId: 'comp-1',
    action: 'increment',
    payload: { by: 1 },
    sourceInstanceId: from.instanceId,
    targetInstanceId: target,
  };
}

const fresh = (): string => `${randomPrefix('fx-action')}:`;

describe('forwardAction / onActionForward', () => {
  test('an action is forwarded to the target and its response comes back', async () => {
    const prefix = fresh();
    const a = await open(prefix);
    const b = await open(prefix);
    const received: ClusterActionRequest[] = [];
    b.onActionForward(async (req) => {
      received.push(req);
      return { success: true, result: { count: 42 }, requestId: req.requestId };
    });
    const response = await within(a.forwardAction(request(a, b.instanceId, 'req-1')), 3000, 'the response');
    assert.deepEqual(response, { success: true, result: { count: 42 }, requestId: 'req-1' });
    assert.deepEqual(received, [request(a, b.instanceId, 'req-1')]);
  });

  test("a handler's throw comes back as {success: false, error}", async () => {
    const prefix = fresh();
    const a = await open(prefix);
    const b = await open(prefix);
    b.onActionForward(async () => {
      throw new Error('OWNERSHIP_LOST: this instance no longer owns the singleton');
    });
    const response = await within(a.forwardAction(request(a, b.instanceId, 'req-2')), 3000, 'the response');
    assert.deepEqual(response, {
      success: false,
      error: 'OWNERSHIP_LOST: this instance no longer owns the singleton',
      requestId: 'req-2',
    });
  });

  test('with no responder the forward times out after actionTimeout', async () => {
    const a = await open(fresh(), { actionTimeout: 500 });
    const started = Date.now();
    await assert.rejects(a.forwardAction(request(a, 'non-existent-instance', 'req-timeout')), {
      message: 'Cluster action timeout after 500ms',
    });
    assert.ok(Date.now() - started >= 450);
  });

  test('a failed publish rejects with its error', async () => {
    const redis = rig.client();
    const a = new RedisClusterAdapter({ redis, prefix: fresh() });
    redis.disconnect();
    await assert.rejects(a.forwardAction(request(a, 'other', 'req-closed')), /Connection is closed/);
  });
});

describe('shutdown', () => {
  test('pending forwards are rejected with "shutting down"', async () => {
    const a = await open(fresh());
    const pending = a.forwardAction(request(a, 'other-instance', 'req-shutdown'));
    pending.catch(() => undefined);
    await a.shutdown();
    await assert.rejects(pending, { message: 'Cluster adapter shutting down' });
  });

  test('a shut down adapter can start again on a fresh subscriber', async () => {
    const prefix = fresh();
    const a = await open(prefix);
    const b = await open(prefix);
    b.onActionForward(async (req) => ({ success: true, result: 1, requestId: req.requestId }));
    await a.shutdown();
    await a.start();
    const response = await within(a.forwardAction(request(a, b.instanceId, 'req-again')), 3000, 'the response');
    assert.equal(response.success, true);
  });
});
