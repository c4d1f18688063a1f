/** What a shaped link looks like: capacity per direction over trace time and the round trip at each instant. */
import { DEFAULT_RTT_MS, type LinkTrace, RateSeries, rttAt } from '../../bench/sim/traces';

export interface ShapeSpec {
  /** Client→server capacity (kbit/s over trace time). */
  up: RateSeries;
  /** Server→client capacity. */
  down: RateSeries;
  /** Round trip at a trace instant; each direction adds half of it after the bytes leave the pacer. */
  rttMs: (traceMs: number) => number;
  /** Trace instant the link clock starts at (default 0); the series wrap at their end. */
  startAtMs?: number;
}

/** A loaded trace as a shape: its rtt_ms column when it has one, else the link type's default round trip. */
export function shapeOf(trace: LinkTrace, startAtMs?: number): ShapeSpec {
  const spec: ShapeSpec = {
    up: trace.up,
    down: trace.down,
    rttMs: trace.rttAt.length > 0 ? (ms) => rttAt(trace, ms) : () => DEFAULT_RTT_MS[trace.linkType],
  };
  if (startAtMs !== undefined) spec.startAtMs = startAtMs;
  return spec;
}

export function constantShape(o: { upKbps: number; downKbps: number; rttMs: number }): ShapeSpec {
  return {
    up: new RateSeries([0], [o.upKbps]),
    down: new RateSeries([0], [o.downKbps]),
    rttMs: () => o.rttMs,
  };
}
