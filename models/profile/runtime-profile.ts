/**
 * Times every model of the plan on one runtime through a small driver interface, so onnxruntime-node in this
 * process and onnxruntime-web in a Chromium page are measured the same way.
 */
import type { LatencyPoint, RuntimeProfile, StageProfile } from '../../core/profiles';
import { firstRunDims, shapesOf, type LatencyPlan } from './latency-plan';
import { firstRunExtra, latencyStats } from './stats';

export interface ModelDriver {
  /** Creates (or re-creates) the model's session; returns milliseconds. */
  create(path: string): Promise<number>;
  /** `warmup` untimed then `reps` timed runs at one input shape. */
  run(path: string, dims: number[], warmup: number, reps: number): Promise<number[]>;
  release(path: string): Promise<void>;
  /** Warm-up of each, then `reps` rounds of one timed run per model, in one call (samples per model). */
  rounds?(paths: string[], dims: number[], warmup: number, reps: number): Promise<number[][]>;
}

/**
 * Per role, every variant's session is created (timed, each creation followed by a cold run), then each input
 * shape is timed round-robin across the variants, one run at a time, so load changes on a shared machine hit
 * every variant alike and their ratios stay fair.
 */
export async function profileModels(driver: ModelDriver, plan: LatencyPlan, log: (line: string) => void): Promise<StageProfile[]> {
  const stages: StageProfile[] = [];
  for (const role of ['det', 'rec', 'cls'] as const) {
    const models = plan.models.filter((m) => m.role === role);
    const ref = firstRunDims(plan, role);
    const creates = new Map<string, number[]>();
    const firsts = new Map<string, number[]>();
    for (const m of models) {
      for (let k = 0; k < plan.creates; k++) {
        (creates.get(m.id) ?? creates.set(m.id, []).get(m.id)!).push(await driver.create(m.path));
        (firsts.get(m.id) ?? firsts.set(m.id, []).get(m.id)!).push((await driver.run(m.path, ref.dims, 0, 1))[0]);
      }
    }
    const points = new Map<string, LatencyPoint[]>(models.map((m) => [m.id, []]));
    for (const { x, dims } of shapesOf(plan, role)) {
      const samples = new Map<string, number[]>(models.map((m) => [m.id, []]));
      if (driver.rounds) {
        const got = await driver.rounds(
          models.map((m) => m.path),
          dims,
          plan.warmup,
          plan.reps,
        );
        models.forEach((m, k) => samples.set(m.id, got[k]));
      } else {
        for (const m of models) await driver.run(m.path, dims, plan.warmup, 0);
        for (let i = 0; i < plan.reps; i++) {
          for (const m of models) samples.get(m.id)!.push((await driver.run(m.path, dims, 0, 1))[0]);
        }
      }
      for (const m of models) points.get(m.id)!.push({ x, stats: latencyStats(samples.get(m.id)!) });
    }
    for (const m of models) {
      await driver.release(m.path);
      const pts = points.get(m.id)!;
      const warm = pts.find((p) => p.x === ref.x)?.stats ?? pts[0].stats;
      stages.push({ stage: role, model: m.id, unit: role === 'det' ? 'det-pixels' : 'lines', points: pts });
      stages.push({ stage: 'create', model: m.id, unit: 'once', points: [{ x: 1, stats: latencyStats(creates.get(m.id)!) }] });
      stages.push({
        stage: 'first-run-extra',
        model: m.id,
        unit: 'once',
        points: [{ x: 1, stats: latencyStats(firsts.get(m.id)!.map((f) => firstRunExtra(f, warm))) }],
      });
      log(
        `    ${m.id}: create ${creates
          .get(m.id)!
          .map((c) => c.toFixed(0))
          .join('/')} ms, ${pts.map((p) => `${p.x}→${p.stats.p50.toFixed(1)}`).join(' ')}`,
      );
    }
  }
  return stages;
}

export function runtimeProfile(
  id: string,
  location: 'device' | 'edge',
  backend: string,
  threads: number,
  cpuThrottle: number,
  stages: StageProfile[],
  initMs?: number[],
): RuntimeProfile {
  return { id, location, backend, threads, cpuThrottle, ...(initMs ? { initMs: latencyStats(initMs) } : {}), stages };
}
