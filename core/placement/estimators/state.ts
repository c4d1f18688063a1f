/**
 * All the planner has learnt, in one object the caller keeps between requests: link estimates, per-stage latency
 * fits for each runtime, the edge's health and queue, text lines per image, encoded-size corrections and prediction
 * errors. No clock inside: every update carries the time stamp of its observation.
 */
import type { LatencyStats, Profiles, ProfiledStage, RuntimeProfile } from '../../profiles';
import { LATENCY_EWMA_ALPHA, type StatusResponse } from '../../protocol/v1';
import { timedByServer, transferTimeMs, type NetInfoReading, type Observation } from '../observations';
import type { PlannerOptions } from '../options';
import { type PlanSpace, planSpaceFor } from '../plan-space';
import { profiledLineWidth } from '../rec-width';
import { BandwidthEstimator, type BandwidthPrior } from './bandwidth';
import { EdgeEstimator } from './edge';
import { Ewma } from './ewma';
import { type GainPrior, type LatencyFit, LatencyModel, LocationGain, seedLine } from './latency-model';
import { LINE_WIDTH_BY_SHAPE, LINES_BY_SHAPE, LinesModel, type LinesSamples } from './lines';
import { PredictionErrors } from './prediction-errors';
import { RttEstimator } from './rtt';

/** The latency fits of one runtime (a device backend × threads, or the edge), indexed for the hot loop. */
export class RuntimeModels {
  readonly det: (LatencyModel | null)[];
  readonly rec: (LatencyModel | null)[];
  readonly cls: (LatencyModel | null)[];
  readonly create: (LatencyModel | null)[];
  readonly firstRun: (LatencyModel | null)[];
  readonly decode: LatencyModel | null;
  readonly reencode: LatencyModel | null;
  readonly detPreprocess: LatencyModel | null;
  readonly postprocess: LatencyModel | null;
  readonly request: LatencyModel | null;
  readonly init: LatencyModel | null;
  readonly gain = new LocationGain();
  private readonly modelIds: string[];

  constructor(
    readonly key: string,
    readonly profile: RuntimeProfile,
    profiles: Profiles,
    prior: GainPrior,
    sharedSpeed = true,
  ) {
    this.modelIds = profiles.models.map((m) => m.id);
    // A phone's model runs share its speed (inference is what a phone's CPU slows down alike); decoding, resizing
    // and postprocessing run in other code (the browser's image decoder, plain JS) and keep fits of their own. An edge
    // server is the profiled machine: what moves its stages is other requests and the first runs at a new input
    // shape, which weigh on its detector and recogniser unevenly (3.4-3.9x and 1.7-2.1x the profile on one busy
    // edge), so each of its stages keeps its own fit (`sharedSpeed` false).
    const make = (points: { x: number; stats: LatencyStats }[], atLocationSpeed = true) =>
      new LatencyModel(seedLine(points), prior, atLocationSpeed && sharedSpeed ? this.gain : null);
    const byModel = (stage: ProfiledStage) =>
      profiles.models.map((m) => {
        const s = profile.stages.find((x) => x.stage === stage && x.model === m.id);
        return s ? make(s.points) : null;
      });
    const shared = (stage: ProfiledStage) => {
      const s = profile.stages.find((x) => x.stage === stage && x.model === undefined);
      return s ? make(s.points, false) : null;
    };
    this.det = byModel('det');
    this.rec = byModel('rec');
    this.cls = byModel('cls');
    this.create = byModel('create');
    this.firstRun = byModel('first-run-extra');
    this.decode = shared('decode');
    this.reencode = shared('reencode');
    this.detPreprocess = shared('det-preprocess');
    this.postprocess = shared('postprocess');
    this.request = shared('request');
    this.init = profile.initMs ? make([{ x: 1, stats: profile.initMs }]) : null;
  }

  /** Every fit with a stable name: the stage, and the profiled model id for model stages. */
  *fits(): Generator<[string, LatencyModel]> {
    const named: [string, (LatencyModel | null)[]][] = [
      ['det', this.det],
      ['rec', this.rec],
      ['cls', this.cls],
      ['create', this.create],
      ['first-run-extra', this.firstRun],
    ];
    for (const [stage, list] of named) {
      for (let i = 0; i < list.length; i++) {
        const m = list[i];
        if (m !== null) yield [`${stage}|${this.modelIds[i]}`, m];
      }
    }
    const shared: [string, LatencyModel | null][] = [
      ['decode', this.decode],
      ['reencode', this.reencode],
      ['det-preprocess', this.detPreprocess],
      ['postprocess', this.postprocess],
      ['request', this.request],
      ['init', this.init],
    ];
    for (const [name, m] of shared) if (m !== null) yield [name, m];
  }
}

