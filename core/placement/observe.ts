/**
 * observe(): what actually happened to a decision. Every measured stage corrects its latency fit at the sizes the
 * decision predicted for; replies teach the uplink, the edge's queue and health; results teach lines per image;
 * and every prediction's error is recorded (per policy and per stage) for MAPE.
 */
import type { Decision, Outcome } from './decision';
import type { LatencyModel } from './estimators/latency-model';
import type { EstimatorState } from './estimators/state';
import type { Policy } from './policies/policy';
import type { StageName } from './stage-table';
import { edgeRecLaneShare, profiledLineWidth, widthFactorOf } from './rec-width';
import { timedByServer } from './observations';

export interface ObserveResult {
  /** |expected − actual| / actual of the whole request under the shared model. */
  totalApe: number;
  /** Same for the policy's own estimate. */
  policyApe: number;
  /** Per measured stage. */
  stages: Partial<Record<StageName, number>>;
}

/** A reply whose queue wait exceeds this and this share of its own stages' time ran on a crowded edge. */
const CROWDED_QUEUE_MS = 50;
const CROWDED_QUEUE_SHARE = 0.25;

/** Share of an unanswered upload's bytes taken as sent when the request was given up on. */
const UNANSWERED_SENT_SHARE = 0.5;

/**
 * A read at a detector side below this share of the largest one (or of the photo's own longest side, when smaller)
 * misses many of a document's lines: receipt `030` read at 320 px found 6 of its 38, and taught as "such a photo
 * holds 6 lines" it made the next receipt of its size look like a 1 s read (it took 2.4 s at 960 px). Such reads
 * teach the time per line they measured, not how many lines a photo holds.
 */
const LINES_TAUGHT_FROM_SIDE = 0.8;

/** Whether the read that answered saw the photo at (nearly) the largest side a plan could have: its line count is the photo's. */
function readNearFullSide(state: EstimatorState, decision: Decision, outcome: Outcome): boolean {
  const fromFallback = decision.plan.kind === 'edge' && outcome.winner === 'device' && decision.fallback !== null;
  const plan = fromFallback ? decision.fallback!.plan : decision.plan;
  const longest = Math.max(decision.inputs.imageWidth, decision.inputs.imageHeight);
  let largest = 0;
  for (const c of state.space.configs) if (c.maxSide > largest) largest = c.maxSide;
  let side = Math.min(plan.config.maxSide, longest);
  if (plan.upload?.kind === 'reencode') side = Math.min(side, plan.upload.maxSide);
  return side >= LINES_TAUGHT_FROM_SIDE * Math.min(largest, longest);
}

