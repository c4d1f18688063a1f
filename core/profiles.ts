/**
 * Schema of models/repository/profiles.json: what each model variant costs and how well it reads, per place it can run.
 * The placement engine predicts from these figures before it has seen a single run, then corrects them online;
 * the simulator draws compute latencies from the same distributions.
 */
import type { OcrRole } from './ocr/types';

export type Location = 'device' | 'edge';

/** Latency distribution of one measured case, in milliseconds. p50 and p90 are required; the rest when measured. */
export interface LatencyStats {
  n: number;
  p50: number;
  p90: number;
  p95?: number;
  p99?: number;
  mean?: number;
  /** Raw runs when kept, for resampling in the simulator. */
  samples?: number[];
}

/**
 * What a stage's size is measured in:
 * - `det-pixels`: detector input width × height (after resizing to the configured side);
 * - `image-pixels`: pixels of the image being decoded or resized;
 * - `lines`: text lines (crops) in the batch;
 * - `bytes`: request bytes;
 * - `once`: a fixed cost (session creation, runtime start-up), x is always 1.
 */
export type StageUnit = 'det-pixels' | 'image-pixels' | 'lines' | 'bytes' | 'once';

export type ProfiledStage =
  | 'decode' // compressed image → RGBA
  | 'reencode' // resize + JPEG encode on the device before upload
  | 'det-preprocess' // resize + normalise into the detector tensor
  | 'det'
  | 'postprocess' // probability map → boxes → crops
  | 'cls'
  | 'rec'
  | 'request' // HTTP request handling on the edge (body read, routing, reply), beside decode and inference
  | 'create' // session creation for one model
  | 'first-run-extra'; // extra time of the first runs after creation (WASM tier-up, allocator warm-up)

/** One measured point: the stage's latency at one input size. */
export interface LatencyPoint {
  x: number;
  stats: LatencyStats;
}

export interface StageProfile {
  stage: ProfiledStage;
  /** Profiled model id for model stages (det, cls, rec, create, first-run-extra); absent for model-independent stages. */
  model?: string;
  unit: StageUnit;
  /** At least one point; latency is modelled as linear in x through them. */
  points: LatencyPoint[];
}

/** One place models run, with one backend and thread count. */
export interface RuntimeProfile {
  id: string;
  location: Location;
  backend: 'wasm' | 'webgpu' | 'ort-node' | string;
  threads: number;
  /** CPU slow-down the runtime was measured under (Chromium's CPU throttling rate; 4 stands for a mid-range phone). 1 when absent. */
  cpuThrottle?: number;
  /** Starting the runtime itself before its first session (e.g. compiling the WASM binary). */
  initMs?: LatencyStats;
  stages: StageProfile[];
}

/** A model variant as served from the repository. */
export interface ProfiledModel {
  /** Unique id, e.g. "ppocr-det@int8-weights". */
  id: string;
  /** Manifest model name. */
  name: string;
  variant: string;
  role: OcrRole;
  /** Download size (what the device fetches when the model is not cached). */
  weightBytes: number;
}

/** Accuracy of one full pipeline configuration on the profiling set, at the original image resolution. */
export interface AccuracyEntry {
  det: string;
  maxSide: number;
  rec: string;
  /** End-to-end word recall (0..1). */
  wordRecall: number;
  /** Images scored. */
  n?: number;
  /** Labelled words the recall counts. */
  words?: number;
  /** Detection H-mean, precision and recall of the lines this configuration keeps (0..1). */
  detHmean?: number;
  detPrecision?: number;
  detRecall?: number;
  /** The recogniser alone on the set's word crops: exact word accuracy and character error rate (0..1). */
  recWordAcc?: number;
  cer?: number;
}

/** Resizing and re-encoding on the device before upload: its size on the wire and what it costs in accuracy. */
export interface ReencodeProfile {
  /** Longest side after resizing (images already smaller are only re-encoded). */
  maxSide: number;
  /** JPEG quality 0..1. */
  quality: number;
  /** Encoded size per output pixel. */
  bitsPerPixel: number;
  /** Word recall relative to uploading the original (≤ 1 in practice). */
  recallFactor: number;
}

/** A profiled cut of the detector: the device runs the head, ships the activations crossing the cut, the edge runs the tail. */
export interface DetSplitProfile {
  id: string;
  det: string;
  /** Share of the detector's compute before the cut (0..1). */
  headShare: number;
  /** Activation bytes crossing the cut per detector input pixel. */
  activationBytesPerPixel: number;
}

