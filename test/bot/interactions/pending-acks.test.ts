import { setImmediate as nextTurn } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { callbackInteractionId, PendingAcks } from '../../../bot/interactions/pending-acks.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('PendingAcks', () => {
  it('lets work through on the next turn when nothing waits for an acknowledgement', async () => {
    const acks = new PendingAcks({ maxWaitMs: 10_000, ackWindowMs: 10_000 });
    let done = false;
    void acks.afterAcks().then(() => {
      done = true;
    });
    await Promise.resolve();
    expect(done).toBe(false); // never synchronously: arrived I/O goes first
    await nextTurn();
    await nextTurn();
    expect(done).toBe(true);
  });

  it('holds work until every received interaction is acknowledged, then releases one waiter per turn', async () => {
    const acks = new PendingAcks({ maxWaitMs: 10_000, ackWindowMs: 10_000 });
    acks.received('1');
    acks.received('2');
    const order: string[] = [];
    void acks.afterAcks().then(() => order.push('a'));
    void acks.afterAcks().then(() => order.push('b'));
    await sleep(5);
    expect(order).toEqual([]);
    acks.settled('1');
    await sleep(5);
    expect(order).toEqual([]);
    expect(acks.size).toBe(1);
    acks.settled('2');
    await nextTurn();
    expect(order).toEqual(['a']);
    acks.received('3'); // a new interaction arrives between two releases: it goes first
    await sleep(5);
    expect(order).toEqual(['a']);
    acks.settled('3');
    await sleep(5);
    expect(order).toEqual(['a', 'b']);
  });

  it('never holds work longer than maxWaitMs, and forgets interactions after the ack window', async () => {
    const acks = new PendingAcks({ maxWaitMs: 30, ackWindowMs: 60 });
    acks.received('1');
    const t0 = Date.now();
    await acks.afterAcks();
    expect(Date.now() - t0).toBeGreaterThanOrEqual(25);
    expect(acks.size).toBe(1);
    await sleep(60);
    expect(acks.size).toBe(0);
  });

  it('releases every waiter on shutdown', async () => {
    const acks = new PendingAcks({ maxWaitMs: 10_000, ackWindowMs: 10_000 });
    acks.received('1');
    const waiting = Promise.all([acks.afterAcks(), acks.afterAcks()]);
    acks.releaseAll();
    await waiting;
    expect(acks.size).toBe(1);
  });

  it('reads the interaction id from a callback request path', () => {
    expect(callbackInteractionId('/interactions/123456789/aW50ZXJhY3Rpb24/callback')).toBe('123456789');
    expect(callbackInteractionId('/webhooks/1/tok/messages/%40original')).toBeUndefined();
    expect(callbackInteractionId('/channels/1/messages')).toBeUndefined();
  });
});
