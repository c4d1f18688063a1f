/**
 * Carries out a decision: on the device through the worker, or on the edge (original or re-encoded upload, the
 * plan's detector size, the remaining budget sent along), with the plan's race (a device run started at
 * `raceStartAtMs` if the edge has not answered) and fallback (refused, failed or late edge → device). Returns the
 * result with the Outcome the planner learns from.
 */
import { recInputWidth, type Decision, type Outcome, type Plan, type RefusalInfo } from '../../core/placement';
import { ocrError } from '../../core/ocr/errors';
import type { OcrLine } from '../../core/ocr/types';
import type { EdgeError, EdgeOcrOptions, EdgeOcrResult } from '../edge-client';
import type { DetectedImage, DeviceOcrOptions, DeviceOcrResult, ReencodeResult, SplitOptions, SplitResult } from '../worker/api';
import { deviceStages, edgeStages, serverWorkMs } from './observations';

/** Which model set a device run may use: the plan's (loaded if need be), the plan's if held, or the one loaded. */
export type DeviceSetUse = 'plan' | 'held' | 'loaded';

export interface Executors {
  /**
   * Makes sure the worker has the models of `variant` (the plan's set, fetched when the device does not hold it) and
   * their sessions; `ms` is the time it took when it had to load, else 0. `use` says when the set loaded runs
   * instead: `held`, a run standing in for a failed edge, which must not wait on a download over the link that just
   * failed, loads `variant` only if the device holds it; `loaded`, a race's device run, never changes the set: that
   * takes seconds on a slow phone and cannot be stopped, and when the edge answers meanwhile the worker stays busy
   * loading (the next photo's re-encode waited 10–20 s behind it in the replay).
   */
  deviceReady(variant: string, use?: DeviceSetUse): Promise<{ ms: number }>;
  /** `signal`: the answer is no longer wanted (a race the edge won); the run stops and frees the device. */
  deviceOcr(image: Blob, options: DeviceOcrOptions, signal?: AbortSignal): Promise<DeviceOcrResult>;
  reencode(image: Blob, maxSide: number, quality: number): Promise<ReencodeResult>;
  edgeOcr(image: Blob, options: EdgeOcrOptions): Promise<EdgeOcrResult>;
  now(): number;
  /**
   * Device detection in two steps, so recognition is decided again with the line count known (and may send a share
   * of the crops to the edge). Without it, device plans run in one step, all on the device.
   */
  split?: {
    /** `signal` stops the step before its next model run (and withdraws recognition's edge requests). */
    detect(image: Blob, options: DeviceOcrOptions, signal?: AbortSignal): Promise<DetectedImage>;
    recognize(id: number, options: SplitOptions, signal?: AbortSignal): Promise<SplitResult>;
    /** The recognition decision for `lines` detected lines with `remainingMs` of the budget left. */
    redecide(lines: number, remainingMs: number): Decision;
    /** The share is forced (a comparison): the edge gets no deadline to refuse it by. */
    forced?: boolean;
  };
  /**
   * After the edge refused `decision`'s request (`refused` is that outcome, to be learnt first): the plan for what is
   * left of the budget, `remainingMs`. Its plan is carried out if it fits; otherwise the decision's own fallback.
   */
  replan?(decision: Decision, refused: Outcome, remainingMs: number): Decision;
}

export interface Execution {
  ranOn: 'device' | 'edge';
  lines: OcrLine[];
  image: { width: number; height: number };
  /** Why the edge's answer was not used, when the device stepped in. */
  fellBack?: string;
  /** The edge refused the deadline and was asked again without one (its refusal). */
  retried?: string;
  /** The device answered a raced edge plan first. */
  raceWon?: 'device' | 'edge';
  device?: DeviceOcrResult;
  edge?: EdgeOcrResult;
  outcome: Outcome;
  /** The edge refused the planned request and this plan, decided again for the rest of the budget, was carried out instead. */
  replanned?: { decision: Decision; refused: Outcome; reason: string };
  /** The device's raced answer held too few lines for this photo, so the edge's was awaited. */
  awaitedBetter?: boolean;
  /** The recognition decision made after device detection, when there was one: what the planner is told about. */
  recognition?: Decision;
  /** How the crops were shared when recognition was split. */
  split?: SplitResult['split'];
}

