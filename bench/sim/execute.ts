/**
 * Runs one plan of the real plan space against a trace and a request's drawn compute times: what the request would
 * have taken, what it cost and what the client would have measured (the Outcome the planner learns from).
 *
 * Network: one round trip per exchange plus the upload and the reply, each integrated over the trace's rate from
 * the moment it starts. The edge serves this client alone (no queue). The device runs one thing at a time: work
 * waits until the previous request's device work is done.
 */
import { splitRecCropBytesPerLine, type Profiles, type ProfiledStage } from '../../core/profiles';
import type { Outcome, Plan } from '../../core/placement';
import { reencodeKey } from '../../core/placement/estimators/recall';
import { profiledLineWidth } from '../../core/placement/rec-width';
import { detInputPixels } from '../../core/placement/stage-table';
import type { ComputeSampler } from './compute';
import type { SimImage } from './images';
import { type LinkTrace, rttAt } from './traces';

/** A client gives up on an edge reply after this long (and the request counts as failed). */
export const EDGE_TIMEOUT_MS = 30_000;

const STAGES = ['decode', 'reencode', 'det-preprocess', 'det', 'postprocess', 'cls', 'rec', 'request'] as const;

export interface Draws {
  /** Standard-normal draw per (location, stage), shared by all plans. */
  device: Record<(typeof STAGES)[number], number>;
  edge: Record<(typeof STAGES)[number], number>;
  /** Actual / profiled size of a re-encoded JPEG (content dependent). */
  reencodeRatio: number;
}

export function drawFor(rnd: () => number, reencodeSdLn = 0.25): Draws {
  const z = () => gauss(rnd);
  const rec = () => Object.fromEntries(STAGES.map((s) => [s, z()])) as Draws['device'];
  return { device: rec(), edge: rec(), reencodeRatio: Math.exp(reencodeSdLn * z()) };
}

export function gauss(rnd: () => number): number {
  const u = Math.max(1e-12, rnd());
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rnd());
}

export interface Run {
  /** From arrival to result. */
  totalMs: number;
  ok: boolean;
  accuracy: number;
  edgeMs: number;
  /** Bytes over the network (uploads and replies). */
  bytes: number;
  /** When the device is free again (absolute). */
  deviceFreeAt: number;
  winner: 'edge' | 'device';
  outcome: Outcome;
}

export interface RunContext {
  profiles: Profiles;
  sampler: ComputeSampler;
  trace: LinkTrace;
  image: SimImage;
  draws: Draws;
  /** Arrival (trace clock). */
  t0: number;
  deviceFreeAt: number;
}

/**
 * What the plan reads of this photo: its measured per-photo recall at the plan's side when there is one (scaled by
 * the plan's models against fp32 at that side, over the set), else the configuration's set-wide recall; a re-encoded
 * upload keeps what this photo kept of its original's words when re-encoded so (measured at the largest side the
 * upload allows), else the option's profiled share.
 */
function accuracyOf(plan: Plan, profiles: Profiles, image: SimImage): number {
  const c = plan.config;
  let acc = c.accuracy;
  const own = image.recallBySide?.[c.maxSide];
  if (own !== undefined) {
    const fp32 = profiles.accuracy.find((a) => a.maxSide === c.maxSide && a.det.endsWith('@fp32') && a.rec.endsWith('@fp32'));
    acc = own * (fp32 !== undefined && fp32.wordRecall > 0 ? c.accuracy / fp32.wordRecall : 1);
  }
  const up = plan.upload;
  if (plan.kind === 'edge' && up?.kind === 'reencode') {
    const r = profiles.reencode.find((x) => x.maxSide === up.maxSide && x.quality === up.quality);
    return acc * (reencodeKeptOf(image, up) ?? r?.recallFactor ?? 1);
  }
  return acc;
}

