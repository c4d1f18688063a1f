/**
 * The simulator on the requests the browser ran: per link and policy one session, as in the browser, with the same
 * photos and budgets at the same instants of the trace (the trace's clock at each press of Run), so every replayed
 * request gets a simulated latency.
 */
import { fixedModePolicy } from '../../core/placement';
import type { Profiles } from '../../core/profiles';
import { simulateRequests } from '../sim/simulate-given';
import type { LinkTrace } from '../sim/traces';
import type { ReplayRecord } from './session';
import type { ReplayImage } from './workload';

export function simulateReplayed(records: ReplayRecord[], links: readonly LinkTrace[], images: readonly ReplayImage[], profiles: Profiles, seed: number): void {
  const imageOf = new Map(images.map((im) => [im.file, im.sim]));
  const groups = new Map<string, ReplayRecord[]>();
  for (const r of records) {
    const key = `${r.link}|${r.policy}`;
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  for (const group of groups.values()) {
    const { link, policy } = group[0];
    const trace = links.find((l) => l.name === link)!;
    const sims = simulateRequests({
      profiles,
      trace,
      // The page's fixed modes are its own policies (the default configuration only), not the simulator's baselines.
      policy: policy === 'device' || policy === 'edge' ? (p) => fixedModePolicy(policy, p) : policy,
      seed,
      requests: group.map((r) => ({ arrivalMs: r.traceMs, image: imageOf.get(r.image)!, budgetMs: r.budgetMs })),
    });
    group.forEach((r, i) => {
      const s = sims[i];
      r.sim = { totalMs: s.totalMs, met: s.met, planId: s.planId, predictedP50Ms: s.predictedP50Ms };
    });
  }
}
