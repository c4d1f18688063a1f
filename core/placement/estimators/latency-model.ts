/**
 * Latency of one stage in one configuration as a linear function of its input size, fitted online.
 *
 * The profile gives a seed line s(x) = a + b·x through its measured points. Phones differ from the profiling
 * machine mostly by one speed factor for the whole location (a slow phone is slow at every stage) and a little by
 * stage, so the prediction is
 *   actual = L·gain·s(x) + offset
 * where L is the location's speed (learnt from every stage's runs, see LocationGain) and the online part is a
 * recursive least-squares fit of the stage's own factor `gain` and `offset`, with a prior centred on gain 1,
 * offset 0. A new stage therefore starts at the location's speed, and the stage's own fit only learns how it
 * differs: four runs on a phone four times faster than the profile already predict every stage at that speed,
 * where a fit per stage from gain 1 would take tens of runs against the profile's noise. The regression runs on
 * actual/(L·s(x)), so every observation counts by its relative error and one slow run at 640 px says as much about
 * 960 px as it should. Forgetting (λ) lets the fit follow a device that heats up or a server that gets busier; the
 * covariance is capped at the prior so a long run of same-size inputs cannot wind it up.
 *
 * Robustness: one run must not steer the fit once it has seen a few. Past the first runs, an innovation beyond
 * HUBER_K predictive spreads counts with Huber's weight (k/|z|); a run marked weak (a warm-up on blank input, right
 * after the models loaded, often next to other work) is clipped to WEAK_MAX_RATIO × the prediction and teaches
 * only the location's speed: a sliver of it when slower than predicted while the location has few runs (nothing
 * after), as a real run when faster (other work can only slow a run down). Without a location the same holds for
 * the stage's own fit, the sliver being a run counted with a large extra spread.
 */
import type { LatencyPoint, LatencyStats } from '../../profiles';
import { Z90 } from './normal';

const LAMBDA = 0.97;
const NOISE_GAIN = 0.15;
const MIN_REL_SD = 0.03;
const MIN_MS = 0.05;
/** Runs a profiled point needs for its slowest to be read as a stray (see relSdOf). */
const STRAY_MIN_RUNS = 5;
/** Largest log-space run-to-run spread taken from a profile (p90 = 2.6 × p50). */
const MAX_SIGMA = 0.75;
/** Huber threshold on the standardised innovation, applied once a fit has seen this many runs. */
const HUBER_K = 3;
const HUBER_AFTER = 3;
/** A weak run's own relative spread beyond run-to-run noise (a warm-up may easily be 50 % off a real photo's run). */
const WEAK_REL_SD = 0.5;
/** A weak run slower than this × the prediction is taken at this ratio (first runs include tier-up, other tabs). */
export const WEAK_MAX_RATIO = 2;
/** Weight of a weak run, against 1 for a real run (in a fit and in the location's speed). */
const WEAK_LOCATION_WEIGHT = 0.25;
/** Recent runs the location's speed is the weighted median of. */
const LOCATION_WINDOW = 24;
/** Weight of the profile (ratio 1) in the location's speed, in real runs: one run moves it half way in log terms. */
const LOCATION_PRIOR_WEIGHT = 1;

export interface SeedLine {
  intercept: number;
  slope: number;
  /** Run-to-run relative spread at the profiled points. */
  relSd: number;
}

export interface GainPrior {
  /** Standard deviation of the speed factor before any run was seen (0.3 = a phone may easily be 30 % off). */
  gainSd: number;
  /** Standard deviation of a constant offset in milliseconds. */
  offsetSd: number;
}

/** Least-squares line through the profiled p50s (through the origin when there is a single point). */
export function seedLine(points: readonly LatencyPoint[]): SeedLine {
  let relVar = 0;
  for (const p of points) relVar += relSdOf(p.stats) ** 2;
  const relSd = Math.max(MIN_REL_SD, Math.sqrt(relVar / points.length));
  if (points.length === 1) {
    const p = points[0];
    return p.x > 0 ? { intercept: 0, slope: p.stats.p50 / p.x, relSd } : { intercept: p.stats.p50, slope: 0, relSd };
  }
  let sx = 0;
  let sy = 0;
  for (const p of points) {
    sx += p.x;
    sy += p.stats.p50;
  }
  const mx = sx / points.length;
  const my = sy / points.length;
  let sxx = 0;
  let sxy = 0;
  for (const p of points) {
    sxx += (p.x - mx) ** 2;
    sxy += (p.x - mx) * (p.stats.p50 - my);
  }
  const slope = sxx > 0 ? Math.max(0, sxy / sxx) : 0;
  return { intercept: my - slope * mx, slope, relSd };
}