export interface TransferProfile {
  /** Reply size of a whole-pipeline edge request: base + per recognised line. */
  responseBytes: { base: number; perLine: number };
  /**
   * Request bytes per line crop as the recogniser's float32 input (3 × 4 bytes per pixel at the input height): also
   * what says how wide the profiled lines are (core/placement/rec-width).
   */
  cropBytesPerLine: number;
  /**
   * Request bytes per profiled line when the edge serves the compact recogniser and split recognition sends crops
   * as 8-bit YCbCr 4:2:0 (core/ocr/compact-crops); absent when it does not.
   */
  compactCropBytesPerLine?: number;
  /** Reply size of a boxes-only reply (split detection). */
  boxesBytes: { base: number; perLine: number };
}

/** Bytes split recognition uploads per profiled line: compact crops when the edge takes them, else float32. */
export function splitRecCropBytesPerLine(t: TransferProfile): number {
  return t.compactCropBytesPerLine ?? t.cropBytesPerLine;
}

export interface ProfilesSource {
  /** `measured` when written by the profiler; `example` for illustrative figures that no profiler produced. */
  kind: 'measured' | 'example';
  description: string;
  machine?: string;
  createdAt?: string;
  /** Load average (1, 5, 15 min) when the measurement started and ended: other work on the machine inflates timings. */
  loadAverage?: { start: number[]; end: number[] };
  /** How long the measurement took. */
  minutes?: number;
}

export interface Profiles {
  schema: 1;
  source: ProfilesSource;
  models: ProfiledModel[];
  runtimes: RuntimeProfile[];
  accuracy: AccuracyEntry[];
  reencode: ReencodeProfile[];
  splits: DetSplitProfile[];
  transfer: TransferProfile;
  /** Text lines per image on the profiling set: drives recognition cost before the detector has run. */
  content: { linesPerImage: { mean: number; sd: number } };
  /**
   * The configuration used when a policy does not choose one, and the runtimes whose figures seed a device and the
   * edge before they have been measured (ids in `runtimes`; when absent, the closest match by backend and threads).
   */
  defaults: { det: string; maxSide: number; rec: string; cls: string | null; deviceRuntime?: string; edgeRuntime?: string };
}

