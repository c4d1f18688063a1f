/**
 * A capacity shared by concurrent requests (decoded pixels, requests without a budget): a request takes its weight
 * while it works and gives it back when done. One that does not fit waits its turn in arrival order for up to
 * `waitMs`, then is refused, so memory and queues stay bounded however many clients arrive at once.
 */
import { ClientClosedError, OverloadError } from '../http/errors';

interface Waiter {
  weight: number;
  grant: () => void;
}

export class WeightedGate {
  private used = 0;
  private readonly waiters: Waiter[] = [];

  /** `what` names the limit in refusals (e.g. "decoded pixels in flight, EDGE_MAX_PIXELS_IN_FLIGHT"). */
  constructor(
    readonly capacity: number,
    private readonly what: string,
  ) {}

  get inUse(): number {
    return this.used;
  }
  get waiting(): number {
    return this.waiters.length;
  }

  /**
   * Resolves with the function that gives the weight back (call it once). Rejects with OverloadError (503,
   * Retry-After) when the weight does not fit within `waitMs`, and with ClientClosedError when `signal` fires first.
   * A weight above the capacity is let through alone, when nothing else holds any.
   */
  acquire(weight: number, waitMs = 0, signal?: AbortSignal): Promise<() => void> {
    if (signal?.aborted) return Promise.reject(new ClientClosedError('while it waited for server capacity'));
    if (this.waiters.length === 0 && this.fits(weight)) return Promise.resolve(this.take(weight));
    if (waitMs <= 0) return Promise.reject(this.refusal());
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        weight,
        grant: () => {
          cleanup();
          resolve(this.take(weight));
        },
      };
      const leave = (error: Error) => {
        const i = this.waiters.indexOf(waiter);
        if (i < 0) return;
        this.waiters.splice(i, 1);
        cleanup();
        reject(error);
        this.wake();
      };
      const timer = setTimeout(() => leave(this.refusal()), waitMs);
      timer.unref();
      const onAbort = () => leave(new ClientClosedError('while it waited for server capacity'));
      signal?.addEventListener('abort', onAbort, { once: true });
      const cleanup = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
      };
      this.waiters.push(waiter);
    });
  }

  private fits(weight: number): boolean {
    return this.used + weight <= this.capacity || this.used === 0;
  }

  private take(weight: number): () => void {
    this.used += weight;
    let given = false;
    return () => {
      if (given) return;
      given = true;
      this.used -= weight;
      this.wake();
    };
  }

  /** Grants waiters in arrival order while the head fits (no overtaking, so a large request is not starved). */
  private wake(): void {
    while (this.waiters.length > 0 && this.fits(this.waiters[0].weight)) this.waiters.shift()!.grant();
  }

  private refusal(): OverloadError {
    return new OverloadError(1, `${this.what} at its limit of ${this.capacity}`);
  }
}
