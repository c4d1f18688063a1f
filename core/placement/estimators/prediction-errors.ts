/** Absolute percentage errors of predictions against what happened, per policy and stage, for MAPE and plots. */

const RECENT = 256;

export interface ErrorSeries {
  count: number;
  sumApe: number;
  /** Most recent absolute percentage errors (ring buffer, fractions: 0.1 = 10 %). */
  recent: Float64Array;
}

export class PredictionErrors {
  private readonly series = new Map<string, ErrorSeries>();

  record(key: string, predictedMs: number, actualMs: number): number {
    if (!(actualMs > 0) || !Number.isFinite(predictedMs)) return NaN;
    const ape = Math.abs(predictedMs - actualMs) / actualMs;
    let s = this.series.get(key);
    if (s === undefined) {
      s = { count: 0, sumApe: 0, recent: new Float64Array(RECENT) };
      this.series.set(key, s);
    }
    s.recent[s.count % RECENT] = ape;
    s.count++;
    s.sumApe += ape;
    return ape;
  }

  /** Mean absolute percentage error over everything recorded under `key` (NaN when nothing was). */
  mape(key: string): number {
    const s = this.series.get(key);
    return s && s.count > 0 ? s.sumApe / s.count : NaN;
  }

  get(key: string): ErrorSeries | undefined {
    return this.series.get(key);
  }

  keys(): string[] {
    return [...this.series.keys()];
  }
}
