import { describe, expect, it } from 'vitest';
import { TokenBuckets } from './token-bucket';

describe('TokenBuckets', () => {
  it('allows a burst, then the refill rate, per client', () => {
    const b = new TokenBuckets(2, 3);
    expect([0, 0, 0, 0].map(() => b.take('a', 1000).ok)).toEqual([true, true, true, false]);
    expect(b.take('b', 1000).ok).toBe(true); // another client has its own bucket
    expect(b.take('a', 1000)).toEqual({ ok: false, retryAfterS: 1 });
    expect(b.take('a', 1499).ok).toBe(false);
    expect(b.take('a', 1500).ok).toBe(true); // 0.5 s at 2/s = one token
    expect(b.take('a', 1500).ok).toBe(false);
    expect([0, 0, 0, 0].map(() => b.take('a', 100_000).ok)).toEqual([true, true, true, false]); // capped at burst
  });

  it('says how long to wait at slow rates and forgets idle clients', () => {
    const b = new TokenBuckets(0.1, 1);
    expect(b.take('a', 0).ok).toBe(true);
    expect(b.take('a', 0)).toEqual({ ok: false, retryAfterS: 10 });
    for (let i = 0; i < 2048; i++) b.take(`c${i}`, 0);
    for (let i = 0; i < 1024; i++) b.take('z', 1e9 + i * 1e4); // later traffic triggers a sweep of refilled buckets
    expect(b.size).toBeLessThan(10);
  });
});
