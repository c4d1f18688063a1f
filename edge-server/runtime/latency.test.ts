import { describe, expect, it } from 'vitest';
import { LatencyTracker, percentile, sizeBucket } from './latency';

describe('latency tracking', () => {
  it('labels sizes so detector inputs stay exact and crop widths group', () => {
    expect(sizeBucket([1, 3, 544, 960])).toBe('1x3x544x960');
    expect(sizeBucket([8, 3, 48, 301])).toBe('8x3x48x320');
  });

  it('keeps an EWMA and a windowed p90 per bucket', () => {
    const t = new LatencyTracker();
    for (let i = 1; i <= 10; i++) t.record('a', i * 10);
    t.record('b', 5);
    const [a, b] = t.snapshot();
    expect(a).toMatchObject({ size: 'a', count: 10, p90Ms: 90 });
    expect(a.ewmaMs).toBeGreaterThan(50);
    expect(a.ewmaMs).toBeLessThan(100);
    expect(b).toEqual({ size: 'b', count: 1, ewmaMs: 5, p90Ms: 5 });
  });

  it('forgets old samples and old buckets', () => {
    const t = new LatencyTracker();
    for (let i = 0; i < 100; i++) t.record('x', i < 50 ? 1000 : 10);
    expect(t.snapshot()[0].p90Ms).toBe(10);
    for (let i = 0; i < 40; i++) t.record(`s${i}`, 1);
    expect(t.snapshot()).toHaveLength(32);
    expect(t.snapshot().some((b) => b.size === 'x')).toBe(false);
  });

  it('computes nearest-rank percentiles', () => {
    expect(percentile([], 0.9)).toBe(0);
    expect(percentile([3, 1, 2], 0.5)).toBe(2);
    expect(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.9)).toBe(9);
  });
});