/** What this photo, re-encoded so, kept of its original's words at the same side (undefined when not measured). */
function reencodeKeptOf(image: SimImage, up: { maxSide: number; quality: number }): number | undefined {
  const reencoded = image.recallByReencode?.[reencodeKey(up)];
  if (reencoded === undefined || image.recallBySide === undefined) return undefined;
  const sides = Object.keys(image.recallBySide).map(Number);
  const side = Math.min(up.maxSide, Math.max(...sides));
  const original = image.recallBySide[side];
  if (original === undefined) return undefined;
  return original > 0 ? reencoded / original : 1;
}

/** Realised run of a non-racing plan, or of a race given when its device run starts and which plan it runs. */
export function runPlan(ctx: RunContext, plan: Plan, race?: RaceRun): Run {
  if (plan.race && race !== undefined) return runRace(ctx, plan, race);
  switch (plan.kind) {
    case 'device':
      return runDevice(ctx, plan, ctx.t0);
    case 'edge':
      return runEdge(ctx, plan);
    case 'split-rec':
      return runSplitRec(ctx, plan);
    case 'split-det':
      return runSplitDet(ctx, plan);
  }
}

/** What a read at detector side `side` finds. */
interface Read {
  lines: number;
  /** Recognition's work in profiled lines (lines × width factor). */
  units: number;
  /** Total recogniser input width, when measured (reported as the page reports it). */
  recInputWidth?: number;
}

/**
 * The lines this photo's read finds at `side` and their recogniser width, as measured per side (a receipt's lines run
 * wide; a small side finds fewer of them); else its labelled lines at the profiled width.
 */
function readAt(ctx: RunContext, side: number): Read {
  const { image } = ctx;
  const lines = image.linesBySide?.[side] ?? image.lines;
  const width = image.recWidthBySide?.[side];
  const profiled = profiledLineWidth(ctx.profiles);
  return width !== undefined && profiled > 0 ? { lines, units: width / profiled, recInputWidth: width } : { lines, units: lines };
}

function dev(ctx: RunContext, stage: ProfiledStage & keyof Draws['device'], model: string | undefined, x: number): number {
  return ctx.sampler.draw('device', stage, model, x, ctx.draws.device[stage]);
}

function edge(ctx: RunContext, stage: ProfiledStage & keyof Draws['edge'], model: string | undefined, x: number): number {
  return ctx.sampler.draw('edge', stage, model, x, ctx.draws.edge[stage]);
}

/** Upload `upBytes` at `start`, serve for `serverMs`, download `downBytes`: elapsed client time. */
function exchange(ctx: RunContext, start: number, upBytes: number, serverMs: number, downBytes: number): { elapsed: number; upMs: number } {
  const rtt = rttAt(ctx.trace, start);
  const upMs = ctx.trace.up.transferMs(start, upBytes);
  if (!Number.isFinite(upMs)) return { elapsed: Infinity, upMs };
  const replyAt = start + rtt / 2 + upMs + serverMs;
  const downMs = ctx.trace.down.transferMs(replyAt, downBytes);
  return { elapsed: rtt + upMs + serverMs + downMs, upMs };
}

/** When detection of a plan that detects on the device ends (absolute; same draws as the full run). */
export function deviceDetectionEnd(ctx: RunContext, plan: Plan): number {
  const { image } = ctx;
  const start = Math.max(ctx.t0, ctx.deviceFreeAt);
  const px = detInputPixels(image.width, image.height, plan.config.maxSide);
  return (
    start +
    dev(ctx, 'decode', undefined, image.width * image.height) +
    dev(ctx, 'det-preprocess', undefined, px) +
    dev(ctx, 'det', plan.config.det, px) +
    dev(ctx, 'postprocess', undefined, px)
  );
}

