/**
 * One policy's session on one link, replayed as events in time order: a request is decided at its arrival, its
 * recognition (Tandem) is decided again when device detection ends, and its outcome reaches observe() when it
 * completes. A decision therefore knows only what had completed by then, as on the page, even when requests overlap.
 *
 * The device runs one request at a time in arrival order. While a request waits for its recognition decision, the
 * device work queued behind it cannot be placed in time yet: it starts once that decision is made. The busy time a
 * decision sees is the device work already queued (for a request still detecting, as first decided).
 */
import {
  canRedecideRecognition,
  createEstimatorState,
  createPolicy,
  decide,
  decideRecognition,
  DEFAULT_OPTIONS,
  observe,
  withRecognition,
  type Decision,
  type KnownPolicy,
  type NetInfoReading,
  type Observation,
  type Plan,
  type Policy,
  type RttSample,
  type ThroughputSample,
} from '../../core/placement';
import type { Profiles } from '../../core/profiles';
import type { ComputeSampler } from './compute';
import { deviceDetectionEnd, type Draws, type RaceRun, type Run, type RunContext, runPlan } from './execute';
import type { SimImage } from './images';
import { isCellular, type LinkTrace, rttAt } from './traces';

/** One request of a session: its arrival on the trace clock, image, compute draws and budget. */
export interface SessionRequest {
  t: number;
  image: SimImage;
  draws: Draws;
  budgetMs: number;
}

/** A call into the placement engine, as the session made it (for checking that the replay is causal). */
export interface EngineCall {
  session: string;
  call: 'decide' | 'observe';
  /** decide: the decision's time; observe: the completion time of the outcome observed. */
  atMs: number;
  request: number;
}

export interface SessionOptions {
  /** How often the page polls /v1/status (its RTT probe), ms. */
  probeEveryMs: number;
  uplinkProbeBytes?: number;
  costWeight: number;
  netInfo?: 'none' | 'chrome';
  onEngineCall?: (call: EngineCall) => void;
}

export interface SessionEnv {
  /** Profiles of the plan space (see simPlanProfiles). */
  profiles: Profiles;
  sampler: ComputeSampler;
  trace: LinkTrace;
  plans: readonly Plan[];
  opts: SessionOptions;
}

