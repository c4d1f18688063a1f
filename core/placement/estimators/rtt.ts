/**
 * Round-trip time. The estimate is the minimum-filtered recent window (the newest samples within WINDOW_MS): a
 * round trip is never shorter than the path allows, while it is made longer by whatever else the page or the link
 * was doing (the polls sent while the page loads its models read 100–350 ms on a 10 ms link), and a smoothed mean
 * would carry those for dozens of samples. TCP's smoothed mean and deviation (RFC 6298) are kept alongside.
 * The Network Information API's rtt (rounded to 50 ms, capped, blind to loopback throttling) only seeds the
 * estimate while no request of ours has been timed.
 */

const ALPHA = 1 / 8;
const BETA = 1 / 4;
/** After this long without a sample the estimate is treated as half-forgotten. */
const STALE_MS = 60_000;
/** Samples younger than this make the window the estimate is taken from. */
const WINDOW_MS = 20_000;
const KEEP = 16;

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
  private readonly ms = new Float64Array(KEEP);
  private readonly at = new Float64Array(KEEP);
  private readonly sorted = new Float64Array(KEEP);
  private kept = 0;
  private head = 0;

  add(rttMs: number, atMs: number): void {
    if (!(rttMs >= 0) || !Number.isFinite(rttMs)) return;
    this.ms[this.head] = rttMs;
    this.at[this.head] = atMs;
    this.head = (this.head + 1) % KEEP;
    if (this.kept < KEEP) this.kept++;
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
    this.kept = 0;
    this.head = 0;
  }

  /**
   * Sorts the samples of the window ending at `nowMs` (all kept samples when none is that recent) into `sorted`;
   * returns how many.
   */
  private window(nowMs: number): number {
    let k = 0;
    const from = nowMs - WINDOW_MS;
    for (let pass = 0; pass < 2 && k === 0; pass++) {
      for (let i = 0; i < this.kept; i++) {
        if (pass === 0 && this.at[i] < from) continue;
        const v = this.ms[i];
        let j = k++;
        while (j > 0 && this.sorted[j - 1] > v) {
          this.sorted[j] = this.sorted[j - 1];
          j--;
        }
        this.sorted[j] = v;
      }
    }
    return k;
  }

  /** Smallest round trip of the recent window (NaN without samples): what a transfer's time is corrected by. */
  minRtt(nowMs: number): number {
    return this.window(nowMs) > 0 ? this.sorted[0] : NaN;
  }

  /** Writes the estimate into `out` (reused by the planner to stay allocation-free). */
  estimate(nowMs: number, netInfoRttMs: number | undefined, prior: RttPrior, out: RttEstimate): RttEstimate {
    const k = this.count > 0 ? this.window(nowMs) : 0;
    if (k > 0) {
      const age = Math.max(0, nowMs - this.lastAtMs);
      // Between the minimum and the lower median: the path's round trip plus the jitter most requests meet; samples
      // above the median (a busy page, a burst on the link) do not move it.
      const min = this.sorted[0];
      const lowMedian = this.sorted[(k - 1) >> 1];
      const mean = 0.5 * (min + lowMedian);
      const sd = Math.max(2, lowMedian - min + 0.1 * min);
      // An old estimate may describe another network: widen it as it ages instead of dropping it.
      const drift = 0.5 * mean * Math.min(1, age / STALE_MS);
      out.meanMs = mean;
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
