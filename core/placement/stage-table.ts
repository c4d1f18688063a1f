/**
 * Per-decision predictions of every stage any plan can use, computed once per request so that evaluating a plan
 * is a handful of additions. Each stage ("slot") has a mean, a spread independent of other stages, and a spread
 * correlated with the other stages of its group (a device slower than its profile is slower at every stage; a link
 * slower than estimated slows every transfer on it).
 */
import type { Observation } from './observations';
import type { BandwidthEstimate } from './estimators/bandwidth';
import type { EdgeAvailability, QueueEstimate } from './estimators/edge';
import type { LatencyModel } from './estimators/latency-model';
import { Z95 } from './estimators/normal';
import { recallForPhoto, reencodeRecallFactor } from './estimators/recall';
import { shapeOf, type LinesEstimate } from './estimators/lines';
import type { RttEstimate } from './estimators/rtt';
import type { EstimatorState, RuntimeModels } from './estimators/state';
import { KIND_SPLIT_DET, type PlanSpace } from './plan-space';
import { edgeRecLaneShare, profiledLineWidth, widthFactorOf } from './rec-width';
import { splitRecCropBytesPerLine } from '../profiles';

export type StageName =
  | 'device-busy'
  | 'model-load'
  | 'model-download'
  | 'decode'
  | 'reencode'
  | 'det-preprocess'
  | 'det'
  | 'det-head'
  | 'postprocess'
  | 'cls'
  | 'rec'
  | 'rtt'
  | 'upload'
  | 'queue'
  | 'edge-request'
  | 'edge-decode'
  | 'edge-det-preprocess'
  | 'edge-det'
  | 'edge-det-tail'
  | 'edge-postprocess'
  | 'edge-cls'
  | 'edge-rec'
  | 'download';

export type StageWhere = 'device' | 'network' | 'edge';

export const G_NONE = 0;
export const G_DEVICE = 1;
export const G_EDGE = 2;
export const G_UP = 3;
export const G_DOWN = 4;

/** Detector input pixels for an image, as core/ocr's detInputSize sizes it (kept allocation-free here). */
export function detInputPixels(width: number, height: number, maxSide: number, multiple = 32): number {
  const longest = width > height ? width : height;
  const ratio = longest > maxSide ? maxSide / longest : 1;
  const w = Math.max(multiple, Math.round((width * ratio) / multiple) * multiple);
  const h = Math.max(multiple, Math.round((height * ratio) / multiple) * multiple);
  return w * h;
}

/** Adds a one-off cost (x = 1) to a (mean, variance, correlated spread) accumulator. */
function addOnce(acc: Float64Array, m: LatencyModel | null): void {
  if (m === null) return;
  const mu = m.mean(1);
  const n = m.noiseSd(mu);
  acc[0] += mu;
  acc[1] += n * n;
  acc[2] += m.paramSd(1);
}

export class StageTable {
  readonly mean: Float64Array;
  readonly indep: Float64Array;
  readonly corr: Float64Array;
  readonly group: Uint8Array;
  readonly bytes: Float64Array;
  readonly stage: StageName[] = [];
  readonly where: StageWhere[] = [];

  // Slots shared by all plans.
  readonly busy: number;
  readonly decode: number;
  readonly rtt: number;
  readonly queue: number;
  readonly upOriginal: number;
  readonly requestOriginal: number;
  readonly edgeDecodeOriginal: number;
  readonly download: number;
  readonly downloadBoxes: number;
  // Per detector configuration.
  readonly cold: Int32Array;
  readonly modelDownload: Int32Array;
  readonly detPre: Int32Array;
  readonly det: Int32Array;
  readonly post: Int32Array;
  readonly edgePre: Int32Array;
  readonly edgeDet: Int32Array;
  readonly edgePost: Int32Array;
  // Per re-encode option.
  readonly reencode: Int32Array;
  readonly upReencode: Int32Array;
  readonly requestReencode: Int32Array;
  readonly edgeDecodeReencode: Int32Array;
  // Per line share: index 0 is every line, index s > 0 is options.recEdgeShares[s - 1]. The device's classifier
  // and recogniser per device recogniser too (space.deviceRecs): slot [r × shares + s].
  readonly lineShares: Float64Array;
  readonly cls: Int32Array;
  readonly rec: Int32Array;
  readonly edgeCls: Int32Array;
  readonly edgeRec: Int32Array;
  readonly upCrops: Int32Array;
  readonly requestCrops: Int32Array;
  readonly downloadShare: Int32Array;
  // Per split-detection plan (indexed by plan index; -1 elsewhere).
  readonly head: Int32Array;
  readonly upActivations: Int32Array;
  readonly requestActivations: Int32Array;
  readonly tail: Int32Array;

