import { describe, expect, it } from 'vitest';
import { WeightedGate } from './weighted-gate';

describe('WeightedGate', () => {
  it('lets weights through up to the capacity and refuses at once when told not to wait', async () => {
    const gate = new WeightedGate(10, 'pixels');
    const a = await gate.acquire(6);
    await expect(gate.acquire(5)).rejects.toMatchObject({ name: 'Overloaded', retryAfterS: 1, message: /pixels at its limit of 10/ });
    const b = await gate.acquire(4);
    expect(gate.inUse).toBe(10);
    a();
    a(); // giving back twice changes nothing
    expect(gate.inUse).toBe(4);
    b();
    expect(gate.inUse).toBe(0);
  });

  it('queues in arrival order, grants when weight comes back, and refuses after the wait', async () => {
    const gate = new WeightedGate(10, 'pixels');
    const first = await gate.acquire(8);
    const order: string[] = [];
    const big = gate.acquire(9, 5_000).then((r) => {
      order.push('big');
      return r;
    });
    const small = gate.acquire(1, 5_000).then((r) => {
      order.push('small');
      return r;
    });
    expect(gate.waiting).toBe(2);
    first();
    (await big)();
    (await small)();
    expect(order).toEqual(['big', 'small']);
    const hold = await gate.acquire(10);
    await expect(gate.acquire(1, 20)).rejects.toMatchObject({ name: 'Overloaded' });
    expect(gate.waiting).toBe(0);
    hold();
  });

  it('lets one oversized weight through alone, and withdraws a waiter whose client is gone', async () => {
    const gate = new WeightedGate(10, 'pixels');
    const huge = await gate.acquire(50);
    const controller = new AbortController();
    const waiting = gate.acquire(1, 5_000, controller.signal);
    controller.abort();
    await expect(waiting).rejects.toMatchObject({ name: 'ClientClosed' });
    expect(gate.waiting).toBe(0);
    huge();
    expect(gate.inUse).toBe(0);
  });
});
