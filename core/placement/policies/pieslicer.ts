/**
 * Baseline after PieSlicer (Ogden, Kong, Guo, ICPE'21): the model is fixed (the profiles' default configuration,
 * run on the edge); the only choice is where the image is prepared. With s the original size and s' the prepared
 * size (MB):
 *   prepare on the device  iff  f(s) + g(s') + h(s') < g(s) + h(s)
 * f = device resize + encode, g = transfer, h = server-side decode/resize, each a linear model fitted online
 * (f and h are the shared per-stage fits; g is PieSlicer's own least-squares line of transfer time over MB, with a
 * δ correction that is an EWMA of its error). Short-circuit: send the original when it is smaller than 53,982 bytes
 * or not larger than the model input.
 * Deliberate differences: s' is the real predicted size (the original cast it to 0 MB), and δ is a proper EWMA
 * (the original kept accumulating).
 */
import type { Plan, PlanSpace } from '../plan-space';
import type { Choice, Policy, PolicyView } from './policy';

const AVERAGE_SENT_SIZE_BYTES = 53_982;
const DELTA_ALPHA = 0.5;
const WINDOW = 50;
const MB = 1_000_000;

export function pieSlicerPolicy(): Policy {
  // g(s) = a + b·s over (MB, ms) samples of our own uploads.
  const xs: number[] = [];
  const ys: number[] = [];
  let delta = 0;
  let lastTransferEstimate = NaN;

  const fitG = (view: PolicyView): { a: number; b: number } => {
    if (xs.length >= 3) {
      const n = xs.length;
      const mx = xs.reduce((p, x) => p + x, 0) / n;
      const my = ys.reduce((p, y) => p + y, 0) / n;
      let sxx = 0;
      let sxy = 0;
      for (let k = 0; k < n; k++) {
        sxx += (xs[k] - mx) ** 2;
        sxy += (xs[k] - mx) * (ys[k] - my);
      }
      if (sxx > 1e-6) {
        const b = Math.max(0, sxy / sxx);
        return { a: Math.max(0, my - b * mx), b };
      }
      // All uploads the same size: keep the intercept at one round trip.
      const rtt = view.table.rttEst.meanMs;
      return { a: rtt, b: Math.max(0, (my - rtt) / Math.max(mx, 1e-6)) };
    }
    // Until it has its own samples: RTT + size / bandwidth from the shared link estimate.
    return { a: view.table.rttEst.meanMs, b: (8 * MB) / view.table.upEst.kbps };
  };

  const policy: Policy = {
    name: 'pieslicer',
    allows(plan: Plan, space: PlanSpace) {
      const d = space.profiles.defaults;
      if (plan.kind !== 'edge' || plan.race || plan.config.det !== d.det || plan.config.maxSide !== d.maxSide) return false;
      return plan.upload?.kind === 'original' || plan === preparedUpload(plan, space);
    },
    onTransfer(direction, bytes, elapsedMs, serverMs) {
      if (direction !== 'up') return;
      const ms = elapsedMs - serverMs;
      if (!(ms > 0)) return;
      if (!Number.isNaN(lastTransferEstimate)) delta = DELTA_ALPHA * (ms - lastTransferEstimate) + (1 - DELTA_ALPHA) * delta;
      lastTransferEstimate = NaN;
      xs.push(bytes / MB);
      ys.push(ms);
      if (xs.length > WINDOW) {
        xs.shift();
        ys.shift();
      }
    },
    choose(view: PolicyView): Choice {
      const { space, eligible, table, observation: obs } = view;
      let original = -1;
      let prepared = -1;
      for (let i = 0; i < space.plans.length; i++) {
        if (eligible[i] !== 1) continue;
        if (space.reencode[i] < 0) original = i;
        else prepared = i;
      }
      if (original < 0 && prepared < 0) return { index: -1, reason: 'no-eligible-plan-device-fallback' };
      if (original < 0) return { index: prepared, reason: 'pieslicer-preprocess-on-device' };
      const modelSide = space.profiles.defaults.maxSide;
      if (prepared < 0 || obs.request.bytes < AVERAGE_SENT_SIZE_BYTES || Math.max(obs.request.width, obs.request.height) <= modelSide) {
        return { index: original, reason: prepared < 0 ? 'pieslicer-upload-original' : 'pieslicer-short-circuit' };
      }
      const g = fitG(view);
      const r = space.reencode[prepared];
      const s = obs.request.bytes / MB;
      const sPrep = table.reencodeBytes[r] / MB;
      const gOf = (mb: number) => g.a + g.b * mb + delta;
      const f = table.mean[table.reencode[r]];
      const hOrig = table.mean[table.edgeDecodeOriginal];
      const hPrep = table.mean[table.edgeDecodeReencode[r]];
      const local = f + gOf(sPrep) + hPrep;
      const remote = gOf(s) + hOrig;
      if (local < remote) {
        lastTransferEstimate = gOf(sPrep);
        return { index: prepared, reason: 'pieslicer-preprocess-on-device' };
      }
      lastTransferEstimate = gOf(s);
      return { index: original, reason: 'pieslicer-upload-original' };
    },
  };
  return policy;
}

/** The model's input size re-encode: the smallest profiled side at least the detector's, best quality among those. */
function preparedUpload(plan: Plan, space: PlanSpace): Plan | null {
  let best: Plan | null = null;
  for (const p of space.plans) {
    if (p.config !== plan.config || p.kind !== 'edge' || p.race || p.upload?.kind !== 'reencode') continue;
    const b = best?.upload;
    const u = p.upload;
    if (b == null || b.kind !== 'reencode' || u.maxSide < b.maxSide || (u.maxSide === b.maxSide && u.quality > b.quality)) best = p;
  }
  return best;
}