/** Edge failures the device can recover from; a 4xx other than 429 is the request's fault and fails anywhere. */
export function failureKind(error: unknown): Outcome['failure'] | null {
  if (!(error instanceof Error)) return null;
  const status = (error as EdgeError).status;
  if (status === 503 || status === 429) return 'refused';
  switch (error.name) {
    case 'EdgeTimeout':
    case 'TimeoutError':
      return 'timeout';
    case 'EdgeUnreachable':
      return 'network';
    case 'EdgeFailed':
      return 'error';
    default:
      return null;
  }
}

/** What a refusal said about itself (predicted_ms, Retry-After; 429 is a rate limit), for the planner. */
export function refusalOf(error: unknown): RefusalInfo | undefined {
  if (!(error instanceof Error)) return undefined;
  const e = error as EdgeError;
  if (e.status !== 503 && e.status !== 429) return undefined;
  const info: RefusalInfo = {};
  if (e.predictedMs !== undefined) info.predictedMs = e.predictedMs;
  if (e.budgetMs !== undefined) info.budgetMs = e.budgetMs;
  if (e.retryAfterMs !== undefined) info.retryAfterMs = e.retryAfterMs;
  if (e.status === 429) info.rateLimited = true;
  return Object.keys(info).length > 0 ? info : undefined;
}

/**
 * A raced answer that should not end the race while a better plan still runs: no lines at all where the photo was
 * expected to hold some (`expectedLines`, the planner's prediction for it). Fewer lines than expected is not enough:
 * before a similar photo has been read the expectation is the profiles' mean, which a street sign with two lines is
 * far below, and the device's correct answer would then wait for the edge.
 */
export function tooFewLines(lines: number, expectedLines: number): boolean {
  return expectedLines >= 1 && lines === 0;
}

/**
 * How long to wait for the edge before falling back. When the device could still finish in the budget, until
 * that is no longer so (never sooner than 1.5 × the edge's p95); when it could not anyway, giving up on a late edge
 * would only make the answer later still, so the edge gets much longer.
 */
export function edgeTimeoutMs(decision: Decision): number {
  const p95 = decision.predicted.p95Ms;
  const room = decision.budgetMs - (decision.fallback?.expectedMs ?? Infinity);
  const ms = room > 0 ? Math.max(room, 1.5 * p95, 1_000) : Math.max(2 * decision.budgetMs, 3 * p95, 5_000);
  return Math.round(Math.min(30_000, ms));
}

/**
 * The planner expects the answer past the budget whatever runs: its plan's expected time is past it and the
 * fallback's (if any) too. On the development traces the edge refused half of such requests near their deadline, and
 * each was sent again in whole (a second upload on a 3G uplink) to arrive later than edge mode's single request.
 */
export function expectedLate(decision: Decision): boolean {
  return decision.predicted.expectedMs > decision.budgetMs && !(decision.fallback !== null && decision.fallback.expectedMs <= decision.budgetMs);
}

