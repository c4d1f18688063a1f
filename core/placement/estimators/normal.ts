/** Normal-distribution helpers for combining stage latencies: cheap closed forms, no allocation. */

/** z of the one-sided 95th percentile. */
export const Z95 = 1.6448536269514722;
/** z of the 97.5th percentile: two branches each at p97.5 bound the p95 of their maximum by the union bound. */
export const Z975 = 1.959963984540054;
/** z of the 90th percentile (LayerCake's latency quantile). */
export const Z90 = 1.2815515655446004;

export function normPdf(z: number): number {
  return 0.3989422804014327 * Math.exp(-0.5 * z * z);
}

/** Φ(z), |error| < 1.5e-7 (Abramowitz & Stegun 7.1.26 on erf). */
export function normCdf(z: number): number {
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * x);
  const y = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-x * x);
  return z >= 0 ? 0.5 * (1 + y) : 0.5 * (1 - y);
}

/** Φ⁻¹(p) (Acklam's rational approximation, relative error < 1.2e-9). */
export function normInv(p: number): number {
  if (p <= 0) return -Infinity;
  if (p >= 1) return Infinity;
  const a = [-39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716, 2.506628277459239];
  const b = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572];
  const c = [-0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const lo = 0.02425;
  if (p < lo) {
    const q = Math.sqrt(-2 * Math.log(p));
    return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  }
  if (p > 1 - lo) {
    const q = Math.sqrt(-2 * Math.log(1 - p));
    return -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  }
  const q = p - 0.5;
  const r = q * q;
  return ((((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q) / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
}

/**
 * E[max(A, B)] for independent normals (Clark 1961). Non-decreasing in both means and both spreads, which keeps
 * "a faster link never predicts a slower plan" true for concurrent branches.
 */
export function expectedMax(m1: number, s1: number, m2: number, s2: number): number {
  const theta = Math.sqrt(s1 * s1 + s2 * s2);
  if (theta < 1e-9) return m1 > m2 ? m1 : m2;
  const alpha = (m1 - m2) / theta;
  return m1 * normCdf(alpha) + m2 * normCdf(-alpha) + theta * normPdf(alpha);
}

/** P(A < B) for independent normals. */
export function probLess(m1: number, s1: number, m2: number, s2: number): number {
  const theta = Math.sqrt(s1 * s1 + s2 * s2);
  if (theta < 1e-9) return m1 < m2 ? 1 : m1 === m2 ? 0.5 : 0;
  return normCdf((m2 - m1) / theta);
}

/** Nearest-rank percentile of the first `n` values of `values` (sorted copy; for tests and baselines, not hot paths). */
export function percentile(values: ArrayLike<number>, n: number, p: number): number {
  if (n <= 0) return NaN;
  const sorted = Array.from({ length: n }, (_, i) => values[i]).sort((a, b) => a - b);
  return sorted[Math.min(n - 1, Math.max(0, Math.ceil(p * n) - 1))];
}
