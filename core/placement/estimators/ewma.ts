/** Exponentially weighted mean and variance (West's incremental form), starting from a prior. */
export class Ewma {
  mean: number;
  variance: number;
  count = 0;

  constructor(
    readonly alpha: number,
    prior: { mean: number; sd: number },
    /** Let the first samples outweigh the prior (1/(n+1+priorWeight) until that falls below alpha). */
    readonly warmStart = true,
    /** How many samples the prior counts as while warming up (0: the first sample replaces it). */
    readonly priorWeight = 1,
  ) {
    this.mean = prior.mean;
    this.variance = prior.sd * prior.sd;
  }

  add(x: number): void {
    if (!Number.isFinite(x)) return;
    // The first few samples count more, so one real observation outweighs the prior quickly.
    const a = this.warmStart ? Math.max(this.alpha, 1 / (this.count + 1 + this.priorWeight)) : this.alpha;
    const d = x - this.mean;
    this.mean += a * d;
    this.variance = (1 - a) * (this.variance + a * d * d);
    this.count++;
  }

  get sd(): number {
    return Math.sqrt(this.variance);
  }
}