export async function execute(decision: Decision, image: Blob, ex: Executors, forceEdge = false): Promise<Execution> {
  const t0 = ex.now();
  const plan = decision.plan;
  const device = async (p: Plan, use: DeviceSetUse = 'plan', signal?: AbortSignal): Promise<{ result: DeviceOcrResult; loadMs: number }> => {
    const { ms } = await ex.deviceReady(p.config.variant, use);
    // Stopped while its models were loading (the edge answered a race meanwhile): an abort signalled before the run
    // starts never reaches it, and a receipt read whole on a slow phone held the worker 10-20 s, the next photo's
    // re-encode waiting behind it.
    if (signal?.aborted) throw ocrError('OcrCancelled', 'This OCR run was cancelled before it started: its answer is no longer wanted.');
    const result = await ex.deviceOcr(image, { maxSide: p.config.maxSide }, signal);
    return { result, loadMs: ms };
  };
  const deviceOutcome = (r: { result: DeviceOcrResult; loadMs: number }, extra: Partial<Outcome> = {}): Outcome => {
    const stages = deviceStages(r.result.timings, r.result.device.decodeMs);
    if (r.loadMs > 0) stages['model-load'] = r.loadMs;
    return {
      atMs: ex.now(),
      ok: true,
      totalMs: ex.now() - t0,
      winner: 'device',
      lines: r.result.lines.length,
      recInputWidth: recInputWidth(r.result.lines),
      device: stages,
      ...extra,
    };
  };

  if ((plan.kind === 'device' || plan.kind === 'split-rec') && !forceEdge && ex.split) return detectThenRecognize(decision, image, ex, ex.split, t0);
  // Without two-step runs, a split-recognition plan is read whole on the device (its detection runs there anyway).
  if ((plan.kind === 'device' || plan.kind === 'split-rec') && !forceEdge) {
    const r = await device(plan);
    return { ranOn: 'device', lines: r.result.lines, image: r.result.image, device: r.result, outcome: deviceOutcome(r) };
  }

  // Edge (whole request): prepare the upload.
  let upload = image;
  let reencodeMs: number | undefined;
  let reencodedBytes: number | undefined;
  const { imageWidth: width, imageHeight: height } = decision.inputs;
  let imageSize = width > 0 && height > 0 ? { width, height } : undefined;
  if (plan.upload?.kind === 'reencode') {
    const r = await ex.reencode(image, plan.upload.maxSide, plan.upload.quality);
    upload = r.blob;
    reencodeMs = r.ms;
    reencodedBytes = r.blob.size;
    imageSize = r.width > 0 && r.height > 0 ? { width: r.width, height: r.height } : undefined;
  }
  const abort = new AbortController();
  const sentAt = ex.now();
  // A forced edge run asks for no deadline (the user wants the edge's answer, as before); a budget already spent
  // would only get the request refused, the answer is then wanted as soon as possible. So is one the planner
  // itself expects past its budget with no fallback that could make it: a refusal would only send the photo again.
  const budgetMs = !forceEdge && !expectedLate(decision) && decision.budgetMs - (sentAt - t0) >= 50 ? decision.budgetMs - (sentAt - t0) : undefined;
  const esc = decision.escalation;
  const edgePromise = ex.edgeOcr(upload, {
    maxSide: plan.config.maxSide,
    budgetMs,
    // Only against a deadline: without one the edge would detect again however late that made the answer.
    ...(esc && budgetMs !== undefined && { escalate: { side: esc.maxSide, below: esc.belowLines, ms: esc.costMs } }),
    // Once taken, the edge's answer is wanted even late: this page aborts the request when it stops waiting for it (a
    // raced device answer, its own timeout). Dropped at the deadline instead, a receipt the edge had nearly read was
    // sent and read again from the start: 8.3 s where edge mode took 5.5 s.
    lateAnswer: true,
    timeoutMs: forceEdge ? undefined : edgeTimeoutMs(decision),
    imageSize,
    signal: abort.signal,
  });
  const base: Partial<Outcome> = {};
  if (reencodeMs !== undefined) base.device = { reencode: reencodeMs };
  if (reencodedBytes !== undefined) base.reencodedBytes = reencodedBytes;
  const edgeOutcome = (reply: EdgeOcrResult): NonNullable<Outcome['edge']> => ({
    elapsedMs: reply.roundTripMs,
    uploadBytes: reply.uploadBytes,
    downloadBytes: reply.downloadBytes,
    serverMs: serverWorkMs(reply.serverTiming),
    ...(reply.serverTiming.read !== undefined && { readMs: reply.serverTiming.read }),
    queueMs: reply.serverTiming.queue ?? reply.response.server.queue,
    stages: edgeStages(reply.serverTiming, reply.response.escalated !== undefined),
    lines: reply.response.lines.length,
    ...(reply.response.escalated !== undefined && { escalated: true }),
  });
  const fromEdge = (reply: EdgeOcrResult, raceWon?: 'edge'): Execution => ({
    ranOn: 'edge',
    lines: reply.response.lines,
    image: reply.response.image,
    edge: reply,
    raceWon,
    outcome: {
      ...base,
      atMs: ex.now(),
      ok: true,
      totalMs: ex.now() - t0,
      winner: 'edge',
      lines: reply.response.lines.length,
      recInputWidth: recInputWidth(reply.response.lines),
      edge: edgeOutcome(reply),
    },
  });
  const fallbackPlan = decision.fallback?.plan;
  if (forceEdge) return forcedEdge(edgePromise, fromEdge, () => device(plan, 'held'), deviceOutcome);
  if (!fallbackPlan) return fromEdge(await edgePromise);

  // Race: the device starts at raceStartAtMs unless the edge has answered; otherwise only after an edge failure.
  type Settled =
    { kind: 'edge'; reply: EdgeOcrResult } | { kind: 'edge-failed'; error: unknown } | { kind: 'device'; r: { result: DeviceOcrResult; loadMs: number } };
  const edgeSettled: Promise<Settled> = edgePromise.then(
    (reply) => ({ kind: 'edge', reply }),
    (error: unknown) => ({ kind: 'edge-failed', error }),
  );
  let deviceRun: Promise<Settled> | undefined;
  const raced = new AbortController();
  const startDevice = () => (deviceRun ??= device(fallbackPlan, 'loaded', raced.signal).then((r) => ({ kind: 'device' as const, r })));
  // The edge's answer won: the device run still under way is stopped, or it would hold the phone (a receipt on a slow
  // phone for half a minute) and delay the next photo's own work.
  const edgeWon = (reply: EdgeOcrResult): Execution => {
    if (deviceRun !== undefined) {
      raced.abort();
      deviceRun.catch(() => undefined);
    }
    return fromEdge(reply, deviceRun ? 'edge' : undefined);
  };
  let timer: ReturnType<typeof setTimeout> | undefined;
  const raceStart =
    decision.raceStartAtMs !== null
      ? new Promise<void>((resolve) => {
          timer = setTimeout(resolve, Math.max(0, decision.raceStartAtMs! - (ex.now() - t0)));
        })
      : new Promise<void>(() => undefined);
  const first = await Promise.race([edgeSettled, raceStart.then(() => startDevice())]);
  clearTimeout(timer);

  if (first.kind === 'edge') return edgeWon(first.reply);
  let edgeFailure: unknown;
  let settled: Settled = first;
  if (first.kind === 'edge-failed') {
    const kind = failureKind(first.error);
    if (kind === null) throw first.error;
    // Refused for the deadline while the device could not make it either (e.g. its models are not downloaded yet):
    // the edge's answer, however late, is still the sooner one. Ask again without a deadline.
    const left = decision.budgetMs - (ex.now() - t0);
    // A refusal says how long the edge is busy: decide again for what is left of the budget, so the answer is the
    // most accurate plan that still fits rather than the decision's fallback (sized for the whole budget).
    if (kind === 'refused' && deviceRun === undefined && ex.replan && left > 0) {
      const refused: Outcome = { ...base, atMs: ex.now(), ok: false, failure: 'refused', totalMs: ex.now() - t0, refusal: refusalOf(first.error) };
      const next = ex.replan(decision, refused, left);
      if (next.fits) {
        const run = await execute(next, image, { ...ex, replan: undefined, split: undefined });
        run.replanned = { decision: next, refused, reason: (first.error as Error).message };
        return run;
      }
    }
    const askAgain = () => ex.edgeOcr(upload, { maxSide: plan.config.maxSide, timeoutMs: 30_000, signal: abort.signal });
    // The refusal still counts (the planner keeps off the edge for a while); the reply teaches its stages.
    const answeredAgain = (run: Execution): Execution => {
      run.outcome.failure = 'refused';
      run.outcome.refusal = refusalOf(first.error);
      run.retried = (first.error as Error).message;
      return run;
    };
    if (kind === 'refused' && deviceRun === undefined && decision.fallback !== null && decision.fallback.expectedMs > left) {
      try {
        return answeredAgain(fromEdge(await askAgain()));
      } catch (error) {
        if (failureKind(error) === null) throw error;
      }
    }
    if (kind === 'refused' && deviceRun !== undefined) {
      // Refused with the raced device run under way: that run may take many times the edge's late answer (a
      // receipt's lines on a slow phone took 10 s where the edge needed 1.3 s). The edge is asked again without a
      // deadline and whichever answers first is the answer.
      const retry: Promise<Settled> = askAgain().then(
        (reply) => ({ kind: 'edge', reply }),
        (error: unknown) => ({ kind: 'edge-failed', error }),
      );
      const next = await Promise.race([retry, deviceRun]);
      if (next.kind === 'edge') return answeredAgain(edgeWon(next.reply));
      if (next.kind === 'device') abort.abort();
    }
    // An edge that ran out of time while the raced device run was under way lost the race; it did not fail.
    if (!(deviceRun !== undefined && kind === 'timeout')) edgeFailure = first.error;
    settled = await startDevice();
  } else {
    // The device run started; whichever answers first wins, and an edge failure leaves the device to finish.
    const next = await Promise.race([edgeSettled, deviceRun!]);
    if (next.kind === 'edge') return edgeWon(next.reply);
    if (next.kind === 'edge-failed') {
      if (failureKind(next.error) !== 'timeout') edgeFailure = next.error;
      settled = await deviceRun!;
    } else if (tooFewLines(next.r.result.lines.length, decision.inputs.lines)) {
      // An empty (or nearly empty) quick answer is no win while the edge, reading at its own size, may still answer:
      // it is awaited until the budget or its own predicted p95, whichever is later (it has its own timeout too).
      const waitMs = Math.max(decision.budgetMs, decision.predicted.p95Ms) - (ex.now() - t0);
      let waitTimer: ReturnType<typeof setTimeout> | undefined;
      const late = await Promise.race([edgeSettled, new Promise<null>((resolve) => (waitTimer = setTimeout(() => resolve(null), Math.max(0, waitMs))))]);
      clearTimeout(waitTimer);
      if (late !== null && late.kind === 'edge') {
        const run = fromEdge(late.reply, 'edge');
        run.awaitedBetter = true;
        return run;
      }
      if (late !== null && late.kind === 'edge-failed' && failureKind(late.error) !== 'timeout') edgeFailure = late.error;
      settled = next;
    } else settled = next;
  }
  if (settled.kind !== 'device') throw new Error('unreachable: the device run settles as a device result');
  const edgeGaveUpAt = ex.now();
  if (edgeFailure === undefined) abort.abort();
  const failure = edgeFailure === undefined ? undefined : (failureKind(edgeFailure) ?? 'error');
  const outcome = deviceOutcome(settled.r, { ok: true, failure });
  // The edge request that lost (or ran out of time) was still on its way: how long it had been tells the planner the
  // link is no faster than that, which a fall in the uplink would otherwise never teach it.
  const unanswered = failure === undefined || failure === 'timeout' || failure === 'network';
  if (unanswered) outcome.edgeUnanswered = { elapsedMs: edgeGaveUpAt - sentAt, uploadBytes: upload.size };
  if (failure === 'refused') outcome.refusal = refusalOf(edgeFailure);
  if (reencodeMs !== undefined) outcome.device = { ...outcome.device, reencode: reencodeMs };
  if (reencodedBytes !== undefined) outcome.reencodedBytes = reencodedBytes;
  return {
    ranOn: 'device',
    lines: settled.r.result.lines,
    image: settled.r.result.image,
    device: settled.r.result,
    fellBack: edgeFailure instanceof Error ? edgeFailure.message : undefined,
    raceWon: edgeFailure === undefined ? 'device' : undefined,
    outcome,
  };
}