/**
 * Relative spread of runs around the profiled median, taking the runs as lognormal with that median and p90:
 * the root mean square of (run / median − 1). For tight stages this is the log-space spread itself; for
 * heavy-tailed ones (image decoding, the first runs after a pause) it is larger, as their slow runs are.
 */
function relSdOf(s: LatencyStats): number {
  if (s.p50 <= 0) return MIN_REL_SD;
  // The p90 of a handful of runs is their slowest: one stray run (26 ms among six of 12-16 ms on the edge's
  // recogniser) would double every prediction's p95. With the runs kept, the second slowest stands for it; a tail
  // that is really there (a CPU quota's 100 ms periods on the phone) shows in more than one run. Capped as well.
  const runs = s.samples;
  let p90 = s.p90;
  if (runs !== undefined && runs.length >= STRAY_MIN_RUNS) {
    let first = -Infinity;
    let second = -Infinity;
    for (const r of runs) {
      if (r > first) [first, second] = [r, first];
      else if (r > second) second = r;
    }
    if (second < p90) p90 = second;
  }
  const sigma = Math.min(MAX_SIGMA, Math.log(Math.max(p90, s.p50) / s.p50) / Z90);
  const v = sigma * sigma;
  return Math.sqrt(Math.max(0, Math.exp(2 * v) - 2 * Math.exp(v / 2) + 1));
}

/**
 * Speed factor shared by the stages of one location: the weighted median of recent runs' actual / profiled ratio,
 * over every stage (median of ratios: one slow run, or a slow warm-up, cannot hold it high), with a robust spread
 * (1.4826 × the weighted median absolute deviation) that says how far this location's stages scatter around it.
 */
export class LocationGain {
  lnGain = 0;
  /** Runs seen (weak ones included). */
  count = 0;
  /** Log-space spread of the runs around lnGain (0 until two runs were seen). */
  sdLn = 0;
  private readonly ln = new Float64Array(LOCATION_WINDOW);
  private readonly w = new Float64Array(LOCATION_WINDOW);
  private n = 0;
  private next = 0;
  private readonly order: number[] = [];
  private readonly dev = new Float64Array(LOCATION_WINDOW);

  /** One run's actual / profiled ratio; `weight` < 1 for a weak run. */
  add(ratio: number, weight = 1): void {
    if (!(ratio > 0) || !Number.isFinite(ratio) || !(weight > 0)) return;
    this.ln[this.next] = Math.log(ratio);
    this.w[this.next] = weight;
    this.next = (this.next + 1) % LOCATION_WINDOW;
    if (this.n < LOCATION_WINDOW) this.n++;
    this.count++;
    const median = this.weightedMedian(this.ln);
    for (let i = 0; i < this.n; i++) this.dev[i] = Math.abs(this.ln[i] - median);
    this.sdLn = this.n > 1 ? 1.4826 * this.weightedMedian(this.dev) : 0;
    // Shrunk towards the profile by the evidence: a lone weak warm-up moves it a fifth of the way, real runs take over.
    let total = 0;
    for (let i = 0; i < this.n; i++) total += this.w[i];
    this.lnGain = (median * total) / (total + LOCATION_PRIOR_WEIGHT);
  }

  /** Restores a kept speed as one sample of `count` runs' weight (capped: a new session may run beside other work). */
  restore(lnGain: number, count: number, sdLn = 0): void {
    this.n = 0;
    this.next = 0;
    this.count = 0;
    // Stored shrunk: undo the shrinkage of one sample of this weight so the restored speed is the stored one.
    const w = Math.min(4, count);
    this.add(Math.exp((lnGain * (w + LOCATION_PRIOR_WEIGHT)) / w), w);
    this.count = count;
    this.sdLn = Number.isFinite(sdLn) && sdLn > 0 ? sdLn : 0;
  }

