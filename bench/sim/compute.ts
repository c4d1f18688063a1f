/**
 * Compute latencies drawn from the profiles' distributions: per stage, the p50 and p90 are interpolated in the
 * stage's size (linearly between profiled points, through the origin from a single point) and a draw is
 * lognormal with that median and p90 (or, when at least five raw runs were kept at the profiled size closest to
 * x, the run at the same quantile relative to that size's median, scaled to x). One standard-normal draw per stage and request is shared by every plan, so plans are compared on the
 * same realised runs.
 */
import type { LatencyStats, Location, Profiles, ProfiledStage, RuntimeProfile, StageProfile } from '../../core/profiles';
import { simError } from './traces';

const Z90 = 1.2815515655446004;

interface Curve {
  xs: number[];
  /** log(xs), for picking the nearest profiled size. */
  lxs: number[];
  p50: number[];
  p90: number[];
  /** Per point: its raw runs relative to its p50, sorted (null where fewer than MIN_SAMPLES runs were kept). */
  rel: (number[] | null)[];
  once: boolean;
}

export class ComputeSampler {
  /** location → stage → model id ('' for model-independent stages): nested so a draw builds no key string. */
  private readonly curves: Record<Location, Map<string, Map<string, Curve>>> = { device: new Map(), edge: new Map() };
  readonly deviceRuntime: { backend: string; threads: number; id: string; cpuThrottle: number };
  readonly edgeRuntime: { id: string; backend: string; threads: number };

  constructor(profiles: Profiles, choice: RuntimeChoice = {}) {
    const device = pickRuntime(profiles, 'device', choice.device);
    const edge = pickRuntime(profiles, 'edge', choice.edge);
    this.deviceRuntime = { backend: device.backend, threads: device.threads, id: device.id, cpuThrottle: device.cpuThrottle ?? 1 };
    this.edgeRuntime = { id: edge.id, backend: edge.backend, threads: edge.threads };
    for (const r of [device, edge]) {
      for (const s of r.stages) {
        const byStage = this.curves[r.location];
        let byModel = byStage.get(s.stage);
        if (byModel === undefined) byStage.set(s.stage, (byModel = new Map()));
        byModel.set(s.model ?? '', curveOf(s));
      }
    }
  }

  private curve(where: Location, stage: string, model: string | undefined): Curve | undefined {
    return this.curves[where].get(stage)?.get(model ?? '');
  }

  has(where: Location, stage: ProfiledStage, model?: string): boolean {
    return this.curve(where, stage, model) !== undefined;
  }

  /** Median latency at size x (0 when the stage is not profiled there: it costs nothing measurable). */
  median(where: Location, stage: ProfiledStage, model: string | undefined, x: number): number {
    const c = this.curve(where, stage, model);
    return c ? at(c, c.p50, x) : 0;
  }

  /** One run of `stage` at size x for the standard-normal draw z. */
  draw(where: Location, stage: ProfiledStage, model: string | undefined, x: number, z: number): number {
    const c = this.curve(where, stage, model);
    if (!c || x <= 0) return 0;
    const p50 = at(c, c.p50, x);
    const rel = c.rel.length === 1 ? c.rel[0] : c.rel[nearest(c.lxs, x)];
    if (rel !== null) {
      const u = normCdf(z);
      const k = Math.min(rel.length - 1, Math.max(0, Math.floor(u * rel.length)));
      return p50 * rel[k];
    }
    const p90 = Math.max(p50, at(c, c.p90, x));
    const sigma = p50 > 0 ? Math.log(p90 / p50) / Z90 : 0;
    return p50 * Math.exp(sigma * z);
  }
}

/** Runtime ids to draw from; by default the profiles' own defaults (see pickRuntime). */
export interface RuntimeChoice {
  device?: string;
  edge?: string;
}

/**
 * The runtime a location's latencies are drawn from: the one asked for; else `defaults.deviceRuntime` /
 * `defaults.edgeRuntime`; else, on the device, a phone-class runtime (4× CPU throttle) and on the edge an
 * onnxruntime-node runtime (what the server runs); else the first of that location.
 */
export function pickRuntime(profiles: Profiles, where: Location, id?: string): RuntimeProfile {
  const all = profiles.runtimes.filter((r) => r.location === where);
  if (id !== undefined) {
    const r = all.find((x) => x.id === id);
    if (!r) throw simError('SimBadArgument', `no ${where} runtime "${id}" in the profiles (have: ${all.map((x) => x.id).join(', ') || 'none'})`);
    return r;
  }
  if (all.length === 0) throw simError('SimProfilesIncomplete', `profiles have no ${where} runtime to draw ${where} latencies from`);
  const named = where === 'device' ? profiles.defaults.deviceRuntime : profiles.defaults.edgeRuntime;
  const byDefault = all.find((r) => r.id === named);
  if (byDefault) return byDefault;
  const typical = where === 'device' ? all.find((r) => (r.cpuThrottle ?? 1) === 4) : all.find((r) => r.backend === 'ort-node');
  return typical ?? all[0];
}

function curveOf(s: StageProfile): Curve {
  const pts = [...s.points].sort((a, b) => a.x - b.x);
  return {
    xs: pts.map((p) => p.x),
    lxs: pts.map((p) => Math.log(Math.max(p.x, 1e-9))),
    p50: pts.map((p) => p.stats.p50),
    p90: pts.map((p) => p.stats.p90),
    rel: pts.map((p) => samplesRelative(p.stats)),
    once: s.unit === 'once',
  };
}

/** Raw runs needed before they are resampled instead of the lognormal through p50 and p90. */
const MIN_SAMPLES = 5;

/**
 * A point's runs relative to its own median. Runs are not pooled across points: a stray slow run at one size
 * (say, a first run at the smallest input) says nothing about the others.
 */
function samplesRelative(stats: LatencyStats): number[] | null {
  if (!stats.samples || stats.samples.length < MIN_SAMPLES || !(stats.p50 > 0)) return null;
  return stats.samples.map((v) => v / stats.p50).sort((a, b) => a - b);
}

/** Index of the profiled point closest to x in log scale (sizes span orders of magnitude); `lxs` are log sizes. */
function nearest(lxs: number[], x: number): number {
  let best = 0;
  let bestD = Infinity;
  const lx = Math.log(Math.max(x, 1e-9));
  for (let i = 0; i < lxs.length; i++) {
    const d = Math.abs(lxs[i] - lx);
    if (d < bestD) {
      bestD = d;
      best = i;
    }
  }
  return best;
}

/** Linear in x through the points; one point: proportional to x (a fixed cost for `once` stages). */
function at(c: Curve, ys: number[], x: number): number {
  const xs = c.xs;
  if (c.once) return ys[0];
  if (xs.length === 1) return xs[0] > 0 ? (ys[0] * x) / xs[0] : ys[0];
  let i = 0;
  while (i < xs.length - 2 && x > xs[i + 1]) i++;
  const x0 = xs[i];
  const x1 = xs[i + 1];
  const y = ys[i] + ((ys[i + 1] - ys[i]) * (x - x0)) / (x1 - x0);
  return Math.max(0, y);
}

export function normCdf(z: number): number {
  // Abramowitz–Stegun 7.1.26 on erf.
  const t = 1 / (1 + 0.3275911 * (Math.abs(z) / Math.SQRT2));
  const y = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-(z * z) / 2);
  return z >= 0 ? 0.5 * (1 + y) : 0.5 * (1 - y);
}
