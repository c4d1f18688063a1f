/**
 * Replays given requests (arrival times, images, budgets) over one given link through one policy, with the
 * simulator's compute model: for comparing a real run (e.g. the browser replay bench) with what the simulator says
 * of exactly the same links, images, arrivals and budgets. Compute draws come from `seed` alone, so the same
 * inputs give the same figures.
 */
import { createEstimatorState, type KnownPolicy } from '../../core/placement';
import type { Profiles } from '../../core/profiles';
import { ComputeSampler, type RuntimeChoice } from './compute';
import { drawFor } from './execute';
import type { SimImage } from './images';
import { runOracle, runPolicySession, type PolicyChoice, type SessionEnv, type SessionOptions, type SessionRequest } from './session';
import { hash, ORACLE, simPlanProfiles, type SimOptions } from './simulate';
import type { LinkTrace } from './traces';
import { mulberry32 } from '../../test-support/random';

export interface GivenRequest {
  /** Arrival on the link's clock (ms from the start of the trace). */
  arrivalMs: number;
  image: SimImage;
  budgetMs: number;
}

export interface GivenRun extends Partial<Omit<SessionOptions, 'costWeight'>>, Pick<SimOptions, 'planSpace' | 'variant'> {
  profiles: Profiles;
  trace: LinkTrace;
  requests: readonly GivenRequest[];
  policy: PolicyChoice | typeof ORACLE;
  seed: number;
  runtimes?: RuntimeChoice;
  costWeight?: number;
}

export interface GivenResult {
  totalMs: number;
  met: boolean;
  planId: string;
  /** The planner's central estimate (its expected latency) and p95 for the plan it chose; NaN for the oracle. */
  predictedP50Ms: number;
  predictedP95Ms: number;
  accuracy: number;
  edgeMs: number;
}

/** Per request, in the order given: what the policy chose and what it took on this link. */
export function simulateRequests(run: GivenRun): GivenResult[] {
  const profiles = simPlanProfiles(run.profiles, run);
  const sampler = new ComputeSampler(profiles, run.runtimes);
  const order = run.requests.map((_, i) => i).sort((a, b) => run.requests[a].arrivalMs - run.requests[b].arrivalMs || a - b);
  const rnd = mulberry32(hash(run.trace.name) ^ run.seed);
  const requests: SessionRequest[] = order.map((i) => {
    const r = run.requests[i];
    return { t: r.arrivalMs, image: r.image, budgetMs: r.budgetMs, draws: drawFor(rnd) };
  });
  const env: SessionEnv = {
    profiles,
    sampler,
    trace: run.trace,
    plans: createEstimatorState(profiles).space.plans,
    // The page's defaults (web/placement/link-monitor.ts): /v1/status every 7 s, a 48 KB uplink probe on joining.
    opts: {
      probeEveryMs: run.probeEveryMs ?? 7000,
      uplinkProbeBytes: run.uplinkProbeBytes ?? 48 * 1024,
      costWeight: run.costWeight ?? 0,
      netInfo: run.netInfo,
      onEngineCall: run.onEngineCall,
    },
  };
  const records = run.policy === ORACLE ? runOracle(env, requests) : runPolicySession(env, requests, run.policy);
  const out = new Array<GivenResult>(records.length);
  records.forEach((r, k) => {
    out[order[k]] = {
      totalMs: r.totalMs,
      met: r.met,
      planId: r.planId,
      predictedP50Ms: r.predictedMeanMs,
      predictedP95Ms: r.predictedP95Ms,
      accuracy: r.accuracy,
      edgeMs: r.edgeMs,
    };
  });
  return out;
}
