/**
 * Round-trip time as TCP keeps it (RFC 6298): a smoothed mean and a mean deviation, so a jittery link predicts a
 * wide spread. The Network Information API's rtt (rounded to 50 ms, capped, blind to loopback throttling) only
 * seeds the estimate while no request of ours has been timed.
 */

const ALPHA = 1 / 8;
const BETA = 1 / 4;
/** Mean absolute deviation → standard deviation for a normal variable. */
const MAD_TO_SD = 1.2533;
/** After this long without a sample the estimate is treated as half-forgotten. */
const STALE_MS = 60_000;

export interface RttEstimate {
  meanMs: number;
  sdMs: number;
  source: 'samples' | 'netinfo' | 'prior';
  /** Time since the newest sample (Infinity without one). */
  ageMs: number;
}

export interface RttPrior {
  meanMs: number;
  sdMs: number;
}

export class RttEstimator {
  srtt = NaN;
  rttvar = NaN;
  count = 0;
  lastAtMs = -Infinity;

  add(rttMs: number, atMs: number): void {
    if (!(rttMs >= 0) || !Number.isFinite(rttMs)) return;
    if (this.count === 0) {
      this.srtt = rttMs;
      this.rttvar = rttMs / 2;
    } else {
      this.rttvar = (1 - BETA) * this.rttvar + BETA * Math.abs(this.srtt - rttMs);
      this.srtt = (1 - ALPHA) * this.srtt + ALPHA * rttMs;
    }
    this.count++;
    if (atMs > this.lastAtMs) this.lastAtMs = atMs;
  }

  reset(): void {
    this.srtt = NaN;
    this.rttvar = NaN;
    this.count = 0;
    this.lastAtMs = -Infinity;
  }

  /** Writes the estimate into `out` (reused by the planner to stay allocation-free). */
  estimate(nowMs: number, netInfoRttMs: number | undefined, prior: RttPrior, out: RttEstimate): RttEstimate {
    if (this.count > 0) {
      const age = Math.max(0, nowMs - this.lastAtMs);
      const sd = MAD_TO_SD * this.rttvar;
      // An old estimate may describe another network: widen it as it ages instead of dropping it.
      const drift = 0.5 * this.srtt * Math.min(1, age / STALE_MS);
      out.meanMs = this.srtt;
      out.sdMs = Math.sqrt(sd * sd + drift * drift);
      out.source = 'samples';
      out.ageMs = age;
    } else if (netInfoRttMs !== undefined && netInfoRttMs > 0) {
      out.meanMs = netInfoRttMs;
      out.sdMs = Math.max(prior.sdMs, 0.5 * netInfoRttMs);
      out.source = 'netinfo';
      out.ageMs = Infinity;
    } else {
      out.meanMs = prior.meanMs;
      out.sdMs = prior.sdMs;
      out.source = 'prior';
      out.ageMs = Infinity;
    }
    return out;
  }
}