export class EstimatorState {
  readonly space: PlanSpace;
  readonly modelIndex: Map<string, number>;
  readonly rtt = new RttEstimator();
  readonly up: BandwidthEstimator;
  readonly down: BandwidthEstimator;
  readonly edge: EdgeEstimator;
  /** The edge's worker slots as its status last said (1 until it says): a photo's recognition batches run on all of them. */
  edgeWorkers = 1;
  /** Text lines per image, learnt from results: the running figure over all images. */
  readonly lines: Ewma;
  /** Text lines per image by the image's shape, size and bytes per pixel (what recognition cost is predicted from). */
  readonly linesModel: LinesModel;
  /** Actual / predicted size of re-encoded uploads (content makes JPEGs bigger or smaller than the profile's). */
  readonly reencodeRatio = new Ewma(0.2, { mean: 1, sd: 0.3 });
  /**
   * What a request's round trip holds beyond the path's round trip, in ms: the phone sending the request and taking
   * its answer (100–180 ms on a quarter-speed phone, against 10–50 ms for a status poll), learnt from requests
   * whose upload the server timed.
   */
  readonly requestOverhead = new Ewma(0.2, { mean: 0, sd: 20 }, true, 0);
  readonly errors = new PredictionErrors();
  readonly edgeModels: RuntimeModels;
  private readonly deviceModels = new Map<string, RuntimeModels>();
  networkId: string | undefined = undefined;
  /** Newest sample time taken from each observation stream. */
  cursor = { rtt: -Infinity, up: -Infinity, down: -Infinity, status: -Infinity };

  constructor(
    readonly profiles: Profiles,
    readonly options: PlannerOptions,
  ) {
    this.space = planSpaceFor(profiles, options);
    this.modelIndex = new Map(profiles.models.map((m, i) => [m.id, i]));
    this.up = new BandwidthEstimator(options.bandwidth.samples, options.bandwidth.windowMs);
    this.down = new BandwidthEstimator(options.bandwidth.samples, options.bandwidth.windowMs);
    this.lines = new Ewma(0.2, profiles.content.linesPerImage);
    const lineWidth = profiledLineWidth(profiles);
    const widthPrior = (px: number) => (px > 0 && lineWidth > 0 ? px / lineWidth : 0);
    this.linesModel = new LinesModel(profiles.content.linesPerImage, undefined, undefined, LINES_BY_SHAPE, {
      portrait: widthPrior(LINE_WIDTH_BY_SHAPE.portrait),
      landscape: widthPrior(LINE_WIDTH_BY_SHAPE.landscape),
    });
    const edgeProfile =
      profiles.runtimes.find((r) => r.location === 'edge' && r.id === profiles.defaults.edgeRuntime) ?? profiles.runtimes.find((r) => r.location === 'edge');
    // Profiles without an edge runtime still get (empty) edge fits so the plan code needs no special case.
    this.edgeModels = new RuntimeModels(
      edgeProfile?.id ?? 'edge',
      edgeProfile ?? { id: 'edge', location: 'edge', backend: 'none', threads: 1, stages: [] },
      profiles,
      options.gain.edge,
      false,
    );
    this.edge = new EdgeEstimator(options.edge, this.seedServiceMs());
  }

  /** Latency fits for the device's current backend and thread count, seeded from the closest profiled runtime. */
  deviceModelsFor(backend: string, threads: number): RuntimeModels {
    const key = runtimeKey(backend, threads);
    let m = this.deviceModels.get(key);
    if (m === undefined) {
      const all = this.profiles.runtimes.filter((r) => r.location === 'device');
      // The profiled default device (a phone-class CPU throttle) seeds unknown devices; among runtimes measured at
      // several throttles for the same backend and threads, the default's throttle wins.
      const preferred = all.find((r) => r.id === this.profiles.defaults.deviceRuntime);
      const throttle = preferred?.cpuThrottle ?? 1;
      const device = preferred ? [...all].sort((a, b) => Number((b.cpuThrottle ?? 1) === throttle) - Number((a.cpuThrottle ?? 1) === throttle)) : all;
      const seed = device.find((r) => r.backend === backend && r.threads === threads) ??
        device.filter((r) => r.backend === backend).sort((a, b) => Math.abs(a.threads - threads) - Math.abs(b.threads - threads))[0] ??
        preferred ??
        device[0] ?? { id: key, location: 'device' as const, backend, threads, stages: [] };
      m = new RuntimeModels(key, seed, this.profiles, this.options.gain.device);
      this.deviceModels.set(key, m);
    }
    return m;
  }

