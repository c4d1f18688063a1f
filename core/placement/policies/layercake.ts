/**
 * Baseline after LayerCake (Ogden & Guo, CCGrid'23), `Model.pickModelVariant`:
 * - candidates are model variants on the device or the server (here: detector configurations, device-only or whole
 *   request on the edge); uploads are always resized to the variant's input size and JPEG-encoded at quality 0.9;
 *   no preprocessing choice, no split, no concurrency, no race;
 * - latency of a variant = p90 of its past measurements (on the device: the whole run; on the edge: server time),
 *   until a few exist, the p90 of the shared prediction;
 * - network time = RTT + size / BW, both as LayerCake's 0.5-EWMAs of probes and transfers;
 * - if no device variant fits the budget, the fastest device variant; else, with timeBudget = 0.8 × (budget − 50 ms),
 *   the most accurate feasible variant (edge: not cold, lat ≤ timeBudget − T_net; device: idle, lat ≤ timeBudget),
 *   device first on ties; else the fastest device variant;
 * - an edge variant is "cold" for 10 s after a failure or time-out.
 * Deliberate difference: edge measurements are server time, so the network time is not counted twice (the original
 * measured the whole round trip and then added T_net again).
 */
import type { Decision, Outcome } from '../decision';
import { Z90, Z95 } from '../estimators/normal';
import type { Plan, PlanSpace } from '../plan-space';
import type { Choice, Policy, PolicyView } from './policy';

const LATENCY_BUFFER = 0.8;
const RESIZE_BUFFER_MS = 50;
const TIME_TO_WARM_MS = 10_000;
const UPLOAD_QUALITY = 0.9;
const WINDOW = 100;
const MIN_SAMPLES = 3;

export interface LayerCakeOptions {
  /** Variants are "cold" this long after an edge failure. */
  coldMs?: number;
}