  /** Detector input pixels per configuration for the current request. */
  readonly detPixels: Float64Array;
  /** Expected word recall per configuration on the current photo (see recallForPhoto). */
  readonly configRecall: Float64Array;
  /** Share of the photo's words (and lines) each configuration is expected to keep at its side. */
  readonly configKept: Float64Array;
  /** Predicted upload bytes per re-encode option for the current request. */
  readonly reencodeBytes: Float64Array;
  readonly reencodePixels: Float64Array;
  /** Share of the original's word recall each re-encode option keeps on the current photo (reencodeRecallFactor). */
  readonly reencodeRecall: Float64Array;
  /** Device and edge fits used by the current request. */
  deviceModels: RuntimeModels | null = null;
  linesMean = 0;
  linesSd = 0;
  /** Recogniser input width per line in profiled lines (rec-width.ts): recognition runs on lines × this. */
  widthFactor = 1;
  widthSd = 0;
  /** Lines predicted for this image from similar images seen before (kernel evidence; 0: the profile's prior). */
  readonly linesEst: LinesEstimate = { mean: 0, sd: 0, evidence: 0 };
  readonly rttEst: RttEstimate = { meanMs: 0, sdMs: 0, source: 'prior', ageMs: Infinity };
  readonly upEst: BandwidthEstimate = { kbps: 0, sdLn: 0, source: 'prior', ageMs: Infinity, samples: 0 };
  readonly downEst: BandwidthEstimate = { kbps: 0, sdLn: 0, source: 'prior', ageMs: Infinity, samples: 0 };
  readonly queueEst: QueueEstimate = { meanMs: 0, sdMs: 0 };
  edgeAvailability: EdgeAvailability = 'unknown';
  failureProbability = 0;

  private readonly space: PlanSpace;
  /** Scratch (mean, variance, correlated spread) for summing model-loading costs. */
  private readonly coldAcc = new Float64Array(3);

