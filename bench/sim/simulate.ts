/**
 * Trace-driven replay: for each trace and budget, every policy runs its own session (fresh estimator state, its own
 * device history) through the same requests, arrivals and compute draws, deciding with the real planner and
 * learning from the simulated outcomes with the real observe() when each completes (see session.ts). By default
 * the policies choose among the plans the page carries out. The oracle sees each request's realised result for
 * every plan and takes the best one in hindsight.
 */
import { createEstimatorState, executableProfiles, PAGE_CAPABILITIES, type KnownPolicy } from '../../core/placement';
import type { Profiles } from '../../core/profiles';
import { ComputeSampler, type RuntimeChoice } from './compute';
import { type Draws, drawFor } from './execute';
import type { SimImage } from './images';
import { type RequestRecord, runOracle, runPolicySession, type SessionEnv, type SessionOptions } from './session';
import type { LinkTrace } from './traces';
import { mulberry32 } from '../../test-support/random';

export { chromeNetInfo, uplinkProbe } from './session';
export type { EngineCall, RequestRecord } from './session';

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
  /**
   * Plans the policies choose among: `page` (default), what the page carries out with every model variant set (or
   * the one named by `variant`)
   * (the same executableProfiles() call as web/placement/page-planner.ts); `full`, every profiled configuration and
   * split-detection cut.
   */
  planSpace?: 'page' | 'full';
  /** The one model variant set the device may run (the page's `?variant=`); default: every set, as the page plans. */
  variant?: string;
  /** Reports every decide() and observe() call, in the order made (for checking causality). */
  onEngineCall?: SessionOptions['onEngineCall'];
}

/** Profiles whose plan space the simulated policies (and the oracle) choose from. */
export function simPlanProfiles(profiles: Profiles, opts: Pick<SimOptions, 'planSpace' | 'variant'> = {}): Profiles {
  return opts.planSpace === 'full' ? profiles : executableProfiles(profiles, opts.variant ?? null, PAGE_CAPABILITIES);
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
  /** The plan space replayed. */
  planSpace: { kind: 'page' | 'full'; variant: string | null; plans: number };
  /** Per link: whether its uplink was derived from its downlink (no uplink trace). */
  upDerived: Record<string, boolean>;
}

export function hash(s: string): number {
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

export function simulate(
  profiles: Profiles,
  traces: readonly LinkTrace[],
  images: readonly SimImage[],
  opts: SimOptions,
  onTrace?: (i: number, name: string) => void,
): SimResult {
  const planProfiles = simPlanProfiles(profiles, opts);
  const sampler = new ComputeSampler(planProfiles, opts.runtimes);
  const records = new Map<SimPolicy, Map<number, RequestRecord[]>>();
  for (const p of [...SIM_POLICIES, ORACLE] as SimPolicy[]) records.set(p, new Map(opts.budgets.map((b) => [b, []])));
  const potentialSpeedups: number[] = [];
  let requests = 0;
  // The plan list is the same for every state built from these profiles.
  const plans = createEstimatorState(planProfiles).space.plans;
  const upDerived: Record<string, boolean> = {};

  traces.forEach((trace, ti) => {
    onTrace?.(ti, trace.name);
    upDerived[trace.name] = trace.upDerived;
    const arrivals = arrivalsFor(trace, images, opts);
    requests += arrivals.length;
    const env: SessionEnv = { profiles: planProfiles, sampler, trace, plans, opts };
    for (const budget of opts.budgets) {
      const session = arrivals.map((a) => ({ ...a, budgetMs: budget }));
      for (const name of SIM_POLICIES)
        records
          .get(name)!
          .get(budget)!
          .push(...runPolicySession(env, session, name, `${trace.name}|${budget}|${name}`));
      records
        .get(ORACLE)!
        .get(budget)!
        .push(...runOracle(env, session, budget === opts.budgets[0] ? potentialSpeedups : undefined));
    }
  });
  return {
    records,
    potentialSpeedups,
    requests,
    traces: traces.length,
    runtimes: { device: sampler.deviceRuntime.id, edge: sampler.edgeRuntime.id },
    planSpace: { kind: opts.planSpace ?? 'page', variant: opts.planSpace === 'full' ? null : (opts.variant ?? null), plans: plans.length },
    upDerived,
  };
}
