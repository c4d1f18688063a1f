/**
 * Trace-driven replay: for each trace and budget, every policy runs its own session (fresh estimator state, its own
 * device history) through the same requests, arrivals and compute draws, deciding with the real planner and
 * learning from the simulated outcomes with the real observe(). The oracle sees each request's realised result for
 * every plan and takes the best one in hindsight.
 */
import {
  canRedecideRecognition,
  createEstimatorState,
  createPolicy,
  decide,
  decideRecognition,
  withRecognition,
  DEFAULT_OPTIONS,
  observe,
  type KnownPolicy,
  type NetInfoReading,
  type Observation,
  type Plan,
  type RttSample,
  type ThroughputSample,
} from '../../core/placement';
import type { Profiles } from '../../core/profiles';
import { ComputeSampler, type RuntimeChoice } from './compute';
import { deviceDetectionEnd, type Draws, drawFor, type Run, runPlan } from './execute';
import type { SimImage } from './images';
import { isCellular, type LinkTrace, rttAt } from './traces';
import { mulberry32 } from '../../test-support/random';

export const SIM_POLICIES = ['tandem', 'device', 'edge', 'layercake', 'pieslicer'] as const satisfies readonly KnownPolicy[];
export const ORACLE = 'oracle';
export type SimPolicy = (typeof SIM_POLICIES)[number] | typeof ORACLE;

export interface SimOptions {
  budgets: number[];
  /** Mean request rate (per second) before the per-trace bound. */
  ratePerS: number;
  maxRequestsPerTrace: number;
  seed: number;
  /** How often the page polls /v1/status (its RTT probe), ms. */
  probeEveryMs: number;
  /**
   * Bytes of the page's uplink probe (POST /v1/probe) sent when it joins a network, i.e. at the start of each
   * trace; 0 for none.
   */
  uplinkProbeBytes?: number;
  /** User's cost weight (0..1) handed to the planner. */
  costWeight: number;
  /**
   * Network Information readings in observations: `none` (Safari, Firefox), or `chrome`: downlink as Chromium
   * reports it (recent mean downlink rounded to 25 kbit/s and capped at 10 Mbit/s, RTT rounded to 25 ms, effective
   * type from those). Chromium estimates from its own traffic; the trace's true rate is an optimistic stand-in.
   */
  netInfo?: 'none' | 'chrome';
  /** Runtimes compute latencies are drawn from (default: the profiles' defaults, see pickRuntime). */
  runtimes?: RuntimeChoice;
}

/** One request's result under one policy. */
export interface RequestRecord {
  trace: string;
  totalMs: number;
  met: boolean;
  accuracy: number;
  edgeMs: number;
  cellularBytes: number;
  policyApe: number;
  planId: string;
  kind: Plan['kind'];
  race: boolean;
  /** Where the result came from (a race's winner). */
  winner: 'device' | 'edge';
  /** True/false when the plan uploads the whole image (re-encoded on the device or not), null otherwise. */
  preprocessOnDevice: boolean | null;
  /**
   * For plans that upload the whole image: whether preparing it on the device (the fastest re-encode of the same
   * configuration) was faster in hindsight than uploading the original (PieSlicer's decision, judged by latency).
   */
  preprocessFaster: boolean | null;
  /**
   * For plans that upload the whole image: the oracle's preprocessing placement for this request and this detector
   * configuration, i.e. the oracle's rule (most accurate run that met the budget, ties to less edge time, then
   * faster; if none met, the fastest) over the realised runs of every upload of that configuration; true when it
   * is a re-encode prepared on the device.
   */
  preprocessOracle: boolean | null;
  /** For plans that upload the whole image: realised time of uploading the original (same configuration) instead. */
  preprocessOriginalMs: number | null;
  /** The planner's p95 for the chosen plan (NaN for the oracle), and whether it was predicted to fit the budget. */
  predictedP95Ms: number;
  predictedFits: boolean;
  /** The plan's recognition placement changed after device detection counted the lines. */
  recognitionRedecided: boolean;
  /** Text lines of the image, and the lines the planner expected before running it (NaN for the oracle). */
  lines: number;
  predictedLines: number;
  /** For concurrent plans (split recognition, a race whose device run started): best single-location time / this time. */
  concurrencySpeedup: number | null;
}

export interface SimResult {
  /** policy → budget → records (in trace and arrival order, aligned across policies). */
  records: Map<SimPolicy, Map<number, RequestRecord[]>>;
  /** Best concurrent plan vs best single-location plan in hindsight, per request (the room concurrency leaves). */
  potentialSpeedups: number[];
  requests: number;
  traces: number;
  /** Runtimes the compute latencies were drawn from. */
  runtimes: { device: string; edge: string };
}