/** One request's result under one policy. */
export interface RequestRecord {
  trace: string;
  /** Arrival on the trace clock. */
  arrivalMs: number;
  budgetMs: number;
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
  /** The planner's expected latency and p95 for the chosen plan (NaN for the oracle), and whether it was predicted to fit the budget. */
  predictedMeanMs: number;
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

/** RTT samples of the page's /v1/status polls up to `untilMs` (the last eight). */
function probes(trace: LinkTrace, probeEveryMs: number, untilMs: number, out: RttSample[]): RttSample[] {
  out.length = 0;
  const last = Math.floor(untilMs / probeEveryMs);
  for (let k = Math.max(0, last - 7); k <= last; k++) {
    const at = k * probeEveryMs;
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

/** Server time of the probe route (reads and discards the body). */
const PROBE_SERVER_MS = 1;

/** The page's uplink probe on joining the link: one upload sample, known once its reply is back. */
export function uplinkProbe(trace: LinkTrace, bytes: number): ThroughputSample | null {
  if (!(bytes > 0)) return null;
  const rtt = rttAt(trace, 0);
  const upMs = trace.up.transferMs(0, bytes);
  if (!Number.isFinite(upMs)) return null;
  const elapsedMs = rtt + upMs + PROBE_SERVER_MS;
  return { atMs: elapsedMs, direction: 'up', bytes, elapsedMs, serverMs: PROBE_SERVER_MS };
}

function observation(
  env: SessionEnv,
  probe: ThroughputSample | null,
  atMs: number,
  image: SimImage,
  budgetMs: number,
  busyMs: number,
  rtt: RttSample[],
): Observation {
  const { trace, sampler, profiles, opts } = env;
  return {
    nowMs: atMs,
    netInfo: opts.netInfo === 'chrome' ? chromeNetInfo(trace, atMs) : undefined,
    online: true,
    connection: isCellular(trace.linkType) ? 'cellular' : trace.linkType === 'broadband' ? 'ethernet' : trace.linkType === 'wifi' ? 'wifi' : 'unknown',
    networkId: trace.name,
    rtt,
    throughput: probe !== null && probe.atMs <= atMs ? [probe] : [],
    device: {
      backend: sampler.deviceRuntime.backend,
      threads: sampler.deviceRuntime.threads,
      models: profiles.models.map((m) => ({ model: m.id, state: 'warm' as const })),
      busyMs,
    },
    edge: {},
    request: { bytes: image.bytes, width: image.width, height: image.height, mime: 'image/jpeg', budgetMs },
    preferences: { costWeight: opts.costWeight, saveData: false, offloadOnCellular: true },
  };
}

function preprocessFlag(plan: Plan): boolean | null {
  return plan.kind === 'edge' && plan.upload !== null ? plan.upload.kind === 'reencode' : null;
}

/** Whether a plan occupies the device (and so waits for the device work queued before it). */
function usesDevice(plan: Plan): boolean {
  return plan.kind !== 'edge' || plan.race || plan.upload?.kind === 'reencode';
}

function raceOf(d: Decision): RaceRun | undefined {
  return d.plan.race && d.fallback
    ? { hedgeAtMs: d.raceStartAtMs ?? 0, fallback: d.fallback.plan, expectedLines: d.inputs.lines, budgetMs: d.budgetMs, p95Ms: d.predicted.p95Ms }
    : undefined;
}

/** Hindsight references for a plan's preprocessing placement (see RequestRecord.preprocessOracle / preprocessFaster). */
function preprocessRefs(
  ctx: RunContext,
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
  const k = oraclePick(runs, budgetMs);
  return {
    oracle: k >= 0 ? uploads[k].upload!.kind === 'reencode' : null,
    faster: Number.isFinite(original) || Number.isFinite(prepared) ? prepared < original : null,
    originalMs: original,
  };
}

/** Best single-location plan of the same configuration in hindsight: device only, or the whole request on the edge. */
function bestSingle(ctx: RunContext, plans: readonly Plan[], config: number): number {
  let best = Infinity;
  for (const p of plans) {
    if (p.config.index !== config || p.race || (p.kind !== 'device' && p.kind !== 'edge')) continue;
    const r = runPlan(ctx, p);
    if (r.ok && r.totalMs < best) best = r.totalMs;
  }
  return best;
}

/** The oracle's pick among realised runs: most accurate that met the budget (ties by edge, then device time), else the fastest. */
function oraclePick(runs: readonly Run[], budgetMs: number): number {
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

interface Pending {
  k: number;
  req: SessionRequest;
  first: Decision;
  /** Set when its device work has been placed in time (it is at the head of the device queue). */
  ctx?: RunContext;
}

type NewEvent = { at: number; kind: 'recognition'; p: Pending } | { at: number; kind: 'complete'; p: Pending; decision: Decision; run: Run; ctx: RunContext };
type SessionEvent = NewEvent & { seq: number };

/** Pending events, earliest first (ties in the order they were scheduled). A session holds a handful at a time. */
class EventQueue {
  private readonly items: SessionEvent[] = [];
  private seq = 0;

  push(e: NewEvent): void {
    this.items.push({ ...e, seq: this.seq++ });
  }

  private minIndex(): number {
    let m = -1;
    for (let i = 0; i < this.items.length; i++) {
      const e = this.items[i];
      if (m < 0 || e.at < this.items[m].at || (e.at === this.items[m].at && e.seq < this.items[m].seq)) m = i;
    }
    return m;
  }

  peekAt(): number {
    const m = this.minIndex();
    return m < 0 ? Infinity : this.items[m].at;
  }

  pop(): SessionEvent | undefined {
    const m = this.minIndex();
    return m < 0 ? undefined : this.items.splice(m, 1)[0];
  }

  get size(): number {
    return this.items.length;
  }
}

/** A policy by name, or made for the profiles (the page's fixed modes depend on their defaults). */
export type PolicyChoice = KnownPolicy | ((profiles: Profiles) => Policy);

/**
 * Runs one policy over `requests` (sorted by arrival) with fresh estimator state; records in request order.
 * `session` names the session in engine-call reports.
 */
export function runPolicySession(env: SessionEnv, requests: readonly SessionRequest[], choice: PolicyChoice, session?: string): RequestRecord[] {
  const { profiles, trace, plans } = env;
  const state = createEstimatorState(profiles);
  const policy = typeof choice === 'string' ? createPolicy(choice) : choice(profiles);
  const name = session ?? policy.name;
  const probe = uplinkProbe(trace, env.opts.uplinkProbeBytes ?? 0);
  const cellular = isCellular(trace.linkType);
  const report = env.opts.onEngineCall;
  const rttBuf: RttSample[] = [];
  const out: RequestRecord[] = new Array<RequestRecord>(requests.length);
  const events = new EventQueue();
  /** Decided requests whose device work has not finished being placed, in arrival order. */
  const deviceQueue: Pending[] = [];
  let deviceFreeAt = -Infinity;
  let awaitingRecognition = false;

  const ctxOf = (p: Pending, free: number): RunContext => ({
    profiles,
    sampler: env.sampler,
    trace,
    image: p.req.image,
    draws: p.req.draws,
    t0: p.req.t,
    deviceFreeAt: free,
  });

  const execute = (p: Pending, decision: Decision, ctx: RunContext): Run => {
    const run = runPlan(ctx, decision.plan, raceOf(decision));
    events.push({ at: run.outcome.atMs, kind: 'complete', p, decision, run, ctx });
    return run;
  };

  /** Places queued device work in time until a request must wait for its recognition decision. */
  const pump = () => {
    while (deviceQueue.length > 0 && !awaitingRecognition) {
      const p = deviceQueue[0];
      const ctx = ctxOf(p, deviceFreeAt);
      if (policy.redecidesRecognition === true && canRedecideRecognition(p.first)) {
        p.ctx = ctx;
        awaitingRecognition = true;
        events.push({ at: deviceDetectionEnd(ctx, p.first.plan), kind: 'recognition', p });
        return;
      }
      deviceQueue.shift();
      deviceFreeAt = execute(p, p.first, ctx).deviceFreeAt;
    }
  };

  const busyAt = (t: number): number => {
    let free = deviceFreeAt;
    for (const p of deviceQueue) free = runPlan(p.ctx ?? ctxOf(p, free), p.first.plan, raceOf(p.first)).deviceFreeAt;
    return Math.max(0, free - t);
  };

  const arrive = (k: number) => {
    const req = requests[k];
    const obs = observation(env, probe, req.t, req.image, req.budgetMs, busyAt(req.t), probes(trace, env.opts.probeEveryMs, req.t, rttBuf));
    report?.({ session: name, call: 'decide', atMs: req.t, request: k });
    const first = decide(obs, profiles, policy, state);
    const p: Pending = { k, req, first };
    if (usesDevice(first.plan)) {
      deviceQueue.push(p);
      pump();
    } else execute(p, first, ctxOf(p, deviceFreeAt));
  };

  const recognise = (p: Pending, at: number) => {
    // Detection ran on the device: decide again where the crops go, with their number known.
    const now = observation(env, probe, at, p.req.image, p.req.budgetMs - (at - p.req.t), 0, probes(trace, env.opts.probeEveryMs, at, rttBuf));
    report?.({ session: name, call: 'decide', atMs: at, request: p.k });
    const decision = withRecognition(p.first, decideRecognition(now, profiles, state, p.first, p.req.image.lines));
    deviceQueue.shift();
    awaitingRecognition = false;
    deviceFreeAt = execute(p, decision, p.ctx!).deviceFreeAt;
    pump();
  };

  const complete = (p: Pending, decision: Decision, run: Run, ctx: RunContext) => {
    report?.({ session: name, call: 'observe', atMs: run.outcome.atMs, request: p.k });
    const err = observe(state, decision, run.outcome, policy);
    const budget = p.req.budgetMs;
    const refs = preprocessFlag(decision.plan) === null ? null : preprocessRefs(ctx, plans, decision.plan.config.index, budget);
    const concurrent = decision.plan.kind === 'split-rec' || (decision.plan.race && run.totalMs > (decision.raceStartAtMs ?? Infinity));
    let speedup: number | null = null;
    if (concurrent && run.ok) {
      const single = bestSingle(ctx, plans, decision.plan.config.index);
      if (Number.isFinite(single)) speedup = single / run.totalMs;
    }
    out[p.k] = {
      trace: trace.name,
      arrivalMs: p.req.t,
      budgetMs: budget,
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
      predictedMeanMs: p.first.predicted.expectedMs,
      predictedP95Ms: p.first.predicted.p95Ms,
      predictedFits: p.first.fits,
      recognitionRedecided: decision.plan !== p.first.plan,
      lines: p.req.image.lines,
      predictedLines: p.first.inputs.lines,
      concurrencySpeedup: speedup,
    };
  };

  let next = 0;
  while (next < requests.length || events.size > 0) {
    // An outcome completing at an arrival's instant is known to that arrival's decision.
    if (next < requests.length && requests[next].t < events.peekAt()) {
      arrive(next++);
      continue;
    }
    const e = events.pop()!;
    if (e.kind === 'recognition') recognise(e.p, e.at);
    else complete(e.p, e.decision, e.run, e.ctx);
  }
  return out;
}

/**
 * The oracle: every non-racing plan's realised run for each request, the best in hindsight (it needs no estimates,
 * so it is not replayed as events). `potential` collects, per request, the best concurrent plan against the best
 * single-location plan.
 */
export function runOracle(env: SessionEnv, requests: readonly SessionRequest[], potential?: number[]): RequestRecord[] {
  const { profiles, trace, plans } = env;
  const hindsightPlans = plans.filter((p) => !p.race);
  const cellular = isCellular(trace.linkType);
  let deviceFreeAt = -Infinity;
  const out: RequestRecord[] = [];
  for (const a of requests) {
    const budget = a.budgetMs;
    const ctx: RunContext = { profiles, sampler: env.sampler, trace, image: a.image, draws: a.draws, t0: a.t, deviceFreeAt };
    const runs = hindsightPlans.map((p) => runPlan(ctx, p));
    const k = oraclePick(runs, budget);
    const run = runs[k];
    const plan = hindsightPlans[k];
    deviceFreeAt = run.deviceFreeAt;
    if (potential !== undefined) {
      let single = Infinity;
      let conc = Infinity;
      for (let i = 0; i < runs.length; i++) {
        if (!runs[i].ok) continue;
        const p = hindsightPlans[i];
        if (p.kind === 'split-rec') conc = Math.min(conc, runs[i].totalMs);
        else if (p.kind === 'device' || p.kind === 'edge') single = Math.min(single, runs[i].totalMs);
      }
      if (Number.isFinite(single) && Number.isFinite(conc)) potential.push(single / conc);
    }
    out.push({
      trace: trace.name,
      arrivalMs: a.t,
      budgetMs: budget,
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
      predictedMeanMs: NaN,
      predictedP95Ms: NaN,
      predictedFits: run.ok && run.totalMs <= budget,
      recognitionRedecided: false,
      lines: a.image.lines,
      predictedLines: NaN,
      concurrencySpeedup: null,
    });
  }
  return out;
}