function runDevice(ctx: RunContext, plan: Plan, startAt: number): Run {
  const { image } = ctx;
  const start = Math.max(startAt, ctx.deviceFreeAt);
  const px = detInputPixels(image.width, image.height, plan.config.maxSide);
  const read = readAt(ctx, plan.config.maxSide);
  const d = {
    decode: dev(ctx, 'decode', undefined, image.width * image.height),
    'det-preprocess': dev(ctx, 'det-preprocess', undefined, px),
    det: dev(ctx, 'det', plan.config.det, px),
    postprocess: dev(ctx, 'postprocess', undefined, px),
    cls: plan.cls ? dev(ctx, 'cls', plan.cls, read.lines) : 0,
    rec: dev(ctx, 'rec', plan.config.rec, read.units),
  };
  const work = d.decode + d['det-preprocess'] + d.det + d.postprocess + d.cls + d.rec;
  const end = start + work;
  const totalMs = end - ctx.t0;
  return {
    totalMs,
    ok: true,
    accuracy: accuracyOf(plan, ctx.profiles, ctx.image),
    edgeMs: 0,
    bytes: 0,
    deviceFreeAt: end,
    winner: 'device',
    outcome: { atMs: end, ok: true, totalMs, winner: 'device', lines: read.lines, recInputWidth: read.recInputWidth, device: d },
  };
}

function runEdge(ctx: RunContext, plan: Plan): Run {
  const { image, profiles } = ctx;
  const up = plan.upload!;
  const origPx = image.width * image.height;
  let prepMs = 0;
  let start = ctx.t0;
  let upBytes = image.bytes;
  let upPx = origPx;
  const device: Outcome['device'] = {};
  let deviceFreeAt = ctx.deviceFreeAt;
  if (up.kind === 'reencode') {
    const r = profiles.reencode.find((x) => x.maxSide === up.maxSide && x.quality === up.quality)!;
    const longest = Math.max(image.width, image.height);
    const scale = longest > r.maxSide ? r.maxSide / longest : 1;
    upPx = Math.round(image.width * scale) * Math.round(image.height * scale);
    upBytes = Math.max(1000, ((r.bitsPerPixel * upPx) / 8) * ctx.draws.reencodeRatio);
    device.reencode = dev(ctx, 'reencode', undefined, origPx);
    prepMs = device.reencode;
    start = Math.max(ctx.t0, ctx.deviceFreeAt);
    deviceFreeAt = start + prepMs;
    start += prepMs;
  }
  const px = detInputPixels(image.width, image.height, plan.config.maxSide);
  const read = readAt(ctx, plan.config.maxSide);
  const s = {
    request: edge(ctx, 'request', undefined, upBytes),
    decode: edge(ctx, 'decode', undefined, upPx),
    'det-preprocess': edge(ctx, 'det-preprocess', undefined, px),
    det: edge(ctx, 'det', plan.config.det, px),
    postprocess: edge(ctx, 'postprocess', undefined, px),
    cls: plan.cls ? edge(ctx, 'cls', plan.cls, read.lines) : 0,
    rec: edge(ctx, 'rec', plan.config.rec, read.units),
  };
  const serverMs = s.request + s.decode + s['det-preprocess'] + s.det + s.postprocess + s.cls + s.rec;
  const t = profiles.transfer;
  const downBytes = t.responseBytes.base + t.responseBytes.perLine * read.lines;
  return finishEdge(ctx, plan, start, upBytes, downBytes, serverMs, s, device, deviceFreeAt, up.kind === 'reencode' ? upBytes : undefined, read);
}