function hash(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return h >>> 0;
}

interface Arrival {
  t: number;
  image: SimImage;
  draws: Draws;
}

/** Requests of one trace: a Poisson stream over its length, at most `max` (conditioned on the count: uniform times). */
export function arrivalsFor(trace: LinkTrace, images: readonly SimImage[], opts: SimOptions): Arrival[] {
  const rnd = mulberry32(hash(trace.name) ^ opts.seed);
  const expected = (trace.durationMs / 1000) * opts.ratePerS;
  let n = 0;
  // Poisson count, then capped.
  const l = Math.exp(-Math.min(expected, 500));
  if (expected <= 500) {
    let p = 1;
    do {
      n++;
      p *= rnd();
    } while (p > l);
    n -= 1;
  } else n = Math.round(expected);
  n = Math.max(1, Math.min(opts.maxRequestsPerTrace, n));
  const times = Array.from({ length: n }, () => rnd() * trace.durationMs).sort((a, b) => a - b);
  return times.map((t) => ({ t, image: images[Math.floor(rnd() * images.length)], draws: drawFor(rnd) }));
}

function probes(trace: LinkTrace, opts: SimOptions, untilMs: number, out: RttSample[]): RttSample[] {
  out.length = 0;
  const last = Math.floor(untilMs / opts.probeEveryMs);
  for (let k = Math.max(0, last - 7); k <= last; k++) {
    const at = k * opts.probeEveryMs;
    out.push({ atMs: at, rttMs: rttAt(trace, at) });
  }
  return out;
}

export function chromeNetInfo(trace: LinkTrace, atMs: number): NetInfoReading {
  // Mean downlink over the last 10 s.
  let sum = 0;
  for (let k = 1; k <= 10; k++) sum += trace.down.rateAt(atMs - k * 1000);
  const kbps = Math.min(10_000, Math.round(sum / 10 / 25) * 25);
  const rtt = Math.round(rttAt(trace, atMs) / 25) * 25;
  const effectiveType = rtt >= 2000 || kbps <= 50 ? 'slow-2g' : rtt >= 1400 || kbps <= 70 ? '2g' : rtt >= 270 || kbps <= 700 ? '3g' : '4g';
  return { downlinkMbps: kbps / 1000, rttMs: rtt, effectiveType, saveData: false };
}

/** The page's uplink probe on joining the link: one upload sample, known once its reply is back. */
export function uplinkProbe(trace: LinkTrace, bytes: number): ThroughputSample | null {
  if (!(bytes > 0)) return null;
  const rtt = rttAt(trace, 0);
  const upMs = trace.up.transferMs(0, bytes);
  if (!Number.isFinite(upMs)) return null;
  const elapsedMs = rtt + upMs + PROBE_SERVER_MS;
  return { atMs: elapsedMs, direction: 'up', bytes, elapsedMs, serverMs: PROBE_SERVER_MS };
}

/** Server time of the probe route (reads and discards the body). */
const PROBE_SERVER_MS = 1;

function observation(
  trace: LinkTrace,
  sampler: ComputeSampler,
  profiles: Profiles,
  a: Arrival,
  budgetMs: number,
  busyMs: number,
  rtt: RttSample[],
  opts: SimOptions,
  probe: ThroughputSample | null,
): Observation {
  const costWeight = opts.costWeight;
  return {
    nowMs: a.t,
    netInfo: opts.netInfo === 'chrome' ? chromeNetInfo(trace, a.t) : undefined,
    online: true,
    connection: isCellular(trace.linkType) ? 'cellular' : trace.linkType === 'broadband' ? 'ethernet' : trace.linkType === 'wifi' ? 'wifi' : 'unknown',
    networkId: trace.name,
    rtt,
    throughput: probe !== null && probe.atMs <= a.t ? [probe] : [],
    device: {
      backend: sampler.deviceRuntime.backend,
      threads: sampler.deviceRuntime.threads,
      models: profiles.models.map((m) => ({ model: m.id, state: 'warm' as const })),
      busyMs,
    },
    edge: {},
    request: { bytes: a.image.bytes, width: a.image.width, height: a.image.height, mime: 'image/jpeg', budgetMs },
    preferences: { costWeight, saveData: false, offloadOnCellular: true },
  };
}

function preprocessFlag(plan: Plan): boolean | null {
  return plan.kind === 'edge' && plan.upload !== null ? plan.upload.kind === 'reencode' : null;
}