  constructor(space: PlanSpace, recEdgeShares: readonly number[]) {
    this.space = space;
    const nc = space.configs.length;
    const nr = space.reencodes.length;
    const np = space.plans.length;
    let n = 0;
    const slot = (stage: StageName, where: StageWhere) => {
      this.stage.push(stage);
      this.where.push(where);
      return n++;
    };
    const perConfig = (stage: StageName, where: StageWhere) => Int32Array.from({ length: nc }, () => slot(stage, where));
    const perReencode = (stage: StageName, where: StageWhere) => Int32Array.from({ length: nr }, () => slot(stage, where));
    this.lineShares = Float64Array.from([1, ...recEdgeShares]);
    const ns = this.lineShares.length;
    const perShare = (stage: StageName, where: StageWhere) => Int32Array.from({ length: ns }, () => slot(stage, where));

    this.busy = slot('device-busy', 'device');
    this.decode = slot('decode', 'device');
    this.rtt = slot('rtt', 'network');
    this.queue = slot('queue', 'edge');
    this.upOriginal = slot('upload', 'network');
    this.requestOriginal = slot('edge-request', 'edge');
    this.edgeDecodeOriginal = slot('edge-decode', 'edge');
    this.download = slot('download', 'network');
    this.downloadBoxes = slot('download', 'network');
    this.cold = perConfig('model-load', 'device');
    this.modelDownload = perConfig('model-download', 'network');
    this.detPre = perConfig('det-preprocess', 'device');
    this.det = perConfig('det', 'device');
    this.post = perConfig('postprocess', 'device');
    this.edgePre = perConfig('edge-det-preprocess', 'edge');
    this.edgeDet = perConfig('edge-det', 'edge');
    this.edgePost = perConfig('edge-postprocess', 'edge');
    this.reencode = perReencode('reencode', 'device');
    this.upReencode = perReencode('upload', 'network');
    this.requestReencode = perReencode('edge-request', 'edge');
    this.edgeDecodeReencode = perReencode('edge-decode', 'edge');
    const perRecShare = (stage: StageName) => Int32Array.from({ length: space.deviceRecs.length * ns }, () => slot(stage, 'device'));
    this.cls = perRecShare('cls');
    this.rec = perRecShare('rec');
    this.edgeCls = perShare('edge-cls', 'edge');
    this.edgeRec = perShare('edge-rec', 'edge');
    this.upCrops = perShare('upload', 'network');
    this.requestCrops = perShare('edge-request', 'edge');
    this.downloadShare = perShare('download', 'network');
    this.head = new Int32Array(np).fill(-1);
    this.upActivations = new Int32Array(np).fill(-1);
    this.requestActivations = new Int32Array(np).fill(-1);
    this.tail = new Int32Array(np).fill(-1);
    for (let i = 0; i < np; i++) {
      if (space.kind[i] !== KIND_SPLIT_DET) continue;
      this.head[i] = slot('det-head', 'device');
      this.upActivations[i] = slot('upload', 'network');
      this.requestActivations[i] = slot('edge-request', 'edge');
      this.tail[i] = slot('edge-det-tail', 'edge');
    }
    this.mean = new Float64Array(n);
    this.indep = new Float64Array(n);
    this.corr = new Float64Array(n);
    this.group = new Uint8Array(n);
    this.bytes = new Float64Array(n);
    this.detPixels = new Float64Array(nc);
    this.configRecall = new Float64Array(nc);
    this.configKept = new Float64Array(nc);
    this.reencodeBytes = new Float64Array(nr);
    this.reencodePixels = new Float64Array(nr);
    this.reencodeRecall = new Float64Array(nr);
  }

  private set(i: number, mean: number, indep: number, corr: number, group: number, bytes = 0): void {
    this.mean[i] = mean;
    this.indep[i] = indep;
    this.corr[i] = corr;
    this.group[i] = group;
    this.bytes[i] = bytes;
  }

  private model(i: number, m: LatencyModel | null, x: number, group: number, scale = 1, extraIndep = 0): void {
    if (m === null) {
      this.set(i, 0, 0, 0, G_NONE);
      return;
    }
    const mean = m.mean(x) * scale;
    const noise = m.noiseSd(mean);
    this.set(i, mean, Math.sqrt(noise * noise + extraIndep * extraIndep), m.paramSd(x) * scale, group);
  }

  private transfer(i: number, bytes: number, est: BandwidthEstimate, group: number): void {
    const mean = (bytes * 8) / est.kbps;
    // A lognormal rate error, expressed as the spread that reproduces its p95 transfer time.
    const sd = (mean * (Math.exp(Z95 * est.sdLn) - 1)) / Z95;
    this.set(i, mean, 0, sd, group, bytes);
  }

  /** Lines-count (and, for recognition, width) uncertainty propagated through a per-line stage at `x` units. */
  private linesSpread(m: LatencyModel | null, x: number, share: number, width = 1, widthSd = 0): number {
    if (m === null) return 0;
    const L = this.linesMean * share;
    const sdUnits = Math.sqrt((this.linesSd * share * width) ** 2 + (L * widthSd) ** 2);
    return (m.mean(x + 1) - m.mean(x)) * sdUnits;
  }

