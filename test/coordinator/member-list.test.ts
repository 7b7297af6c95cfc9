/**
 * @module test/coordinator/member-list: the registry's local member list and resolution cache, without Redis: events
 * and snapshots crossing each other, and resolutions that an invalidation overtook.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MemberList } from '../../src/coordinator/member-list.js';
import { ResolutionCache, type ResolveResult } from '../../src/coordinator/resolution-cache.js';
import type { MemberRecord } from '../../src/coordinator/store/index.js';

const m = (memberId: string, address = `http://${memberId}`, load = 0): MemberRecord => ({ memberId, address, load });
const ids = (list: MemberList): string => list.members.map((x) => x.memberId).join(' ');

describe('MemberList', () => {
  it('is cold until a snapshot applies; the first snapshot reports no change', () => {
    const list = new MemberList();
    assert.equal(list.warm, false);
    assert.deepEqual(list.applySnapshot([m('a'), m('b')], list.snapshotStarted()), { added: [], removed: [], moved: [] });
    assert.equal(list.warm, true);
    assert.equal(ids(list), 'a b');
  });

  it('reports what a later snapshot added, removed and moved', () => {
    const list = new MemberList();
    list.applySnapshot([m('a'), m('b')], list.snapshotStarted());
    const diff = list.applySnapshot([m('b', 'http://b2'), m('c')], list.snapshotStarted());
    assert.deepEqual(diff, { added: [m('c')], removed: ['a'], moved: [m('b', 'http://b2')] });
    assert.equal(ids(list), 'b c');
  });

  it('drops a snapshot that an event crossed, so it cannot undo the event', () => {
    const list = new MemberList();
    list.applySnapshot([m('a')], list.snapshotStarted());
    const seq = list.snapshotStarted();
    assert.equal(list.up(m('b')), true);
    assert.equal(list.applySnapshot([m('a')], seq), null, 'taken before b joined');
    assert.equal(ids(list), 'a b');
    const seq2 = list.snapshotStarted();
    assert.equal(list.down('a'), true);
    assert.equal(list.applySnapshot([m('a'), m('b')], seq2), null, 'taken before a left');
    assert.equal(ids(list), 'b');
  });

  it('up reports a new (or moved) member once; down reports a known member once', () => {
    const list = new MemberList();
    assert.equal(list.up(m('a')), true);
    assert.equal(list.up(m('a', 'http://a', 5)), false);
    assert.equal(list.up(m('a', 'http://a2', 5)), true);
    assert.equal(list.up(m('a', 'http://a', 5)), true);
    assert.equal(list.members[0]?.load, 5, 'the record is refreshed');
    assert.equal(list.down('a'), true);
    assert.equal(list.down('a'), false);
    assert.equal(list.has('a'), false);
  });

  it('clear makes it cold and empty', () => {
    const list = new MemberList();
    list.applySnapshot([m('a')], list.snapshotStarted());
    list.clear();
    assert.equal(list.warm, false);
    assert.equal(list.members.length, 0);
  });
});

describe('ResolutionCache', () => {
  const owner = (memberId: string, reassigned = false, epoch = 1): ResolveResult => ({ address: `http://${memberId}`, memberId, reassigned, epoch });
  const cache = (): ResolutionCache => new ResolutionCache({ ttlMs: 60_000, max: 100 });

  it('caches a live owner as a frozen result with reassigned: false, handing out one settled promise', async () => {
    const c = cache();
    const mark = c.begin('d');
    c.end('d', mark);
    c.fill('d', owner('m1', true, 2), mark);
    const hit = c.hit('d');
    assert.ok(hit);
    assert.equal(c.hit('d'), hit, 'the same promise each time');
    const result = await hit;
    assert.ok(Object.isFrozen(result));
    assert.deepEqual(result, owner('m1', false, 2));
  });

  it('never caches a dead destination', () => {
    const c = cache();
    const mark = c.begin('d');
    c.end('d', mark);
    c.fill('d', { address: null, memberId: 'dead', reassigned: false, epoch: 1 }, mark);
    assert.equal(c.hit('d'), undefined);
  });

  it('does not cache a resolution that a binding change or a member departure overtook', () => {
    const c = cache();
    const first = c.begin('d');
    c.evictDestination('d');
    c.end('d', first);
    c.fill('d', owner('m1'), first);
    assert.equal(c.hit('d'), undefined, 'binding changed while in flight');

    const second = c.begin('d');
    c.evictMember('anyone');
    c.end('d', second);
    c.fill('d', owner('m1'), second);
    assert.equal(c.hit('d'), undefined, 'a member left while in flight');

    const third = c.begin('d');
    c.evictDestination('other');
    c.end('d', third);
    c.fill('d', owner('m1'), third);
    assert.ok(c.hit('d'), 'another destination does not matter');
  });

  it('evicts by member and, for a failure report, only while the entry names that member', () => {
    const c = cache();
    for (const [d, member] of [['d1', 'm1'], ['d2', 'm1'], ['d3', 'm2']] as const) {
      const mark = c.begin(d);
      c.end(d, mark);
      c.fill(d, owner(member), mark);
    }
    assert.equal(c.evictMember('m1'), 2);
    assert.equal(c.size, 1);
    assert.equal(c.evictIfOwner('d3', 'm1'), false);
    assert.equal(c.evictIfOwner('d3', 'm2'), true);
    assert.equal(c.size, 0);
  });
});
