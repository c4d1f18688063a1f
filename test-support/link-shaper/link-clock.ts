/**
 * The shaped link's clock: maps wall time (performance.now) to a trace instant. Both directions read the same
 * clock so a trace's up and down series stay aligned; `shape()` restarts it.
 */
import type { RateSeries } from '../../bench/sim/traces';
import type { ShapeSpec } from './shape-spec';

export type Direction = 'up' | 'down';

export const wallNow = (): number => performance.now();

export class LinkClock {
  spec: ShapeSpec | null = null;
  private startWall = wallNow();
  private startTrace = 0;

  reset(spec: ShapeSpec | null, now: number): void {
    this.spec = spec;
    this.startWall = now;
    this.startTrace = spec?.startAtMs ?? 0;
  }

  traceAt(wall: number): number {
    return this.startTrace + (wall - this.startWall);
  }

  rate(dir: Direction): RateSeries | null {
    return this.spec === null ? null : this.spec[dir];
  }

  /** One-way delay for bytes leaving the pacer at `wall` (half the round trip then); 0 when unshaped. */
  oneWayMs(wall: number): number {
    if (this.spec === null) return 0;
    // Instants before the last restart (bytes already in flight) take the round trip at the restart.
    const rtt = this.spec.rttMs(this.traceAt(Math.max(wall, this.startWall)));
    return Number.isFinite(rtt) && rtt > 0 ? rtt / 2 : 0;
  }
}