/** Hindsight references for a plan's preprocessing placement (see RequestRecord.preprocessOracle / preprocessFaster). */
function preprocessRefs(
  ctx: Parameters<typeof runPlan>[0],
  plans: readonly Plan[],
  config: number,
  budgetMs: number,
): { oracle: boolean | null; faster: boolean | null; originalMs: number | null } {
  let original = Infinity;
  let prepared = Infinity;
  const uploads: Plan[] = [];
  const runs: Run[] = [];
  for (const p of plans) {
    if (p.config.index !== config || p.kind !== 'edge' || p.race || p.upload === null) continue;
    const r = runPlan(ctx, p);
    uploads.push(p);
    runs.push(r);
    const t = r.ok ? r.totalMs : Infinity;
    if (p.upload.kind === 'original') original = Math.min(original, t);
    else prepared = Math.min(prepared, t);
  }
  if (uploads.length === 0) return { oracle: null, faster: null, originalMs: null };
  const k = oraclePick(runs, uploads, budgetMs);
  return {
    oracle: k >= 0 ? uploads[k].upload!.kind === 'reencode' : null,
    faster: Number.isFinite(original) || Number.isFinite(prepared) ? prepared < original : null,
    originalMs: original,
  };
}

/** Best single-location plan of the same configuration in hindsight: device only, or the whole request on the edge. */
function bestSingle(ctx: Parameters<typeof runPlan>[0], plans: readonly Plan[], config: number): number {
  let best = Infinity;
  for (const p of plans) {
    if (p.config.index !== config || p.race || (p.kind !== 'device' && p.kind !== 'edge')) continue;
    const r = runPlan(ctx, p);
    if (r.ok && r.totalMs < best) best = r.totalMs;
  }
  return best;
}

/** The oracle's pick among realised runs: most accurate that met the budget (ties by edge, then device time), else the fastest. */
function oraclePick(runs: readonly Run[], plans: readonly Plan[], budgetMs: number): number {
  let bestAcc = -Infinity;
  for (let i = 0; i < runs.length; i++) if (runs[i].ok && runs[i].totalMs <= budgetMs && runs[i].accuracy > bestAcc) bestAcc = runs[i].accuracy;
  let pick = -1;
  if (bestAcc > -Infinity) {
    const floor = bestAcc - DEFAULT_OPTIONS.tieTolerance - 1e-12;
    for (let i = 0; i < runs.length; i++) {
      const r = runs[i];
      if (!r.ok || r.totalMs > budgetMs || r.accuracy < floor) continue;
      if (pick < 0) {
        pick = i;
        continue;
      }
      const b = runs[pick];
      const de = r.edgeMs - b.edgeMs;
      if (de < -0.5 || (Math.abs(de) <= 0.5 && r.totalMs < b.totalMs)) pick = i;
    }
    return pick;
  }
  for (let i = 0; i < runs.length; i++) if (pick < 0 || runs[i].totalMs < runs[pick].totalMs) pick = i;
  return pick;
}

