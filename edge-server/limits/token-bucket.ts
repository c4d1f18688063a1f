/**
 * Per-client token buckets: each client may burst `burst` requests, refilled at `ratePerS`. Pure: time is passed in.
 * Buckets that have refilled completely carry no information and are forgotten, which bounds memory.
 */
export interface Take {
  ok: boolean;
  /** Seconds until a token is available (0 when ok). */
  retryAfterS: number;
}

interface Bucket {
  tokens: number;
  at: number;
}

const SWEEP_EVERY = 1024;

export class TokenBuckets {
  private readonly buckets = new Map<string, Bucket>();
  private takes = 0;

  constructor(
    readonly ratePerS: number,
    readonly burst: number,
  ) {
    if (!(ratePerS > 0) || !(burst >= 1)) throw new RangeError('token bucket needs ratePerS > 0 and burst >= 1');
  }

  take(key: string, nowMs: number): Take {
    if (++this.takes % SWEEP_EVERY === 0) this.forgetFull(nowMs);
    const b = this.buckets.get(key) ?? { tokens: this.burst, at: nowMs };
    b.tokens = Math.min(this.burst, b.tokens + ((nowMs - b.at) / 1000) * this.ratePerS);
    b.at = nowMs;
    this.buckets.set(key, b);
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return { ok: true, retryAfterS: 0 };
    }
    return { ok: false, retryAfterS: Math.max(1, Math.ceil((1 - b.tokens) / this.ratePerS)) };
  }

  get size(): number {
    return this.buckets.size;
  }

  private forgetFull(nowMs: number): void {
    for (const [k, b] of this.buckets) {
      if (b.tokens + ((nowMs - b.at) / 1000) * this.ratePerS >= this.burst) this.buckets.delete(k);
    }
  }
}