/** Detection on the device, then recognition where the planner decides with the line count known. */
async function detectThenRecognize(decision: Decision, image: Blob, ex: Executors, split: NonNullable<Executors['split']>, t0: number): Promise<Execution> {
  const { ms: loadMs } = await ex.deviceReady(decision.plan.config.variant);
  const det = await split.detect(image, { maxSide: decision.plan.config.maxSide });
  const remaining = decision.budgetMs - (ex.now() - t0);
  const recognition = split.redecide(det.lines, remaining);
  const edgeShare = recognition.plan.kind === 'split-rec' ? recognition.plan.recEdgeShare : 0;
  const r = await split.recognize(det.id, { edgeShare, budgetMs: split.forced ? Infinity : Math.max(1, remaining) });
  const s = r.split;
  const device: NonNullable<Outcome['device']> = {
    decode: det.decodeMs,
    'det-preprocess': det.timings.preprocess,
    det: det.timings.det,
    postprocess: det.timings.postprocess,
  };
  if (s.deviceLines > 0) device.rec = s.deviceRecMs;
  if (loadMs > 0) device['model-load'] = loadMs;
  const outcome: Outcome = { atMs: ex.now(), ok: true, totalMs: ex.now() - t0, winner: 'device', lines: det.lines, device, deviceLines: s.deviceLines };
  if (s.edge) {
    outcome.edge = {
      elapsedMs: s.edge.elapsedMs,
      uploadBytes: s.edge.uploadBytes,
      downloadBytes: s.edge.downloadBytes,
      serverMs: s.edge.serverMs,
      queueMs: s.edge.queueMs,
      stages: { rec: s.edge.serverMs - s.edge.queueMs },
      lines: s.edgeLines,
    };
  }
  if (s.edgeFailed) {
    const { code, message, ...figures } = s.edgeFailed;
    const error = Object.assign(new Error(message), { name: code, ...figures });
    outcome.failure = failureKind(error) ?? 'error';
    if (outcome.failure === 'refused') outcome.refusal = refusalOf(error);
  }
  return {
    ranOn: 'device',
    lines: r.lines,
    image: r.image,
    device: r,
    outcome,
    recognition,
    split: s,
    fellBack: s.edgeFailed ? `recognition on the edge failed: ${s.edgeFailed.message}` : undefined,
  };
}

