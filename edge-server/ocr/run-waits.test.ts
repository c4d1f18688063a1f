import { describe, expect, it } from 'vitest';
import { RunWaits } from './run-waits';

describe('RunWaits', () => {
  it('sums the waits of runs one after another', () => {
    const w = new RunWaits();
    w.add(0, 10, 50);
    w.add(50, 80, 120);
    expect(w.waitedMs()).toBe(40);
  });

  it('does not count a wait while another run of the same stage runs', () => {
    const w = new RunWaits();
    // Two batches asked at once on two workers, then a third waiting for the first free worker.
    w.add(0, 0, 100);
    w.add(0, 0, 110);
    w.add(0, 100, 190);
    expect(w.waitedMs()).toBe(0);
    // Two asked at once, both waiting 30 ms for workers busy with another request: 30 ms, not 60.
    const busy = new RunWaits();
    busy.add(0, 30, 100);
    busy.add(0, 30, 100);
    expect(busy.waitedMs()).toBe(30);
  });

  it('is 0 without runs', () => {
    expect(new RunWaits().waitedMs()).toBe(0);
  });
});