  private weightedMedian(v: Float64Array): number {
    const o = this.order;
    o.length = 0;
    let total = 0;
    for (let i = 0; i < this.n; i++) {
      o.push(i);
      total += this.w[i];
    }
    o.sort((a, b) => v[a] - v[b]);
    let acc = 0;
    for (let j = 0; j < o.length; j++) {
      acc += this.w[o[j]];
      if (acc >= total / 2) {
        // Exactly half the weight below: the midpoint with the next, as an unweighted median of an even count.
        if (acc === total / 2 && j + 1 < o.length) return (v[o[j]] + v[o[j + 1]]) / 2;
        return v[o[j]];
      }
    }
    return 0;
  }

  get gain(): number {
    return Math.exp(this.lnGain);
  }
}

/** What a fit has learnt, as plain data (to keep across sessions). */
export interface LatencyFit {
  gain: number;
  offset: number;
  /** Covariance of (gain, offset): p00, p01, p11. */
  p: [number, number, number];
  relVar: number;
  count: number;
}

export class LatencyModel {
  gain = 1;
  offset = 0;
  /** Covariance of (gain, offset). */
  p00: number;
  p01 = 0;
  p11: number;
  /** Running mean of squared relative residuals. */
  relVar: number;
  count = 0;

  constructor(
    readonly seed: SeedLine,
    readonly prior: GainPrior,
    readonly location: LocationGain | null = null,
  ) {
    this.p00 = prior.gainSd * prior.gainSd;
    this.p11 = prior.offsetSd * prior.offsetSd;
    this.relVar = seed.relSd * seed.relSd;
  }

  seedAt(x: number): number {
    const s = this.seed.intercept + this.seed.slope * x;
    return s > MIN_MS ? s : MIN_MS;
  }

  /** The location's speed factor (1 without a location). */
  private locationGain(): number {
    return this.location !== null ? this.location.gain : 1;
  }

  /** The stage's speed factor against its profile: the location's, times what this stage learnt on its own. */
  effectiveGain(): number {
    return this.locationGain() * this.gain;
  }

  mean(x: number): number {
    const s = this.seedAt(x);
    const m = this.effectiveGain() * s + this.offset;
    return m > MIN_MS ? m : MIN_MS;
  }

  /** Run-to-run spread (independent between stages), in ms, at a predicted mean `m`. */
  noiseSd(m: number): number {
    return m * Math.sqrt(this.relVar);
  }

  /** Spread from not knowing the parameters yet, in ms (correlated across the stages of one location). */
  paramSd(x: number): number {
    const s = this.locationGain() * this.seedAt(x);
    const inv = 1 / s;
    const v = this.p00 + 2 * this.p01 * inv + this.p11 * inv * inv;
    const own = v > 0 ? v : 0;
    // No run of its own yet: the location's speed, widened by how far its stages scatter around it.
    const sd = this.count === 0 && this.location !== null && this.location.count > 0 ? this.location.sdLn : 0;
    return s * Math.sqrt(own + sd * sd);
  }