  /**
   * What is worth keeping across sessions (e.g. in IndexedDB): latency fits per runtime, lines per image and
   * re-encode size. Link estimates are left out on purpose: the next session may be on another network.
   */
  exportLearned(): LearnedState {
    const runtime = (m: RuntimeModels, location: 'device' | 'edge', backend: string, threads: number) => ({
      location,
      backend,
      threads,
      lnGain: m.gain.lnGain,
      gainCount: m.gain.count,
      gainSdLn: m.gain.sdLn,
      fits: Object.fromEntries([...m.fits()].filter(([, f]) => f.count > 0).map(([k, f]) => [k, f.exportFit()])),
    });
    const runtimes: LearnedState['runtimes'] = {};
    for (const [key, m] of this.deviceModels) {
      const [backend, threads] = parseRuntimeKey(key);
      runtimes[key] = runtime(m, 'device', backend, threads);
    }
    runtimes[`edge:${this.edgeModels.key}`] = runtime(this.edgeModels, 'edge', this.edgeModels.profile.backend, this.edgeModels.profile.threads);
    const ewma = (e: Ewma) => ({ mean: e.mean, variance: e.variance, count: e.count });
    return { schema: 2, runtimes, lines: ewma(this.lines), reencodeRatio: ewma(this.reencodeRatio), linesByImage: this.linesModel.export() };
  }

  /** Restores exportLearned() output; entries that no longer match the profiles are skipped. */
  importLearned(learned: LearnedState): void {
    if (learned?.schema !== 2) return;
    for (const r of Object.values(learned.runtimes ?? {})) {
      const m = r.location === 'edge' ? this.edgeModels : this.deviceModelsFor(r.backend, r.threads);
      if (Number.isFinite(r.lnGain) && r.gainCount > 0) m.gain.restore(r.lnGain, r.gainCount, r.gainSdLn);
      for (const [name, fit] of m.fits()) {
        const f = r.fits[name];
        if (f !== undefined) fit.importFit(f);
      }
    }
    const ewma = (e: Ewma, v: { mean: number; variance: number; count: number } | undefined) => {
      if (v === undefined || !Number.isFinite(v.mean) || !(v.variance >= 0)) return;
      e.mean = v.mean;
      e.variance = v.variance;
      e.count = v.count;
    };
    ewma(this.lines, learned.lines);
    ewma(this.reencodeRatio, learned.reencodeRatio);
    this.linesModel.import(learned.linesByImage);
  }

  /** Fits of a device runtime already used by a decision (by its key), if any. */
  deviceModelsByKey(key: string): RuntimeModels | undefined {
    return this.deviceModels.get(key);
  }

  /** Takes the new samples of an observation (each once) and follows network changes. */
  ingest(obs: Observation, hooks?: IngestHooks): void {
    if (obs.networkId !== undefined && obs.networkId !== this.networkId) {
      if (this.networkId !== undefined) {
        this.rtt.reset();
        this.up.reset();
        this.down.reset();
      }
      this.networkId = obs.networkId;
    }
    let newest = this.cursor.rtt;
    for (const s of obs.rtt) {
      if (s.atMs > this.cursor.rtt) {
        this.rtt.add(s.rttMs, s.atMs);
        hooks?.onRtt?.(s.rttMs, s.atMs);
        if (s.atMs > newest) newest = s.atMs;
      }
    }
    this.cursor.rtt = newest;
    let newestUp = this.cursor.up;
    let newestDown = this.cursor.down;
    for (const s of obs.throughput) {
      const cursor = s.direction === 'up' ? this.cursor.up : this.cursor.down;
      if (s.atMs <= cursor) continue;
      this.addTransfer(s.direction, s.bytes, s.elapsedMs, s.serverMs ?? 0, s.atMs, s.lowerBound === true, s.readMs);
      hooks?.onTransfer?.(s.direction, s.bytes, s.elapsedMs, s.serverMs ?? 0, s.atMs);
      if (s.direction === 'up') newestUp = Math.max(newestUp, s.atMs);
      else newestDown = Math.max(newestDown, s.atMs);
    }
    this.cursor.up = newestUp;
    this.cursor.down = newestDown;
    const e = obs.edge;
    if (e.status !== undefined && e.statusAtMs !== undefined && e.statusAtMs > this.cursor.status) {
      this.edge.ingestStatus(e.status, e.statusAtMs);
      if (e.status.pool.workers >= 1) this.edgeWorkers = e.status.pool.workers;
      this.learnFromStatus(e.status);
      this.cursor.status = e.statusAtMs;
    }
    if (e.refusedAtMs !== undefined) this.edge.refused(e.refusedAtMs);
  }