  /** Fills every slot for this request. */
  prepare(obs: Observation, state: EstimatorState): void {
    const space = this.space;
    const profiles = space.profiles;
    const opts = state.options;
    const now = obs.nowMs;
    const req = obs.request;
    const origPx = req.width * req.height;
    const dm = state.deviceModelsFor(obs.device.backend, obs.device.threads);
    const em = state.edgeModels;
    this.deviceModels = dm;

    state.rtt.estimate(now, state.netInfoRtt(obs.netInfo), opts.priors.rtt, this.rttEst);
    state.up.estimate(now, state.netInfoPrior(obs.netInfo, 'up'), opts.priors.up, this.upEst);
    state.down.estimate(now, state.netInfoPrior(obs.netInfo, 'down'), opts.priors.down, this.downEst);
    state.edge.queueWait(now, this.queueEst);
    const detected = req.detected;
    // The width factor comes from similar images even after detection unless the crops' width was reported.
    state.linesModel.predictFor(req, this.linesEst);
    const measuredWidth = detected === undefined ? NaN : widthFactorOf(detected.recInputWidth, detected.lines, profiledLineWidth(profiles));
    this.widthFactor = measuredWidth > 0 ? measuredWidth : (this.linesEst.widthFactor ?? 1);
    this.widthSd = measuredWidth > 0 ? 0 : (this.linesEst.widthSd ?? 0);
    if (detected !== undefined) {
      this.linesEst.mean = detected.lines;
      this.linesEst.sd = 0;
      this.linesEst.evidence = Infinity;
    }
    this.linesMean = Math.max(0, this.linesEst.mean);
    this.linesSd = this.linesEst.sd;
    recallForPhoto(space, Math.max(req.width, req.height), this.linesMean, this.configRecall, undefined, this.configKept);
    this.failureProbability = state.edge.failureProbability();
    this.edgeAvailability = state.edge.availability(now, this.edgeModelNames());

    const L = this.linesMean;
    const busy = detected === undefined ? (obs.device.busyMs ?? 0) : 0;
    this.set(this.busy, busy > 0 ? busy : 0, 0, 0, G_NONE);
    if (detected === undefined) this.model(this.decode, dm.decode, origPx, G_DEVICE);
    else this.set(this.decode, 0, 0, 0, G_NONE);
    // A request's round trip is the path's and what the phone takes around it (negative when polls met a slow path),
    // once a reply has shown it.
    const over = state.requestOverhead;
    if (over.count > 0) {
      const rttMs = Math.max(0.5 * this.rttEst.meanMs, this.rttEst.meanMs + over.mean);
      this.set(this.rtt, rttMs, Math.sqrt(this.rttEst.sdMs * this.rttEst.sdMs + over.variance), 0, G_NONE);
    } else this.set(this.rtt, this.rttEst.meanMs, this.rttEst.sdMs, 0, G_NONE);
    this.set(this.queue, this.queueEst.meanMs, this.queueEst.sdMs, 0, G_NONE);
    this.transfer(this.upOriginal, req.bytes, this.upEst, G_UP);
    this.model(this.requestOriginal, em.request, req.bytes, G_EDGE);
    this.model(this.edgeDecodeOriginal, em.decode, origPx, G_EDGE);
    const t = profiles.transfer;
    this.transfer(this.download, t.responseBytes.base + t.responseBytes.perLine * L, this.downEst, G_DOWN);
    this.transfer(this.downloadBoxes, t.boxesBytes.base + t.boxesBytes.perLine * L, this.downEst, G_DOWN);

    const clsIdx = profiles.defaults.cls === null ? -1 : (state.modelIndex.get(profiles.defaults.cls) ?? -1);
    const states = obs.device.models;
    let anyLoaded = false;
    for (let i = 0; i < states.length; i++) if (states[i].state === 'loaded' || states[i].state === 'warm') anyLoaded = true;
    for (const c of space.configs) {
      const px = detInputPixels(req.width, req.height, c.maxSide);
      this.detPixels[c.index] = px;
      const detIdx = state.modelIndex.get(c.det) ?? -1;
      const recIdx = state.modelIndex.get(c.rec) ?? -1;
      const setClsIdx = c.setCls === null ? -1 : (state.modelIndex.get(c.setCls) ?? -1);
      this.coldStart(c.index, obs, dm, detIdx, recIdx, clsIdx, setClsIdx, anyLoaded);
      if (detected === undefined) {
        this.model(this.detPre[c.index], dm.detPreprocess, px, G_DEVICE);
        this.model(this.det[c.index], detIdx < 0 ? null : dm.det[detIdx], px, G_DEVICE);
        this.model(this.post[c.index], dm.postprocess, px, G_DEVICE);
      } else {
        // Already done on the device: only recognition (and what it needs) is left.
        this.set(this.detPre[c.index], 0, 0, 0, G_NONE);
        this.set(this.det[c.index], 0, 0, 0, G_NONE);
        this.set(this.post[c.index], 0, 0, 0, G_NONE);
      }
      this.model(this.edgePre[c.index], em.detPreprocess, px, G_EDGE);
      this.model(this.edgeDet[c.index], detIdx < 0 ? null : em.det[detIdx], px, G_EDGE);
      this.model(this.edgePost[c.index], em.postprocess, px, G_EDGE);
    }

    const longest = Math.max(req.width, req.height);
    const shape = shapeOf(req.width, req.height);
    for (let r = 0; r < space.reencodes.length; r++) {
      const re = space.reencodes[r];
      const scale = longest > re.maxSide ? re.maxSide / longest : 1;
      const px = Math.round(req.width * scale) * Math.round(req.height * scale);
      const bytes = ((re.bitsPerPixel * px) / 8) * state.reencodeRatio.mean;
      this.reencodePixels[r] = px;
      this.reencodeBytes[r] = bytes;
      this.reencodeRecall[r] = reencodeRecallFactor(re, shape);
      this.model(this.reencode[r], dm.reencode, origPx, G_DEVICE);
      this.transfer(this.upReencode[r], bytes, this.upEst, G_UP);
      this.model(this.requestReencode[r], em.request, bytes, G_EDGE);
      this.model(this.edgeDecodeReencode[r], em.decode, px, G_EDGE);
    }

    // Recognition for every line (share 0) and for each split of the lines: on the device by each set's recogniser,
    // on the edge by the default one.
    const recModelIdx = state.modelIndex.get(profiles.defaults.rec) ?? -1;
    const edgeRec = recModelIdx < 0 ? null : em.rec[recModelIdx];
    const devCls = clsIdx < 0 ? null : dm.cls[clsIdx];
    const edgeCls = clsIdx < 0 ? null : em.cls[clsIdx];
    const ns = this.lineShares.length;
    for (let s = 0; s < ns; s++) {
      const toEdge = this.lineShares[s];
      const onDevice = s === 0 ? 1 : 1 - toEdge;
      const dl = L * onDevice;
      const el = L * toEdge;
      // The classifier reads a fixed-width crop; the recogniser works through each line's whole width.
      const F = this.widthFactor;
      const Fsd = this.widthSd;
      for (let r = 0; r < space.deviceRecs.length; r++) {
        const k = r * ns + s;
        const idx = state.modelIndex.get(space.deviceRecs[r]) ?? -1;
        const devRec = idx < 0 ? null : dm.rec[idx];
        if (onDevice > 0) {
          this.model(this.cls[k], devCls, dl, G_DEVICE, 1, this.linesSpread(devCls, dl, onDevice));
          this.model(this.rec[k], devRec, dl * F, G_DEVICE, 1, this.linesSpread(devRec, dl * F, onDevice, F, Fsd));
        } else {
          this.set(this.cls[k], 0, 0, 0, G_NONE);
          this.set(this.rec[k], 0, 0, 0, G_NONE);
        }
      }
      // A whole photo's lines are recognised on all the edge's worker slots (its classifier batches still run in
      // turn); the phone's split crops come one batch at a time.
      const lanes = s === 0 ? edgeRecLaneShare(el, state.edgeWorkers) : 1;
      this.model(this.edgeCls[s], edgeCls, el, G_EDGE, 1, this.linesSpread(edgeCls, el, toEdge));
      this.model(this.edgeRec[s], edgeRec, el * F, G_EDGE, lanes, this.linesSpread(edgeRec, el * F, toEdge, F, Fsd) * lanes);
      const cropBytes = splitRecCropBytesPerLine(t) * el * F;
      this.transfer(this.upCrops[s], cropBytes, this.upEst, G_UP);
      this.model(this.requestCrops[s], em.request, cropBytes, G_EDGE);
      this.transfer(this.downloadShare[s], t.responseBytes.base + t.responseBytes.perLine * el, this.downEst, G_DOWN);
    }

    for (let i = 0; i < space.plans.length; i++) {
      const h = this.head[i];
      if (h < 0) continue;
      const plan = space.plans[i];
      const c = plan.config.index;
      const split = plan.split!;
      const px = this.detPixels[c];
      const detIdx = state.modelIndex.get(plan.config.det) ?? -1;
      this.model(h, detIdx < 0 ? null : dm.det[detIdx], px, G_DEVICE, split.headShare);
      const bytes = split.activationBytesPerPixel * px;
      this.transfer(this.upActivations[i], bytes, this.upEst, G_UP);
      this.model(this.requestActivations[i], em.request, bytes, G_EDGE);
      this.model(this.tail[i], detIdx < 0 ? null : em.det[detIdx], px, G_EDGE, 1 - split.headShare);
    }
  }

