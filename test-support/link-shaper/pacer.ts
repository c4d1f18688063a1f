/**
 * One direction's bottleneck: serialises the bytes of every flow onto a single link whose capacity follows the
 * trace, serving flows round-robin one chunk at a time (a shared access link, not a per-connection limit).
 *
 * Time is kept virtually: each chunk starts when the previous one finished (not when a late timer fired), so the
 * bytes that leave over any span match the trace's integral however coarse Node's timers are.
 */
import type { Direction, LinkClock } from './link-clock';
import { wallNow } from './link-clock';

/** A slice of a flow's byte stream; null is its end (half-close), which takes no link time but keeps its place. */
export type Payload = Buffer | null;

/**
 * A chunk finishing within this much of now leaves at once, stamped with its exact finish; the delay line holds it
 * until then plus the one-way delay, so this only saves a timer round (Node fires timers ~1 ms late).
 */
const SLACK_MS = 1;
/** Chunks carry about this much link time, within the byte bounds below: fine pacing at low rates, few timers at high. */
const CHUNK_MS = 4;
const MIN_CHUNK_BYTES = 512;
const MAX_CHUNK_BYTES = 4096;

interface OnWire<F> {
  flow: F;
  payload: Payload;
  /** Bits still to send (a reshape mid-chunk keeps only the unsent share). */
  bits: number;
  start: number;
  /** Wall time the last bit leaves; NaN until computed under the current shape. */
  finish: number;
}

export class Pacer<F> {
  /** Flows with pending payloads; Map order is the round-robin order (a served flow is re-inserted last). */
  private readonly queues = new Map<F, Payload[]>();
  private head: OnWire<F> | null = null;
  /** When the link finishes what it has accepted (wall ms). */
  private freeAt = -Infinity;
  private timer: NodeJS.Timeout | null = null;
  private pumping = false;
  private closed = false;

  constructor(
    private readonly clock: LinkClock,
    private readonly dir: Direction,
    /** Called in departure order with the wall time the payload's last bit left the link. */
    private readonly depart: (flow: F, payload: Payload, atWall: number) => void,
  ) {}

  push(flow: F, payload: Payload): void {
    if (this.closed) return;
    const idle = this.head === null && this.queues.size === 0;
    const q = this.queues.get(flow);
    if (q) q.push(payload);
    else this.queues.set(flow, [payload]);
    if (idle) {
      this.freeAt = Math.max(this.freeAt, wallNow());
      this.pump();
    }
  }

  /** Forget a reset flow's queued bytes (a chunk already on the wire still departs; the receiver drops it). */
  drop(flow: F): void {
    this.queues.delete(flow);
  }

  /** Before the shape changes: let what is due leave under the old one and keep the unsent share of the chunk on the wire. */
  beforeReshape(now: number): void {
    this.pump(now);
    const h = this.head;
    if (h) {
      const span = h.finish - h.start;
      const left = Number.isFinite(h.finish) && span > 0 ? Math.min(1, Math.max(0, (h.finish - now) / span)) : 1;
      h.bits *= left;
      h.start = now;
      h.finish = NaN;
    }
    this.freeAt = now;
  }

  afterReshape(): void {
    this.pump();
  }

  close(): void {
    this.closed = true;
    this.clearTimer();
    this.queues.clear();
    this.head = null;
  }

  private pump(now = wallNow()): void {
    if (this.pumping || this.closed) return;
    this.pumping = true;
    try {
      this.clearTimer();
      this.run(now);
    } finally {
      this.pumping = false;
    }
  }

  private run(now: number): void {
    const rate = this.clock.rate(this.dir);
    if (rate === null) {
      // Unshaped: everything leaves now, in the order it would have been served.
      const h = this.head;
      this.head = null;
      if (h) this.depart(h.flow, h.payload, now);
      for (let c = this.take(Infinity); c; c = this.take(Infinity)) this.depart(c.flow, c.payload, now);
      this.freeAt = now;
      return;
    }
    for (;;) {
      if (this.head === null) {
        const kbps = rate.rateAt(this.clock.traceAt(this.freeAt));
        const c = this.take(Math.min(MAX_CHUNK_BYTES, Math.max(MIN_CHUNK_BYTES, (kbps * CHUNK_MS) / 8)));
        if (!c) return;
        this.head = { ...c, bits: c.payload === null ? 0 : c.payload.length * 8, start: this.freeAt, finish: NaN };
      }
      const h = this.head;
      if (Number.isNaN(h.finish)) h.finish = h.start + (h.bits === 0 ? 0 : rate.transferMs(this.clock.traceAt(h.start), h.bits / 8));
      if (h.finish > now + SLACK_MS) {
        // A trace that carries nothing for its whole horizon stalls until the next shape().
        if (Number.isFinite(h.finish)) this.timer = setTimeout(() => this.pump(), h.finish - now);
        return;
      }
      this.head = null;
      this.freeAt = h.finish;
      this.depart(h.flow, h.payload, h.finish);
    }
  }

  /** Next chunk of at most `maxBytes` from the flow whose turn it is. */
  private take(maxBytes: number): { flow: F; payload: Payload } | null {
    const first = this.queues.entries().next();
    if (first.done) return null;
    const [flow, q] = first.value;
    this.queues.delete(flow);
    let payload = q[0];
    if (payload !== null && payload.length > maxBytes) {
      const n = Math.floor(maxBytes);
      q[0] = payload.subarray(n);
      payload = payload.subarray(0, n);
    } else q.shift();
    if (q.length > 0) this.queues.set(flow, q);
    return { flow, payload };
  }

  private clearTimer(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }
}