export function observe(state: EstimatorState, decision: Decision, outcome: Outcome, policy?: Policy): ObserveResult {
  const plan = decision.plan;
  const inputs = decision.inputs;
  const name = decision.policy;
  const result: ObserveResult = {
    totalApe: state.errors.record(`${name}/total`, decision.predicted.expectedMs, outcome.totalMs),
    policyApe: state.errors.record(`${name}/policy-estimate`, decision.policyEstimateMs, outcome.totalMs),
    stages: {},
  };
  const stageError = (stage: StageName, actual: number, fallback = false) => {
    let predicted = 0;
    let found = false;
    for (const s of decision.predicted.stages) {
      if (s.stage === stage && (s.branch === 'fallback') === fallback) {
        predicted += s.expectedMs;
        found = true;
      }
    }
    if (found) result.stages[stage] = state.errors.record(`${name}/${stage}`, predicted, actual);
  };
  const idx = (id: string | null) => (id === null ? -1 : (state.modelIndex.get(id) ?? -1));
  const detIdx = idx(plan.config.det);
  const recIdx = idx(plan.config.rec);
  const clsIdx = idx(plan.cls);
  const pick = (list: (LatencyModel | null)[], i: number) => (i >= 0 ? list[i] : null);
  const lines = outcome.lines ?? inputs.lines;
  const edgeShare = plan.kind === 'edge' ? 1 : plan.recEdgeShare;
  // Recognition is learnt per profiled line (lines × width factor): the measured width when the result reported
  // its lines' input width, else the width predicted for this image, so a wide receipt teaches its width, not a
  // slower recogniser.
  const measuredWidth = widthFactorOf(outcome.recInputWidth, outcome.lines ?? outcome.deviceLines ?? 0, profiledLineWidth(state.profiles));
  const width = measuredWidth > 0 ? measuredWidth : (inputs.recWidthFactor ?? 1);
  // A warm-up on blank input counts as one weak, clipped sample (see LatencyModel.update).
  const weak = outcome.warmUp === true;

  const d = outcome.device;
  const dm = state.deviceModelsByKey(inputs.deviceRuntime);
  if (d !== undefined && dm !== undefined) {
    // A whole-request edge plan detects and recognises on the device only through its fallback (a lost race, a
    // failed request), which may be another configuration at another input size.
    const viaFallback = plan.kind === 'edge' && decision.fallback !== null;
    const devPlan = viaFallback ? decision.fallback!.plan : plan;
    const devDetIdx = viaFallback ? idx(devPlan.config.det) : detIdx;
    const devRecIdx = viaFallback ? idx(devPlan.config.rec) : recIdx;
    const devClsIdx = viaFallback ? idx(devPlan.cls) : clsIdx;
    const devDetPixels = viaFallback ? inputs.fallbackDetPixels : inputs.detPixels;
    const devLines = outcome.deviceLines ?? (outcome.winner === 'device' || viaFallback ? lines : lines * (1 - edgeShare));
    // A race's device run shares the phone with the upload of the same photo (a throttled phone read its lines
    // twice as slowly beside it): like a warm-up, it can say "faster" fully and "slower" only a little.
    const raced = plan.race && outcome.winner === 'device';
    const upd = (m: LatencyModel | null, x: number, ms: number | undefined, stage: StageName, scale = 1) => {
      if (ms === undefined) return;
      const fromFallback = viaFallback && stage !== 'decode' && stage !== 'reencode';
      stageError(stage, ms, fromFallback);
      if (m !== null && x > 0) m.update(x, ms / scale, weak || (raced && stage !== 'reencode'));
    };
    upd(dm.decode, inputs.imagePixels, d.decode, 'decode');
    upd(dm.reencode, inputs.imagePixels, d.reencode, 'reencode');
    upd(dm.detPreprocess, devDetPixels, d['det-preprocess'], 'det-preprocess');
    upd(pick(dm.det, devDetIdx), devDetPixels, d.det, 'det');
    if (plan.split !== null) upd(pick(dm.det, detIdx), inputs.detPixels, d['det-head'], 'det-head', plan.split.headShare);
    upd(dm.postprocess, devDetPixels, d.postprocess, 'postprocess');
    upd(pick(dm.cls, devClsIdx), devLines, d.cls, 'cls');
    upd(pick(dm.rec, devRecIdx), devLines * width, d.rec, 'rec');
    // Loading costs several models at once; only its prediction error is kept.
    if (d['model-load'] !== undefined) stageError('model-load', d['model-load']);
  }

  const e = outcome.edge;
  if (e !== undefined) {
    const em = state.edgeModels;
    const edgeLines = e.lines ?? lines * edgeShare;
    const s = e.stages ?? {};
    // A reply that waited long behind other requests ran beside them too: its stages were slowed by other work, as
    // a warm-up beside another page is, and count as weak runs (they can say "slower", a little). Otherwise one
    // photo sent while six others were being read teaches a recogniser four times slower than the idle edge.
    let stagesMs = 0;
    for (const v of Object.values(s)) stagesMs += v ?? 0;
    const crowded = e.queueMs !== undefined && e.queueMs > CROWDED_QUEUE_MS && e.queueMs > CROWDED_QUEUE_SHARE * stagesMs;
    const upd = (m: LatencyModel | null, x: number, ms: number | undefined, stage: StageName, scale = 1) => {
      if (ms === undefined) return;
      stageError(stage, ms);
      if (m !== null && x > 0) m.update(x, ms / scale, crowded);
    };
    upd(em.request, e.uploadBytes, s.request, 'edge-request');
    upd(em.decode, inputs.uploadPixels, s.decode, 'edge-decode');
    upd(em.detPreprocess, inputs.detPixels, s['det-preprocess'], 'edge-det-preprocess');
    upd(pick(em.det, detIdx), inputs.detPixels, s.det, 'edge-det');
    if (plan.split !== null) upd(pick(em.det, detIdx), inputs.detPixels, s['det-tail'], 'edge-det-tail', 1 - plan.split.headShare);
    upd(em.postprocess, inputs.detPixels, s.postprocess, 'edge-postprocess');
    // Taught in one-batch-after-another time, as predicted (a whole photo's recognition ran on every worker slot).
    const lanes = plan.kind === 'edge' ? edgeRecLaneShare(edgeLines, state.edgeWorkers) : 1;
    upd(pick(em.cls, clsIdx), edgeLines, s.cls, 'edge-cls');
    upd(pick(em.rec, recIdx), edgeLines * width, s.rec, 'edge-rec', lanes);
    if (e.queueMs !== undefined) {
      stageError('queue', e.queueMs);
      state.edge.addQueue(e.queueMs, outcome.atMs);
    }
    if (e.serverMs !== undefined && !e.escalated) state.edge.service.add(e.serverMs - (e.queueMs ?? 0));
    // A refused request asked again without a deadline carries the answered retry's own transfer.
    if ((outcome.failure === undefined || outcome.failure === 'refused') && e.uploadBytes > 0) {
      // The reply's own transfer is not part of the upload.
      const replyMs = e.downloadBytes !== undefined && inputs.downKbps > 0 ? (e.downloadBytes * 8) / inputs.downKbps : 0;
      const elapsed = e.elapsedMs - replyMs;
      state.addTransfer('up', e.uploadBytes, elapsed, e.serverMs ?? 0, outcome.atMs, false, e.readMs);
      policy?.onTransfer?.('up', e.uploadBytes, elapsed, e.serverMs ?? 0, outcome.atMs);
      // With the upload timed by the server, what is left of the round trip is the request's own: the path there and
      // back and what the phone took to send and take the answer, paid by every request however small its photo.
      const timed = timedByServer({ direction: 'up', readMs: e.readMs });
      const readMs = timed ? e.readMs! : 0;
      if (e.downloadBytes !== undefined) state.addReplyBound(e.downloadBytes, e.elapsedMs, (e.serverMs ?? 0) + readMs, outcome.atMs);
      if (timed && e.serverMs !== undefined) state.requestOverhead.add(elapsed - e.serverMs - readMs - inputs.rttMs);
    }
  }

  const gaveUp = outcome.edgeUnanswered;
  if (gaveUp !== undefined && gaveUp.uploadBytes > 0 && gaveUp.elapsedMs > 0) {
    // The rate was below bytes / elapsed, by how much nobody saw: counted as half the bytes sent by then (the share
    // an upload given up on has sent, on average). Taken as all of them, a 212 KB photo abandoned after 4.4 s taught
    // 385 kbit/s on a 100 kbit/s uplink, and the next re-encoded upload, predicted at 3.5 s, took 16 s.
    const sent = gaveUp.uploadBytes * UNANSWERED_SENT_SHARE;
    state.addTransfer('up', sent, gaveUp.elapsedMs, 0, outcome.atMs);
    policy?.onTransfer?.('up', sent, gaveUp.elapsedMs, 0, outcome.atMs);
  }

  if (plan.usesEdge) {
    // A refusal that says how busy the edge is updates its expected wait, not its failure rate. A request that ran
    // out of time was slow, not broken: its lateness is taught by its transfer (edgeUnanswered above); counted as a
    // failure too, one slow upload would hand every edge plan the device fallback's tail for the next ten requests.
    const informed = outcome.failure === 'refused' && state.edge.refusedWith(outcome.atMs, outcome.refusal, decision.predicted.edgeMs);
    if (!informed && outcome.failure !== 'timeout') state.edge.outcome(outcome.failure === undefined);
  }
  if (outcome.lines !== undefined && outcome.ok && readNearFullSide(state, decision, outcome)) {
    state.lines.add(outcome.lines);
    state.linesModel.add(inputs.imageWidth, inputs.imageHeight, inputs.imageBytes, outcome.lines, measuredWidth);
  }
  if (outcome.reencodedBytes !== undefined && plan.upload?.kind === 'reencode' && inputs.uploadPixels > 0) {
    const upload = plan.upload;
    const profile = state.space.reencodes.find((r) => r.maxSide === upload.maxSide && r.quality === upload.quality);
    if (profile !== undefined) state.reencodeRatio.add(outcome.reencodedBytes / ((profile.bitsPerPixel * inputs.uploadPixels) / 8));
  }
  policy?.learn?.(decision, outcome, state);
  return result;
}