  /**
   * One observed run at size x. Returns the relative error of the prediction made before the update.
   * `weak`: a run that says little about real requests (see the header): clipped, counted with a large spread.
   */
  update(x: number, actualMs: number, weak = false): number {
    if (!(actualMs >= 0) || !Number.isFinite(actualMs)) return NaN;
    const seed = this.seedAt(x);
    const predicted = this.mean(x);
    const rel = (actualMs - predicted) / predicted;
    const measured = weak ? Math.min(actualMs, WEAK_MAX_RATIO * predicted) : actualMs;
    // The location learns first, so the stage's own fit learns only what this run says beyond the location's speed
    // (fitted against the older speed, a first run would move both and be counted twice).
    // Other work beside a weak run can only slow it down: one faster than predicted is as telling as a real run; a
    // slower one is a sliver of evidence while the location has little else, and none once it has a few runs.
    if (!weak || measured <= predicted) this.location?.add(measured / seed, 1);
    else if (this.location !== null && this.location.count < HUBER_AFTER) this.location.add(measured / seed, WEAK_LOCATION_WEIGHT);
    // A weak run says how fast the location is, a little; nothing about how this stage differs from it.
    if (weak && this.location !== null) return rel;
    // Without a location the same rule holds for the stage itself: a weak run faster than predicted is a real run,
    // a slower one a sliver of evidence while the fit has seen little else, and nothing after (six other requests
    // beside a reply say nothing about the idle edge's recogniser).
    if (weak && measured <= predicted) weak = false;
    else if (weak && this.count >= HUBER_AFTER) return rel;
    const s = this.locationGain() * seed;
    // Regression on y = actual/s with regressors (1, 1/s).
    const y = measured / s;
    const f0 = 1;
    const f1 = 1 / s;
    const yhat = this.gain * f0 + this.offset * f1;
    const g = yhat > MIN_MS / s ? yhat : MIN_MS / s;
    // A weak run counts as a quarter of a real one, with its own spread on top.
    let r = (weak ? this.relVar / WEAK_LOCATION_WEIGHT + WEAK_REL_SD * WEAK_REL_SD : this.relVar) * g * g;
    const pf0 = this.p00 * f0 + this.p01 * f1;
    const pf1 = this.p01 * f0 + this.p11 * f1;
    const e = y - yhat;
    if (this.count >= HUBER_AFTER) {
      // Huber: an innovation beyond K predictive spreads counts as one at K (its measurement spread grows by |z|/K).
      const z = Math.abs(e) / Math.sqrt(LAMBDA * r + f0 * pf0 + f1 * pf1);
      if (z > HUBER_K) r *= z / HUBER_K;
    }
    const denom = LAMBDA * r + f0 * pf0 + f1 * pf1;
    const k0 = pf0 / denom;
    const k1 = pf1 / denom;
    const before = this.gain;
    this.gain += k0 * e;
    this.offset += k1 * e;
    if (this.gain < 0.01) this.gain = 0.01;
    this.p00 = (this.p00 - k0 * pf0) / LAMBDA;
    this.p01 = (this.p01 - k0 * pf1) / LAMBDA;
    this.p11 = (this.p11 - k1 * pf1) / LAMBDA;
    // The speed factor is uncertain in relative terms (±10 % of 4 is not ±10 % of 1): keep its variance
    // proportional to its square, or a first big correction would leave it falsely certain.
    const f = this.gain / before;
    this.p00 *= f * f;
    this.p01 *= f;
    this.capCovariance();
    // The noise level is learnt from what the updated fit still cannot explain, so a first surprise (a phone
    // four times slower than the profile) moves the gain instead of being mistaken for jitter.
    if (!weak) {
      const after = this.gain * s + this.offset;
      const post = Math.max(-3, Math.min(3, (actualMs - after) / (after > MIN_MS ? after : MIN_MS)));
      this.relVar += NOISE_GAIN * (post * post - this.relVar);
      if (this.relVar < MIN_REL_SD * MIN_REL_SD) this.relVar = MIN_REL_SD * MIN_REL_SD;
    }
    this.count++;
    return rel;
  }

  exportFit(): LatencyFit {
    return { gain: this.gain, offset: this.offset, p: [this.p00, this.p01, this.p11], relVar: this.relVar, count: this.count };
  }

  importFit(f: LatencyFit): void {
    if (!(f.gain > 0) || !Number.isFinite(f.offset) || !(f.relVar > 0) || f.p.length !== 3 || !f.p.every(Number.isFinite)) return;
    this.gain = f.gain;
    this.offset = f.offset;
    [this.p00, this.p01, this.p11] = f.p;
    this.relVar = f.relVar;
    this.count = f.count;
    this.capCovariance();
  }

  private capCovariance(): void {
    const max00 = (this.prior.gainSd * this.gain) ** 2;
    const max11 = this.prior.offsetSd * this.prior.offsetSd;
    if (this.p00 > max00) {
      this.p01 *= Math.sqrt(max00 / this.p00);
      this.p00 = max00;
    }
    if (this.p11 > max11) {
      this.p01 *= Math.sqrt(max11 / this.p11);
      this.p11 = max11;
    }
    const lim = Math.sqrt(this.p00 * this.p11);
    if (this.p01 > lim) this.p01 = lim;
    else if (this.p01 < -lim) this.p01 = -lim;
  }
}
