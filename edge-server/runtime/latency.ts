/** Recent run latency per input-size bucket: an EWMA for the trend and a p90 over a sliding window for the tail. */
import { LATENCY_EWMA_ALPHA as ALPHA, type LatencyBucket } from '../../core/protocol/v1';

const WINDOW = 50;
const MAX_BUCKETS = 32;

interface Bucket {
  count: number;
  ewma: number;
  window: number[];
  lastUsed: number;
}

/**
 * Bucket label: the dims of the input, sizes above 64 rounded up to a multiple of 32 so that detector inputs
 * (already multiples of 32) keep their exact size and free-width crops fall into a bounded set of classes.
 */
export function sizeBucket(dims: readonly number[]): string {
  return dims.map((d) => (d > 64 ? Math.ceil(d / 32) * 32 : d)).join('x');
}

export class LatencyTracker {
  private buckets = new Map<string, Bucket>();
  private tick = 0;

  record(bucket: string, ms: number): void {
    let b = this.buckets.get(bucket);
    if (!b) {
      if (this.buckets.size >= MAX_BUCKETS) this.evictOldest();
      b = { count: 0, ewma: ms, window: [], lastUsed: 0 };
      this.buckets.set(bucket, b);
    }
    b.count++;
    b.ewma = b.count === 1 ? ms : ALPHA * ms + (1 - ALPHA) * b.ewma;
    b.window.push(ms);
    if (b.window.length > WINDOW) b.window.shift();
    b.lastUsed = ++this.tick;
  }

  /** Current EWMA (or the recent p90, for a conservative figure) per bucket, what the scheduler predicts from. */
  estimates(kind: 'ewma' | 'p90' = 'ewma'): Map<string, number> {
    return new Map([...this.buckets].map(([k, b]) => [k, kind === 'ewma' ? b.ewma : percentile(b.window, 0.9)]));
  }

  snapshot(): LatencyBucket[] {
    return [...this.buckets.entries()]
      .map(([size, b]) => ({ size, count: b.count, ewmaMs: round(b.ewma), p90Ms: round(percentile(b.window, 0.9)) }))
      .sort((a, b) => a.size.localeCompare(b.size, 'en', { numeric: true }));
  }

  private evictOldest(): void {
    let oldest: string | null = null;
    let min = Infinity;
    for (const [k, b] of this.buckets)
      if (b.lastUsed < min) {
        min = b.lastUsed;
        oldest = k;
      }
    if (oldest !== null) this.buckets.delete(oldest);
  }
}

/** Nearest-rank percentile. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))];
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}