export function simulate(profiles: Profiles, traces: readonly LinkTrace[], images: readonly SimImage[], opts: SimOptions, onTrace?: (i: number, name: string) => void): SimResult {
  const sampler = new ComputeSampler(profiles, opts.runtimes);
  const records = new Map<SimPolicy, Map<number, RequestRecord[]>>();
  for (const p of [...SIM_POLICIES, ORACLE] as SimPolicy[]) records.set(p, new Map(opts.budgets.map((b) => [b, []])));
  const potentialSpeedups: number[] = [];
  let requests = 0;
  const rttBuf: RttSample[] = [];
  // The plan list is the same for every state built from these profiles.
  const plans = createEstimatorState(profiles).space.plans;
  const hindsightPlans = plans.filter((p) => !p.race);

  traces.forEach((trace, ti) => {
    onTrace?.(ti, trace.name);
    const arrivals = arrivalsFor(trace, images, opts);
    requests += arrivals.length;
    const cellular = isCellular(trace.linkType);
    const probe = uplinkProbe(trace, opts.uplinkProbeBytes ?? 0);
    for (const budget of opts.budgets) {
      for (const name of SIM_POLICIES) {
        const state = createEstimatorState(profiles);
        const policy = createPolicy(name);
        let deviceFreeAt = -Infinity;
        const out = records.get(name)!.get(budget)!;
        for (const a of arrivals) {
          const obs = observation(trace, sampler, profiles, a, budget, Math.max(0, deviceFreeAt - a.t), probes(trace, opts, a.t, rttBuf), opts, probe);
          const first = decide(obs, profiles, policy, state);
          const ctx = { profiles, sampler, trace, image: a.image, draws: a.draws, t0: a.t, deviceFreeAt };
          let decision = first;
          if (policy.redecidesRecognition === true && canRedecideRecognition(first)) {
            // Detection ran on the device: decide again where the crops go, with their number known.
            const at = deviceDetectionEnd(ctx, first.plan);
            const now = observation(trace, sampler, profiles, { ...a, t: at }, budget - (at - a.t), 0, probes(trace, opts, at, rttBuf), opts, probe);
            decision = withRecognition(first, decideRecognition(now, profiles, state, first, a.image.lines));
          }
          const fallback = decision.fallback?.plan ?? null;
          const run = runPlan(ctx, decision.plan, decision.plan.race && fallback ? { hedgeAtMs: decision.raceStartAtMs ?? 0, fallback } : undefined);
          const err = observe(state, decision, run.outcome, policy);
          deviceFreeAt = run.deviceFreeAt;
          const refs = preprocessFlag(decision.plan) === null ? null : preprocessRefs(ctx, plans, decision.plan.config.index, budget);
          const concurrent = decision.plan.kind === 'split-rec' || (decision.plan.race && run.totalMs > (decision.raceStartAtMs ?? Infinity));
          let speedup: number | null = null;
          if (concurrent && run.ok) {
            const single = bestSingle(ctx, plans, decision.plan.config.index);
            if (Number.isFinite(single)) speedup = single / run.totalMs;
          }
          out.push({
            trace: trace.name,
            totalMs: run.totalMs,
            met: run.ok && run.totalMs <= budget,
            accuracy: run.ok ? run.accuracy : 0,
            edgeMs: run.edgeMs,
            cellularBytes: cellular ? run.bytes : 0,
            policyApe: err.policyApe,
            planId: decision.plan.id,
            kind: decision.plan.kind,
            race: decision.plan.race,
            winner: run.winner,
            preprocessOnDevice: preprocessFlag(decision.plan),
            preprocessFaster: refs?.faster ?? null,
            preprocessOracle: refs?.oracle ?? null,
            preprocessOriginalMs: refs?.originalMs ?? null,
            predictedP95Ms: decision.predicted.p95Ms,
            predictedFits: decision.fits,
            recognitionRedecided: decision.plan !== first.plan,
            lines: a.image.lines,
            predictedLines: decision.inputs.lines,
            concurrencySpeedup: speedup,
          });
        }
      }
      // Oracle: every plan's realised run for each request, best in hindsight.
      let deviceFreeAt = -Infinity;
      const out = records.get(ORACLE)!.get(budget)!;
      const first = budget === opts.budgets[0];
      for (const a of arrivals) {
        const ctx = { profiles, sampler, trace, image: a.image, draws: a.draws, t0: a.t, deviceFreeAt };
        const runs = hindsightPlans.map((p) => runPlan(ctx, p));
        const k = oraclePick(runs, hindsightPlans, budget);
        const run = runs[k];
        const plan = hindsightPlans[k];
        deviceFreeAt = run.deviceFreeAt;
        if (first) {
          let single = Infinity;
          let conc = Infinity;
          for (let i = 0; i < runs.length; i++) {
            if (!runs[i].ok) continue;
            const p = hindsightPlans[i];
            if (p.kind === 'split-rec') conc = Math.min(conc, runs[i].totalMs);
            else if (p.kind === 'device' || p.kind === 'edge') single = Math.min(single, runs[i].totalMs);
          }
          if (Number.isFinite(single) && Number.isFinite(conc)) potentialSpeedups.push(single / conc);
        }
        out.push({
          trace: trace.name,
          totalMs: run.totalMs,
          met: run.ok && run.totalMs <= budget,
          accuracy: run.ok ? run.accuracy : 0,
          edgeMs: run.edgeMs,
          cellularBytes: cellular ? run.bytes : 0,
          policyApe: NaN,
          planId: plan.id,
          kind: plan.kind,
          race: false,
          winner: run.winner,
          preprocessOnDevice: preprocessFlag(plan),
          preprocessFaster: preprocessFlag(plan) === null ? null : preprocessRefs(ctx, plans, plan.config.index, budget).faster,
          preprocessOracle: preprocessFlag(plan),
          preprocessOriginalMs: null,
          predictedP95Ms: NaN,
          predictedFits: run.ok && run.totalMs <= budget,
          recognitionRedecided: false,
          lines: a.image.lines,
          predictedLines: NaN,
          concurrencySpeedup: null,
        });
      }
    }
  });
  return { records, potentialSpeedups, requests, traces: traces.length, runtimes: { device: sampler.deviceRuntime.id, edge: sampler.edgeRuntime.id } };
}