/**
 * A forced edge run: the edge's answer, or its refusal as it came (the edge answered, the user chose it). When the
 * edge fails mid-request (killed, link dropped, 5xx) the device answers and says why; if the device cannot either,
 * the edge's failure is the error shown, with the device's reason added.
 */
async function forcedEdge(
  edgePromise: Promise<EdgeOcrResult>,
  fromEdge: (reply: EdgeOcrResult) => Execution,
  runDevice: () => Promise<{ result: DeviceOcrResult; loadMs: number }>,
  deviceOutcome: (r: { result: DeviceOcrResult; loadMs: number }, extra?: Partial<Outcome>) => Outcome,
): Promise<Execution> {
  let edgeError: unknown;
  try {
    return fromEdge(await edgePromise);
  } catch (error) {
    const kind = failureKind(error);
    if (kind === null || kind === 'refused') throw error;
    edgeError = error;
  }
  const failure = failureKind(edgeError)!;
  let r: { result: DeviceOcrResult; loadMs: number };
  try {
    r = await runDevice();
  } catch (deviceError) {
    const e = edgeError as Error;
    e.message = `${e.message} The device could not answer instead: ${deviceError instanceof Error ? deviceError.message : String(deviceError)}`;
    throw e;
  }
  return {
    ranOn: 'device',
    lines: r.result.lines,
    image: r.result.image,
    device: r.result,
    fellBack: (edgeError as Error).message,
    outcome: deviceOutcome(r, { ok: true, failure }),
  };
}