function finishEdge(
  ctx: RunContext,
  plan: Plan,
  sendAt: number,
  upBytes: number,
  downBytes: number,
  serverMs: number,
  stages: NonNullable<Outcome['edge']>['stages'],
  device: Outcome['device'],
  deviceFreeAt: number,
  reencodedBytes: number | undefined,
  /** What the answer holds, and the lines the edge recognised. */
  read: Read & { edgeLines?: number },
  afterReply = 0,
): Run {
  const { elapsed } = exchange(ctx, sendAt, upBytes, serverMs, downBytes);
  if (!(sendAt - ctx.t0 + elapsed <= EDGE_TIMEOUT_MS)) {
    const totalMs = sendAt - ctx.t0 + EDGE_TIMEOUT_MS;
    return {
      totalMs,
      ok: false,
      accuracy: 0,
      edgeMs: 0,
      bytes: upBytes,
      deviceFreeAt,
      winner: 'edge',
      outcome: { atMs: ctx.t0 + totalMs, ok: false, totalMs, failure: 'timeout' },
    };
  }
  const end = sendAt + elapsed + afterReply;
  const totalMs = end - ctx.t0;
  const hasDevice = device !== undefined && Object.keys(device).length > 0;
  return {
    totalMs,
    ok: true,
    accuracy: accuracyOf(plan, ctx.profiles, ctx.image),
    edgeMs: serverMs,
    bytes: upBytes + downBytes,
    deviceFreeAt: afterReply > 0 ? end : deviceFreeAt,
    winner: 'edge',
    outcome: {
      atMs: end,
      ok: true,
      totalMs,
      winner: 'edge',
      lines: read.lines,
      recInputWidth: read.recInputWidth,
      device: hasDevice ? device : undefined,
      edge: { elapsedMs: elapsed, uploadBytes: upBytes, downloadBytes: downBytes, serverMs, queueMs: 0, stages, lines: read.edgeLines ?? read.lines },
      reencodedBytes,
    },
  };
}

function runSplitRec(ctx: RunContext, plan: Plan): Run {
  const { image, profiles } = ctx;
  const start = Math.max(ctx.t0, ctx.deviceFreeAt);
  const px = detInputPixels(image.width, image.height, plan.config.maxSide);
  const read = readAt(ctx, plan.config.maxSide);
  const edgeLines = Math.round(read.lines * plan.recEdgeShare);
  const devLines = read.lines - edgeLines;
  // The lines are taken as equally wide on both sides.
  const unitsPerLine = read.lines > 0 ? read.units / read.lines : 1;
  const d: NonNullable<Outcome['device']> = {
    decode: dev(ctx, 'decode', undefined, image.width * image.height),
    'det-preprocess': dev(ctx, 'det-preprocess', undefined, px),
    det: dev(ctx, 'det', plan.config.det, px),
    postprocess: dev(ctx, 'postprocess', undefined, px),
  };
  const front = d.decode! + d['det-preprocess']! + d.det! + d.postprocess!;
  d.cls = plan.cls && devLines > 0 ? dev(ctx, 'cls', plan.cls, devLines) : 0;
  d.rec = devLines > 0 ? dev(ctx, 'rec', plan.config.rec, devLines * unitsPerLine) : 0;
  const deviceEnd = start + front + d.cls + d.rec;
  const t = profiles.transfer;
  const upBytes = Math.max(1, splitRecCropBytesPerLine(t) * edgeLines * unitsPerLine);
  const s = {
    request: edge(ctx, 'request', undefined, upBytes),
    cls: plan.cls && edgeLines > 0 ? edge(ctx, 'cls', plan.cls, edgeLines) : 0,
    rec: edgeLines > 0 ? edge(ctx, 'rec', plan.config.rec, edgeLines * unitsPerLine) : 0,
  };
  const serverMs = s.request + s.cls + s.rec;
  const downBytes = t.responseBytes.base + t.responseBytes.perLine * edgeLines;
  const sendAt = start + front;
  const e = finishEdge(ctx, plan, sendAt, upBytes, downBytes, serverMs, s, d, deviceEnd, undefined, { ...read, edgeLines });
  if (!e.ok) return { ...e, deviceFreeAt: deviceEnd };
  const end = Math.max(deviceEnd, ctx.t0 + e.totalMs);
  const totalMs = end - ctx.t0;
  return {
    ...e,
    totalMs,
    deviceFreeAt: deviceEnd,
    outcome: { ...e.outcome, atMs: end, totalMs, deviceLines: devLines },
  };
}