  /**
   * Model loading before the first run on the device: download if absent (the whole set, its classifier too, as
   * the device fetches it), session creation, first-run extra.
   */
  private coldStart(c: number, obs: Observation, dm: RuntimeModels, det: number, rec: number, cls: number, setCls: number, anyLoaded: boolean): void {
    const profiles = this.space.profiles;
    let downloadBytes = 0;
    const states = obs.device.models;
    const cold = this.coldAcc;
    cold[0] = 0;
    cold[1] = 0;
    cold[2] = 0;
    for (let k = 0; k < 3; k++) {
      const idx = k === 0 ? det : k === 1 ? rec : cls;
      if (idx < 0) continue;
      const id = profiles.models[idx].id;
      let st = 'absent';
      for (let i = 0; i < states.length; i++) if (states[i].model === id) st = states[i].state;
      if (st === 'warm') continue;
      if (st === 'absent') downloadBytes += profiles.models[idx].weightBytes;
      if (st === 'absent' || st === 'cached') addOnce(cold, dm.create[idx]);
      addOnce(cold, dm.firstRun[idx]);
    }
    if (setCls >= 0 && setCls !== cls) {
      const id = profiles.models[setCls].id;
      let st = 'absent';
      for (let i = 0; i < states.length; i++) if (states[i].model === id) st = states[i].state;
      if (st === 'absent') downloadBytes += profiles.models[setCls].weightBytes;
    }
    if (!anyLoaded && cold[0] > 0) addOnce(cold, dm.init);
    this.set(this.cold[c], cold[0], Math.sqrt(cold[1]), cold[2], G_DEVICE);
    if (downloadBytes > 0) this.transfer(this.modelDownload[c], downloadBytes, this.downEst, G_DOWN);
    else this.set(this.modelDownload[c], 0, 0, 0, G_NONE);
  }

  private edgeNames: string[] | null = null;
  private edgeModelNames(): string[] {
    if (this.edgeNames === null) {
      const p = this.space.profiles;
      // What edge plans run there: the detectors of configurations with an edge plan and the default recogniser.
      const edgeDets = this.space.plans.filter((x) => x.kind === 'edge' || x.kind === 'split-det').map((x) => x.config.det);
      const ids = new Set([...edgeDets, p.defaults.rec, ...(p.defaults.cls ? [p.defaults.cls] : [])]);
      this.edgeNames = [...new Set(p.models.filter((m) => ids.has(m.id)).map((m) => m.name))];
    }
    return this.edgeNames;
  }
}
