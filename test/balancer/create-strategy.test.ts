/** @module test/balancer/create-strategy: names -> strategies, unknown names rejected, custom functions contained. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CustomStrategy, createStrategy } from '../../src/balancer/index.js';
import { STRATEGY_NAMES } from '../../src/config/index.js';
import type { CustomStrategyFn, StrategyName } from '../../src/config/index.js';
import { ConfigError } from '../../src/errors.js';
import { candidates } from './fixtures.js';

describe('createStrategy', () => {
  it('maps every name in STRATEGY_NAMES to a strategy of that name', () => {
    for (const name of STRATEGY_NAMES) assert.equal(createStrategy(name).name, name);
  });

  it('wraps a function as the custom strategy', () => {
    const strategy = createStrategy((list) => list[0]);
    assert.ok(strategy instanceof CustomStrategy);
    assert.equal(strategy.name, 'custom');
  });

  for (const bad of ['x', 'Round-Robin', '', 'toString', '__proto__', 42, undefined]) {
    it(`rejects ${JSON.stringify(bad) ?? String(bad)}, naming the path and the accepted values`, () => {
      assert.throws(
        () => createStrategy(bad as StrategyName),
        (error: unknown) => {
          assert.ok(error instanceof ConfigError);
          assert.equal(error.code, 'KW_ERR_CONFIG_INVALID');
          assert.equal(error.issues.length, 1);
          assert.equal(error.issues[0]!.path, 'strategy');
          assert.equal(
            error.issues[0]!.message,
            `unknown value ${JSON.stringify(bad) ?? String(bad)} ` +
              '(expected one of round-robin, least-connections, random, p2c, consistent-hash, or a function)',
          );
          return true;
        },
      );
    });
  }
});

describe('CustomStrategy', () => {
  const list = candidates(['a', 1], ['b', 1], ['zero', 0]);

  it('returns null, and reports the error, when the function throws', () => {
    const errors: unknown[] = [];
    const boom = new Error('boom');
    const strategy = createStrategy(
      () => {
        throw boom;
      },
      { onError: (error) => errors.push(error) },
    );
    assert.equal(strategy.pick(list, {}), null);
    assert.deepEqual(errors, [boom]);
  });

  it('survives an error reporter that throws too', () => {
    const strategy = new CustomStrategy(
      () => {
        throw new Error('boom');
      },
      {
        onError: () => {
          throw new Error('reporter');
        },
      },
    );
    assert.equal(strategy.pick(list, {}), null);
  });

  it("returns the list's own object for the id the function chose", () => {
    const strategy = new CustomStrategy(() => ({ id: 'b', weight: 99, inflight: 0 }));
    assert.equal(strategy.pick(list, {}), list[1]);
  });

  it('returns null for answers that name no pickable candidate', () => {
    const foreign = { id: 'nope', weight: 1, inflight: 0 };
    const answers: unknown[] = [null, undefined, foreign, { id: 'zero' }, 'a', 7, {}, Promise.resolve(list[0])];
    for (const answer of answers) {
      const strategy = new CustomStrategy((() => answer) as unknown as CustomStrategyFn);
      assert.equal(strategy.pick(list, {}), null, `answer ${String(answer)}`);
    }
    const excluded = new CustomStrategy((l) => l[0]);
    assert.equal(excluded.pick(list, { exclude: new Set(['a']) }), null);
  });

  it('passes the candidates and the context through', () => {
    let seen: unknown[] = [];
    const strategy = new CustomStrategy((l, ctx) => {
      seen = [l, ctx.hashKey];
      return null;
    });
    strategy.pick(list, { hashKey: 'k' });
    assert.deepEqual(seen, [list, 'k']);
  });
});