function runSplitDet(ctx: RunContext, plan: Plan): Run {
  const { image, profiles } = ctx;
  const split = plan.split!;
  const start = Math.max(ctx.t0, ctx.deviceFreeAt);
  const px = detInputPixels(image.width, image.height, plan.config.maxSide);
  const d: NonNullable<Outcome['device']> = {
    decode: dev(ctx, 'decode', undefined, image.width * image.height),
    'det-preprocess': dev(ctx, 'det-preprocess', undefined, px),
    'det-head': dev(ctx, 'det', plan.config.det, px) * split.headShare,
  };
  const front = d.decode! + d['det-preprocess']! + d['det-head']!;
  const upBytes = split.activationBytesPerPixel * px;
  const s = {
    request: edge(ctx, 'request', undefined, upBytes),
    'det-tail': edge(ctx, 'det', plan.config.det, px) * (1 - split.headShare),
    postprocess: edge(ctx, 'postprocess', undefined, px),
  };
  const serverMs = s.request + s['det-tail'] + s.postprocess;
  const t = profiles.transfer;
  const read = readAt(ctx, plan.config.maxSide);
  const downBytes = t.boxesBytes.base + t.boxesBytes.perLine * read.lines;
  d.cls = plan.cls ? dev(ctx, 'cls', plan.cls, read.lines) : 0;
  d.rec = dev(ctx, 'rec', plan.config.rec, read.units);
  return finishEdge(ctx, plan, start + front, upBytes, downBytes, serverMs, s, d, start + front, undefined, { ...read, edgeLines: 0 }, d.cls + d.rec);
}

/** How a decision races its edge plan (Decision.raceStartAtMs, .fallback, and what it expected to wait for). */
export interface RaceRun {
  hedgeAtMs: number;
  fallback: Plan;
  /** Lines the decision expected (inputs.lines): a device answer with none then does not end the race. */
  expectedLines: number;
  budgetMs: number;
  /** The decision's predicted p95: an empty device answer waits for the edge until this or the budget. */
  p95Ms: number;
}

/**
 * The edge plan, and the fallback device plan started at hedgeAt unless the reply came first; first result wins,
 * except a device answer holding no line of a photo expected to have some (the page's tooFewLines): the edge's is
 * awaited until the budget or the predicted p95, whichever is later.
 */
function runRace(ctx: RunContext, plan: Plan, race: RaceRun): Run {
  const { hedgeAtMs, fallback } = race;
  const e = runEdge(ctx, { ...plan, race: false });
  if (e.ok && e.totalMs <= hedgeAtMs) return e;
  const d = runDevice({ ...ctx, deviceFreeAt: e.deviceFreeAt }, fallback, ctx.t0 + hedgeAtMs);
  if (e.ok && e.totalMs <= d.totalMs) {
    // The device run is abandoned when the reply arrives.
    return { ...e, deviceFreeAt: Math.max(e.deviceFreeAt, Math.min(d.deviceFreeAt, ctx.t0 + e.totalMs)) };
  }
  const empty = race.expectedLines >= 1 && d.outcome.lines === 0;
  if (empty) {
    const waitUntil = Math.max(d.totalMs, race.budgetMs, race.p95Ms);
    if (e.ok && e.totalMs <= waitUntil) return { ...e, deviceFreeAt: Math.max(e.deviceFreeAt, d.deviceFreeAt) };
    const outcome: Outcome = { ...d.outcome, atMs: ctx.t0 + waitUntil, totalMs: waitUntil, winner: 'device', lines: 0 };
    return { ...d, totalMs: waitUntil, edgeMs: e.edgeMs, bytes: e.bytes, winner: 'device', outcome };
  }
  // The device answered first (the fallback plan); the edge reply, if any, is dropped.
  const outcome: Outcome = { ...d.outcome, winner: 'device' };
  return { ...d, edgeMs: e.edgeMs, bytes: e.bytes, winner: 'device', outcome };
}
