/**
 * Edge escalation: an edge plan at a small detector side asks the edge to detect again at a larger side when the first
 * detection finds far fewer lines than the photo is expected to hold. The recall fit cannot tell a receipt filling its
 * photo (most words kept at 480 px) from one small in the frame (none kept); the small side's detection can, and on
 * the edge a second detection reuses the decoded image: no second upload, and the few lines found are not read. The
 * page's own second look (second-look.ts) pays both; on a 2 s budget it never fitted.
 */
import type { Plan, PlanSpace } from './plan-space';
import type { PlanEvaluator } from './plans';
import { SHORT_READ_SHARE } from './second-look';
import type { StageName } from './stage-table';

export interface EdgeEscalation {
  /** The side to detect again at. */
  maxSide: number;
  /** Detect again when fewer lines than this were found (SHORT_READ_SHARE of those expected). */
  belowLines: number;
  /**
   * Predicted time of what the second detection adds on the edge and after it: detection at `maxSide`, recognition
   * of the lines expected, the reply. The edge detects again only while this fits before the deadline.
   */
  costMs: number;
  /** The plan whose stages the cost is predicted from. */
  planId: string;
}

/** The stages a second detection runs and what follows it; the upload, decode and queue are paid once. */
const AFTER_DETECTION: ReadonlySet<StageName> = new Set<StageName>(['edge-det-preprocess', 'edge-det', 'edge-postprocess', 'edge-cls', 'edge-rec', 'download']);

/**
 * The escalation for whole-image edge plan `plan` on a photo whose longest side is `longestSide` with `expectedLines`
 * lines predicted; null when the plan is not one, already detects at the photo's own size or the largest side offered,
 * or no lines are expected.
 */
export function escalationFor(plan: Plan, space: PlanSpace, evaluator: PlanEvaluator, longestSide: number, expectedLines: number): EdgeEscalation | null {
  if (plan.kind !== 'edge' || !(expectedLines >= 1) || plan.config.maxSide >= longestSide) return null;
  const reencode = space.reencode[plan.index];
  let best: Plan | null = null;
  for (const p of space.plans) {
    if (p.kind !== 'edge' || space.reencode[p.index] !== reencode || p.config.det !== plan.config.det || p.config.maxSide <= plan.config.maxSide) continue;
    if (best === null || p.config.maxSide > best.config.maxSide || (p.config.maxSide === best.config.maxSide && p.race === plan.race)) best = p;
  }
  if (best === null) return null;
  let costMs = 0;
  for (const s of evaluator.explain(best.index)) if (s.branch !== 'fallback' && s.branch !== 'device' && AFTER_DETECTION.has(s.stage)) costMs += s.expectedMs;
  return { maxSide: Math.min(best.config.maxSide, longestSide), belowLines: SHORT_READ_SHARE * expectedLines, costMs, planId: best.id };
}