/** Reads profiles.json text or a parsed value; throws `ProfilesInvalid` naming the first bad field. */
export function parseProfiles(input: unknown): Profiles {
  const value: unknown = typeof input === 'string' ? parseJson(input) : input;
  const p = obj(value, 'profiles');
  if (p.schema !== 1) fail(`schema: expected 1, got ${JSON.stringify(p.schema)}`);
  const source = obj(p.source, 'source');
  if (source.kind !== 'measured' && source.kind !== 'example') fail('source.kind: expected "measured" or "example"');
  str(source.description, 'source.description');

  const models = arr(p.models, 'models').map((m, i) => {
    const o = obj(m, `models[${i}]`);
    str(o.id, `models[${i}].id`);
    str(o.name, `models[${i}].name`);
    str(o.variant, `models[${i}].variant`);
    if (o.role !== 'det' && o.role !== 'cls' && o.role !== 'rec') fail(`models[${i}].role: expected det, cls or rec`);
    num(o.weightBytes, `models[${i}].weightBytes`, 0);
    return o as unknown as ProfiledModel;
  });
  const ids = new Set(models.map((m) => m.id));
  const modelRef = (id: unknown, where: string, role?: OcrRole): void => {
    str(id, where);
    if (!ids.has(id as string)) fail(`${where}: unknown model "${String(id)}"`);
    if (role && models.find((m) => m.id === id)?.role !== role) fail(`${where}: "${String(id)}" is not a ${role} model`);
  };

  const runtimes = arr(p.runtimes, 'runtimes');
  if (runtimes.length === 0) fail('runtimes: at least one runtime is needed');
  runtimes.forEach((r, i) => {
    const o = obj(r, `runtimes[${i}]`);
    str(o.id, `runtimes[${i}].id`);
    if (o.location !== 'device' && o.location !== 'edge') fail(`runtimes[${i}].location: expected device or edge`);
    num(o.threads, `runtimes[${i}].threads`, 1);
    if (o.cpuThrottle !== undefined) num(o.cpuThrottle, `runtimes[${i}].cpuThrottle`, 1);
    if (o.initMs !== undefined) stats(o.initMs, `runtimes[${i}].initMs`);
    arr(o.stages, `runtimes[${i}].stages`).forEach((s, j) => {
      const where = `runtimes[${i}].stages[${j}]`;
      const so = obj(s, where);
      str(so.stage, `${where}.stage`);
      str(so.unit, `${where}.unit`);
      if (so.model !== undefined) modelRef(so.model, `${where}.model`);
      const points = arr(so.points, `${where}.points`);
      if (points.length === 0) fail(`${where}.points: at least one point is needed`);
      points.forEach((pt, k) => {
        const po = obj(pt, `${where}.points[${k}]`);
        num(po.x, `${where}.points[${k}].x`, 0);
        stats(po.stats, `${where}.points[${k}].stats`);
      });
    });
  });

  arr(p.accuracy, 'accuracy').forEach((a, i) => {
    const o = obj(a, `accuracy[${i}]`);
    modelRef(o.det, `accuracy[${i}].det`, 'det');
    modelRef(o.rec, `accuracy[${i}].rec`, 'rec');
    num(o.maxSide, `accuracy[${i}].maxSide`, 32);
    fraction(o.wordRecall, `accuracy[${i}].wordRecall`);
    for (const k of ['detHmean', 'detPrecision', 'detRecall', 'recWordAcc'] as const) {
      if (o[k] !== undefined) fraction(o[k], `accuracy[${i}].${k}`);
    }
    if (o.cer !== undefined) num(o.cer, `accuracy[${i}].cer`, 0);
  });
  arr(p.reencode, 'reencode').forEach((r, i) => {
    const o = obj(r, `reencode[${i}]`);
    num(o.maxSide, `reencode[${i}].maxSide`, 32);
    fraction(o.quality, `reencode[${i}].quality`);
    num(o.bitsPerPixel, `reencode[${i}].bitsPerPixel`, 0);
    num(o.recallFactor, `reencode[${i}].recallFactor`, 0);
  });
  arr(p.splits, 'splits').forEach((s, i) => {
    const o = obj(s, `splits[${i}]`);
    str(o.id, `splits[${i}].id`);
    modelRef(o.det, `splits[${i}].det`, 'det');
    fraction(o.headShare, `splits[${i}].headShare`);
    num(o.activationBytesPerPixel, `splits[${i}].activationBytesPerPixel`, 0);
  });
  const t = obj(p.transfer, 'transfer');
  for (const k of ['responseBytes', 'boxesBytes'] as const) {
    const b = obj(t[k], `transfer.${k}`);
    num(b.base, `transfer.${k}.base`, 0);
    num(b.perLine, `transfer.${k}.perLine`, 0);
  }
  num(t.cropBytesPerLine, 'transfer.cropBytesPerLine', 0);
  if (t.compactCropBytesPerLine !== undefined) num(t.compactCropBytesPerLine, 'transfer.compactCropBytesPerLine', 0);
  const lines = obj(obj(p.content, 'content').linesPerImage, 'content.linesPerImage');
  num(lines.mean, 'content.linesPerImage.mean', 0);
  num(lines.sd, 'content.linesPerImage.sd', 0);
  const d = obj(p.defaults, 'defaults');
  modelRef(d.det, 'defaults.det', 'det');
  modelRef(d.rec, 'defaults.rec', 'rec');
  if (d.cls !== null) modelRef(d.cls, 'defaults.cls', 'cls');
  num(d.maxSide, 'defaults.maxSide', 32);
  for (const [key, location] of [
    ['deviceRuntime', 'device'],
    ['edgeRuntime', 'edge'],
  ] as const) {
    if (d[key] === undefined) continue;
    str(d[key], `defaults.${key}`);
    const r = runtimes.find((x) => (x as RuntimeProfile).id === d[key]) as RuntimeProfile | undefined;
    if (r === undefined) fail(`defaults.${key}: unknown runtime "${String(d[key])}"`);
    if (r.location !== location) fail(`defaults.${key}: "${r.id}" is a ${r.location} runtime, expected ${location}`);
  }
  return value as Profiles;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    return fail(`not JSON (${(e as Error).message})`);
  }
}

function fail(message: string): never {
  const err = new Error(`profiles.json: ${message}`);
  err.name = 'ProfilesInvalid';
  throw err;
}

function obj(v: unknown, where: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) fail(`${where}: expected an object`);
  return v as Record<string, unknown>;
}

function arr(v: unknown, where: string): unknown[] {
  if (!Array.isArray(v)) fail(`${where}: expected an array`);
  return v;
}

function str(v: unknown, where: string): void {
  if (typeof v !== 'string' || v.length === 0) fail(`${where}: expected a non-empty string`);
}

function num(v: unknown, where: string, min: number): void {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min) fail(`${where}: expected a number ≥ ${min}, got ${JSON.stringify(v)}`);
}

function fraction(v: unknown, where: string): void {
  if (typeof v !== 'number' || !(v >= 0 && v <= 1)) fail(`${where}: expected a number in 0..1, got ${JSON.stringify(v)}`);
}

function stats(v: unknown, where: string): void {
  const o = obj(v, where);
  num(o.n, `${where}.n`, 0);
  num(o.p50, `${where}.p50`, 0);
  num(o.p90, `${where}.p90`, 0);
  if ((o.p90 as number) < (o.p50 as number)) fail(`${where}: p90 (${String(o.p90)}) is below p50 (${String(o.p50)})`);
}