  /**
   * One transfer: pure transfer time = elapsed − server time − one round trip (LayerCake and Jellyfish do the
   * same), the round trip being the recent minimum (an inflated mean would leave no time for fast transfers).
   * Transfers that are too small are skipped; one that leaves no time after the subtraction went by too fast to
   * time, and counts as a lower bound (its bytes over its elapsed time less the server's). So does one that shared the
   * phone or the link with other work (`contended`) once the link has been measured without it: on a slow phone a
   * probe beside on-device inference measured 1.3 Mbit/s on a 20 Mbit/s link, and every upload after it was predicted
   * seven times too slow.
   *
   * An upload the server timed itself (`readMs`, its body arriving) is taken at that time instead: the round trip a
   * page measures also holds the phone's own delays around the request, about 100 ms on a quarter-speed phone,
   * which read as a slow link (a 20 Mbit/s uplink was learnt at 3.4–5.2 Mbit/s from 50–200 KB photos the server
   * received at 7–21 Mbit/s).
   */
  addTransfer(direction: 'up' | 'down', bytes: number, elapsedMs: number, serverMs: number, atMs: number, contended = false, readMs?: number): boolean {
    const cursor = direction === 'up' ? 'up' : 'down';
    if (atMs > this.cursor[cursor]) this.cursor[cursor] = atMs;
    if (bytes < this.options.minTransferBytes) return false;
    const minRtt = this.rtt.minRtt(atMs);
    const sample = { direction, elapsedMs, serverMs, readMs };
    const byServer = timedByServer(sample);
    const ms = transferTimeMs(sample, Number.isNaN(minRtt) ? 0 : minRtt);
    const link = direction === 'up' ? this.up : this.down;
    // Without a measurement to keep, a contended transfer is still the best reading of the link there is.
    if (contended && link.size > 0) {
      if (ms > 1) link.addLowerBound((bytes * 8) / ms, atMs);
      return false;
    }
    // Round-trip jitter hides a transfer that is a small share of its round trip; the server's clock does not.
    if (!byServer && (!(ms > 0.05 * elapsedMs) || !(ms > 1))) {
      const upper = elapsedMs - serverMs;
      if (upper >= 1 && Number.isFinite(upper)) link.addLowerBound((bytes * 8) / upper, atMs);
      return false;
    }
    return link.addTransfer(bytes, ms, atMs);
  }

  /**
   * An answer of `bytes` came back within its round trip less the server's work and one round trip, however the rest
   * split between upload and reply: the downlink is at least that fast. Replies are too small to time (a few KB
   * behind an upload), but on a link whose only download probe met a slow moment, this keeps a reply of 15 KB from
   * being predicted at 2 s when every earlier one arrived with the whole request in under one.
   */
  addReplyBound(bytes: number, elapsedMs: number, serverMs: number, atMs: number): void {
    const minRtt = this.rtt.minRtt(atMs);
    const ms = elapsedMs - serverMs - (Number.isNaN(minRtt) ? 0 : minRtt);
    if (bytes > 0 && ms >= 1) this.down.addLowerBound((bytes * 8) / ms, atMs);
  }

  private readonly upPrior: BandwidthPrior = { kbps: 0, sdLn: 0 };
  private readonly downPrior: BandwidthPrior = { kbps: 0, sdLn: 0 };

  /** NetInfo as a bandwidth prior for one direction (null when it says nothing); the object is reused. */
  netInfoPrior(info: NetInfoReading | undefined, direction: 'up' | 'down'): BandwidthPrior | null {
    if (info === undefined) return null;
    let kbps: number | undefined;
    let sdLn = 0.8;
    if (info.downlinkMbps !== undefined && info.downlinkMbps > 0) {
      kbps = info.downlinkMbps * 1000;
      // Chromium caps downlink at 10 Mbit/s: there it is a floor, not an estimate.
      if (info.downlinkMbps >= 10) sdLn = 1.0;
    } else if (info.effectiveType !== undefined) {
      kbps = EFFECTIVE_TYPE_KBPS[info.effectiveType];
      sdLn = 1.0;
    }
    if (kbps === undefined) return null;
    const out = direction === 'up' ? this.upPrior : this.downPrior;
    out.kbps = direction === 'up' ? kbps * this.options.priors.upFromDownRatio : kbps;
    out.sdLn = direction === 'up' ? sdLn + 0.3 : sdLn;
    return out;
  }