export function layerCakePolicy(options: LayerCakeOptions = {}): Policy {
  const coldMs = options.coldMs ?? TIME_TO_WARM_MS;
  let rttMs = NaN;
  let bwKbps = NaN;
  let coldUntil = -Infinity;
  const local = new Map<number, number[]>();
  const remote = new Map<number, number[]>();

  const push = (m: Map<number, number[]>, config: number, ms: number) => {
    let w = m.get(config);
    if (w === undefined) m.set(config, (w = []));
    w.push(ms);
    if (w.length > WINDOW) w.shift();
  };
  const p90 = (w: number[] | undefined): number => {
    if (w === undefined || w.length < MIN_SAMPLES) return NaN;
    const s = [...w].sort((a, b) => a - b);
    return s[Math.min(s.length - 1, Math.ceil(0.9 * s.length) - 1)];
  };

  const policy: Policy = {
    name: 'layercake',
    allows(plan, space) {
      if (plan.kind === 'device') return true;
      return plan.kind === 'edge' && !plan.race && layerCakeUpload(plan, space);
    },
    onRtt(ms) {
      rttMs = Number.isNaN(rttMs) ? ms : 0.5 * rttMs + 0.5 * ms;
    },
    onTransfer(direction, bytes, elapsedMs, serverMs) {
      if (direction !== 'up') return;
      const t = elapsedMs - serverMs - (Number.isNaN(rttMs) ? 0 : rttMs);
      if (t <= 0) return;
      const kbps = (bytes * 8) / t;
      bwKbps = Number.isNaN(bwKbps) ? kbps : 0.5 * bwKbps + 0.5 * kbps;
    },
    choose(view: PolicyView): Choice {
      const { space, predictions: e, eligible, budgetMs, table } = view;
      const now = view.observation.nowMs;
      const rtt = Number.isNaN(rttMs) ? table.rttEst.meanMs : rttMs;
      const bw = Number.isNaN(bwKbps) ? table.upEst.kbps : bwKbps;
      const deviceFree = !((view.observation.device.busyMs ?? 0) > 0);
      const sharedP90 = (i: number) => e.expected[i] + ((e.p95[i] - e.expected[i]) * Z90) / Z95;
      const latency = (i: number) => {
        const c = space.config[i];
        if (space.plans[i].kind === 'device') {
          const m = p90(local.get(c));
          return Number.isNaN(m) ? sharedP90(i) : m;
        }
        const m = p90(remote.get(c));
        return Number.isNaN(m) ? e.edgeMs[i] : m;
      };
      let fastestLocal = -1;
      let anyLocalFits = false;
      for (let i = 0; i < space.plans.length; i++) {
        if (eligible[i] !== 1 || space.plans[i].kind !== 'device') continue;
        const lat = latency(i);
        if (fastestLocal < 0 || lat < latency(fastestLocal)) fastestLocal = i;
        if (lat <= budgetMs) anyLocalFits = true;
      }
      if (fastestLocal < 0) return { index: -1, reason: 'no-eligible-plan-device-fallback' };
      if (!anyLocalFits) return { index: fastestLocal, reason: 'layercake-no-local-fits-fastest-local', estimateMs: latency(fastestLocal) };

      const timeBudget = LATENCY_BUFFER * (budgetMs - RESIZE_BUFFER_MS);
      let best = -1;
      let bestEstimate = 0;
      // Device variants first, so they win ties (LayerCake's cost saving).
      for (const wantDevice of [true, false]) {
        for (let i = 0; i < space.plans.length; i++) {
          const plan = space.plans[i];
          if (eligible[i] !== 1 || (plan.kind === 'device') !== wantDevice) continue;
          const lat = latency(i);
          let estimate: number;
          if (wantDevice) {
            if (!deviceFree || lat > timeBudget) continue;
            estimate = lat;
          } else {
            if (now < coldUntil) continue;
            const upload = uploadBytes(view, i);
            const tNet = rtt + (upload * 8) / bw;
            if (lat > timeBudget - tNet) continue;
            estimate = lat + tNet;
          }
          if (best < 0 || space.configs[space.config[i]].accuracy > space.configs[space.config[best]].accuracy) {
            best = i;
            bestEstimate = estimate;
          }
        }
      }
      if (best < 0) return { index: fastestLocal, reason: 'layercake-none-feasible-fastest-local', estimateMs: latency(fastestLocal) };
      return { index: best, reason: 'layercake-most-accurate-feasible', estimateMs: bestEstimate };
    },
    learn(decision: Decision, outcome: Outcome) {
      const plan = decision.plan;
      if (plan.kind === 'device') {
        if (outcome.ok) push(local, plan.config.index, outcome.totalMs);
        return;
      }
      if (outcome.failure !== undefined) {
        coldUntil = outcome.atMs + coldMs;
        return;
      }
      if (outcome.edge?.serverMs !== undefined) push(remote, plan.config.index, outcome.edge.serverMs);
    },
  };
  return policy;
}

/**
 * LayerCake resizes to the variant's input size and encodes at quality 0.9: per configuration, the smallest
 * re-encode at least as large as the detector input, quality closest to 0.9 (the original when none is profiled).
 */
function layerCakeUpload(plan: Plan, space: PlanSpace): boolean {
  let best: Plan | null = null;
  let original: Plan | null = null;
  for (const p of space.plans) {
    if (p.config !== plan.config || p.kind !== 'edge' || p.race || p.upload === null) continue;
    if (p.upload.kind === 'original') {
      original = p;
      continue;
    }
    const b = best?.upload;
    if (b == null || b.kind !== 'reencode') {
      best = p;
      continue;
    }
    const u = p.upload;
    if (u.maxSide < b.maxSide || (u.maxSide === b.maxSide && Math.abs(u.quality - UPLOAD_QUALITY) < Math.abs(b.quality - UPLOAD_QUALITY))) best = p;
  }
  return plan === (best ?? original);
}

function uploadBytes(view: PolicyView, i: number): number {
  const r = view.space.reencode[i];
  return r >= 0 ? view.table.reencodeBytes[r] : view.observation.request.bytes;
}
