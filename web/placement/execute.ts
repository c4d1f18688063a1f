/**
 * Carries out a decision: on the device through the worker, or on the edge (original or re-encoded upload, the
 * plan's detector size, the remaining budget sent along), with the plan's race (a device run started at
 * `raceStartAtMs` if the edge has not answered) and fallback (refused, failed or late edge → device). Returns the
 * result with the Outcome the planner learns from.
 */
import type { Decision, Outcome, Plan } from '../../core/placement';
import type { OcrLine } from '../../core/ocr/types';
import type { EdgeError, EdgeOcrOptions, EdgeOcrResult } from '../edge-client';
import type { DeviceOcrOptions, DeviceOcrResult, ReencodeResult } from '../worker/api';
import { deviceStages, edgeStages, serverWorkMs } from './observations';

export interface Executors {
  /** Makes sure the worker has its models and sessions; `ms` is the time it took when it had to load, else 0. */
  deviceReady(): Promise<{ ms: number }>;
  deviceOcr(image: Blob, options: DeviceOcrOptions): Promise<DeviceOcrResult>;
  reencode(image: Blob, maxSide: number, quality: number): Promise<ReencodeResult>;
  edgeOcr(image: Blob, options: EdgeOcrOptions): Promise<EdgeOcrResult>;
  now(): number;
}

export interface Execution {
  ranOn: 'device' | 'edge';
  lines: OcrLine[];
  image: { width: number; height: number };
  /** Why the edge's answer was not used, when the device stepped in. */
  fellBack?: string;
  /** The device answered a raced edge plan first. */
  raceWon?: 'device' | 'edge';
  device?: DeviceOcrResult;
  edge?: EdgeOcrResult;
  outcome: Outcome;
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

export async function execute(decision: Decision, image: Blob, ex: Executors, forceEdge = false): Promise<Execution> {
  const t0 = ex.now();
  const plan = decision.plan;
  const device = async (p: Plan): Promise<{ result: DeviceOcrResult; loadMs: number }> => {
    const { ms } = await ex.deviceReady();
    const result = await ex.deviceOcr(image, { maxSide: p.config.maxSide });
    return { result, loadMs: ms };
  };
  const deviceOutcome = (r: { result: DeviceOcrResult; loadMs: number }, extra: Partial<Outcome> = {}): Outcome => {
    const stages = deviceStages(r.result.timings, r.result.device.decodeMs);
    if (r.loadMs > 0) stages['model-load'] = r.loadMs;
    return { atMs: ex.now(), ok: true, totalMs: ex.now() - t0, winner: 'device', lines: r.result.lines.length, device: stages, ...extra };
  };

  if (plan.kind === 'device' && !forceEdge) {
    const r = await device(plan);
    return { ranOn: 'device', lines: r.result.lines, image: r.result.image, device: r.result, outcome: deviceOutcome(r) };
  }

  // Edge (whole request): prepare the upload.
  let upload = image;
  let reencodeMs: number | undefined;
  let reencodedBytes: number | undefined;
  if (plan.upload?.kind === 'reencode') {
    const r = await ex.reencode(image, plan.upload.maxSide, plan.upload.quality);
    upload = r.blob;
    reencodeMs = r.ms;
    reencodedBytes = r.blob.size;
  }
  const abort = new AbortController();
  const sentAt = ex.now();
  const edgePromise = ex.edgeOcr(upload, {
    maxSide: plan.config.maxSide,
    budgetMs: Math.max(0, decision.budgetMs - (sentAt - t0)),
    timeoutMs: forceEdge ? undefined : edgeTimeoutMs(decision),
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
    queueMs: reply.serverTiming.queue ?? reply.response.server.queue,
    stages: edgeStages(reply.serverTiming),
    lines: reply.response.lines.length,
  });
  const fromEdge = (reply: EdgeOcrResult, raceWon?: 'edge'): Execution => ({
    ranOn: 'edge',
    lines: reply.response.lines,
    image: reply.response.image,
    edge: reply,
    raceWon,
    outcome: { ...base, atMs: ex.now(), ok: true, totalMs: ex.now() - t0, winner: 'edge', lines: reply.response.lines.length, edge: edgeOutcome(reply) },
  });
  const fallbackPlan = decision.fallback?.plan;
  if (forceEdge || !fallbackPlan) return fromEdge(await edgePromise);

  // Race: the device starts at raceStartAtMs unless the edge has answered; otherwise only after an edge failure.
  type Settled = { kind: 'edge'; reply: EdgeOcrResult } | { kind: 'edge-failed'; error: unknown } | { kind: 'device'; r: { result: DeviceOcrResult; loadMs: number } };
  const edgeSettled: Promise<Settled> = edgePromise.then(
    (reply) => ({ kind: 'edge', reply }),
    (error: unknown) => ({ kind: 'edge-failed', error }),
  );
  let deviceRun: Promise<Settled> | undefined;
  const startDevice = () => (deviceRun ??= device(fallbackPlan).then((r) => ({ kind: 'device' as const, r })));
  let timer: ReturnType<typeof setTimeout> | undefined;
  const raceStart =
    decision.raceStartAtMs !== null
      ? new Promise<void>((resolve) => {
          timer = setTimeout(resolve, Math.max(0, decision.raceStartAtMs! - (ex.now() - t0)));
        })
      : new Promise<void>(() => undefined);
  const first = await Promise.race([edgeSettled, raceStart.then(() => startDevice())]);
  clearTimeout(timer);

  if (first.kind === 'edge') return fromEdge(first.reply, deviceRun ? 'edge' : undefined);
  let edgeFailure: unknown;
  let settled: Settled = first;
  if (first.kind === 'edge-failed') {
    const kind = failureKind(first.error);
    if (kind === null) throw first.error;
    // An edge that ran out of time while the raced device run was under way lost the race; it did not fail.
    if (!(deviceRun !== undefined && kind === 'timeout')) edgeFailure = first.error;
    settled = await startDevice();
  } else {
    // The device run started; whichever answers first wins, and an edge failure leaves the device to finish.
    const next = await Promise.race([edgeSettled, deviceRun!]);
    if (next.kind === 'edge') return fromEdge(next.reply, 'edge');
    if (next.kind === 'edge-failed') {
      if (failureKind(next.error) !== 'timeout') edgeFailure = next.error;
      settled = await deviceRun!;
    } else settled = next;
  }
  if (settled.kind !== 'device') throw new Error('unreachable: the device run settles as a device result');
  if (edgeFailure === undefined) abort.abort();
  const failure = edgeFailure === undefined ? undefined : (failureKind(edgeFailure) ?? 'error');
  const outcome = deviceOutcome(settled.r, { ok: true, failure });
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