  netInfoRtt(info: NetInfoReading | undefined): number | undefined {
    if (info === undefined) return undefined;
    if (info.rttMs !== undefined && info.rttMs > 0) return info.rttMs;
    return info.effectiveType !== undefined ? EFFECTIVE_TYPE_RTT_MS[info.effectiveType] : undefined;
  }

  /** Runs counted and their mean per status latency bucket, to learn only from runs not seen in an earlier snapshot. */
  private readonly bucketsSeen = new Map<string, { count: number; ewmaMs: number }>();

  /**
   * The edge reports recent detector latency per input size (its own runs, for every client): each bucket that
   * gained runs since the last snapshot corrects the edge's detector fit once, at that size, by the mean of those new
   * runs (recovered from the bucket's EWMA before and after). A bucket seen for the first time holds runs from before
   * this page watched, at a load nobody here saw: they count as weak. Taken whole, the runs of ten receipts read at
   * once (two to three times an idle edge's time) made a fresh page predict the edge's detector 7–15 times too slow
   * and read the next receipt at a smaller side.
   */
  private learnFromStatus(status: StatusResponse): void {
    // Runs timed while requests queued ran beside other work (more runs than cores): weak, as a crowded reply's are.
    const crowded = status.pool.queued > 0 || (status.ocr?.inProgress ?? 0) > status.pool.workers;
    for (const m of status.models) {
      const profiled = this.profiles.models.find((p) => p.name === m.name && p.variant === m.variant && p.role === 'det');
      if (profiled === undefined) continue;
      const model = this.edgeModels.det[this.modelIndex.get(profiled.id) ?? -1];
      if (!model) continue;
      for (const b of m.latency) {
        const key = `${profiled.id}|${b.size}`;
        const seen = this.bucketsSeen.get(key);
        this.bucketsSeen.set(key, { count: b.count, ewmaMs: b.ewmaMs });
        if (seen !== undefined && b.count <= seen.count) continue;
        const dims = b.size.split('x').map(Number);
        const px = dims.length >= 2 ? dims[dims.length - 1] * dims[dims.length - 2] : NaN;
        const ms = seen === undefined ? b.ewmaMs : newRunsMean(seen.ewmaMs, b.ewmaMs, b.count - seen.count);
        if (px > 0 && ms > 0) model.update(px, ms, crowded || seen === undefined);
      }
    }
  }

  private seedServiceMs(): number {
    // A whole request at the default configuration: the edge's typical service time before any reply was seen.
    const d = this.profiles.defaults;
    const m = this.edgeModels;
    const det = m.det[this.modelIndex.get(d.det) ?? -1];
    const rec = m.rec[this.modelIndex.get(d.rec) ?? -1];
    const px = d.maxSide * d.maxSide * 0.6;
    const lines = this.profiles.content.linesPerImage.mean;
    return (det?.mean(px) ?? 100) + (rec?.mean(lines) ?? 100);
  }
}

export interface LearnedState {
  schema: 2;
  runtimes: Record<
    string,
    {
      location: 'device' | 'edge';
      backend: string;
      threads: number;
      lnGain: number;
      gainCount: number;
      /** Spread of the location's runs around its speed (absent in state saved before it was kept). */
      gainSdLn?: number;
      fits: Record<string, LatencyFit>;
    }
  >;
  lines: { mean: number; variance: number; count: number };
  reencodeRatio: { mean: number; variance: number; count: number };
  /** Recent images with their line counts (absent in state saved before it was kept). */
  linesByImage?: LinesSamples;
}

/** Mean of the `n` runs that moved a bucket's EWMA from `before` to `after`. */
function newRunsMean(before: number, after: number, n: number): number {
  const kept = (1 - LATENCY_EWMA_ALPHA) ** n;
  return (after - kept * before) / (1 - kept);
}

function runtimeKey(backend: string, threads: number): string {
  return `${backend}-${threads}t`;
}

function parseRuntimeKey(key: string): [string, number] {
  const m = /^(.*)-(\d+)t$/.exec(key);
  return m ? [m[1], Number(m[2])] : [key, 1];
}

export interface IngestHooks {
  onRtt?(rttMs: number, atMs: number): void;
  onTransfer?(direction: 'up' | 'down', bytes: number, elapsedMs: number, serverMs: number, atMs: number): void;
}

/**
 * Typical links per NetInfo effective type (kbit/s, ms): the spec's thresholds for the slow types, a modest LTE
 * figure for "4g", which only says "faster than 3g".
 */
const EFFECTIVE_TYPE_KBPS = { 'slow-2g': 50, '2g': 70, '3g': 700, '4g': 4000 } as const;
const EFFECTIVE_TYPE_RTT_MS = { 'slow-2g': 2000, '2g': 1400, '3g': 270, '4g': 100 } as const;
