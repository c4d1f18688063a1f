/**
 * One direction's propagation delay: a payload that left the pacer at `t` arrives at t + rtt/2. A single FIFO per
 * direction, like the wire: arrival times never overtake each other even when the trace's rtt drops.
 */
import type { LinkClock } from './link-clock';
import { wallNow } from './link-clock';
import type { Payload } from './pacer';

/**
 * Node timers fire on whole milliseconds, typically 0-1 ms late, and re-arming for a sub-millisecond remainder
 * costs another ~1.5 ms. So a payload arrives once the current millisecond holds its due time, from a timer armed
 * that much early: arrivals land within about ±1 ms of due (median ~0.4 ms early on an idle loop, later under load).
 */
const WITHIN_MS = 1;

interface InFlight<F> {
  flow: F;
  payload: Payload;
  departWall: number;
  dueWall: number;
}

export class DelayLine<F> {
  private q: InFlight<F>[] = [];
  private next = 0;
  private lastDue = -Infinity;
  private timer: NodeJS.Timeout | null = null;
  private delivering = false;
  private closed = false;

  constructor(
    private readonly clock: LinkClock,
    private readonly deliver: (flow: F, payload: Payload) => void,
  ) {}

  push(flow: F, payload: Payload, departWall: number): void {
    if (this.closed) return;
    const dueWall = Math.max(departWall + this.clock.oneWayMs(departWall), this.lastDue);
    this.lastDue = dueWall;
    this.q.push({ flow, payload, departWall, dueWall });
    if (this.q.length - this.next === 1) this.pump();
  }

  /** The shape changed: bytes in flight take the new one-way delay from when they left (or arrive now). */
  reshape(): void {
    this.lastDue = -Infinity;
    for (let i = this.next; i < this.q.length; i++) {
      const e = this.q[i];
      e.dueWall = Math.max(e.departWall + this.clock.oneWayMs(e.departWall), this.lastDue);
      this.lastDue = e.dueWall;
    }
    this.pump();
  }

  close(): void {
    this.closed = true;
    this.clearTimer();
    this.q = [];
    this.next = 0;
  }

  private pump(): void {
    if (this.delivering || this.closed) return;
    this.delivering = true;
    try {
      this.clearTimer();
      const now = wallNow();
      while (this.next < this.q.length && this.q[this.next].dueWall <= now + WITHIN_MS) {
        const e = this.q[this.next++];
        this.deliver(e.flow, e.payload);
      }
      if (this.next > 1024 && this.next * 2 > this.q.length) {
        this.q = this.q.slice(this.next);
        this.next = 0;
      }
      if (this.next < this.q.length) this.timer = setTimeout(() => this.pump(), Math.max(0, this.q[this.next].dueWall - now - WITHIN_MS));
    } finally {
      this.delivering = false;
    }
  }

  private clearTimer(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }
}
