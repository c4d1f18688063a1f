/**
 * Predicts every plan of the space for one request: expected latency, a conservative p95, expected word recall,
 * edge milliseconds, bytes on the network and device milliseconds. Stage spreads add as variances within
 * independent noise and linearly within a correlated group (device speed, edge speed, uplink, downlink).
 *
 * Concurrency:
 * - split recognition waits for both branches: expected time by Clark's E[max]; p95 bounds both branches at p97.5
 *   (union bound, valid whatever the correlation).
 * - a race ends with the first branch: expected ≤ min of the means, p95 ≤ min of the p95s (both bounds are used,
 *   which keeps predictions monotone in the link speed), unless the device's answer holds no line (chanceOfLines):
 *   then the edge's answer is awaited, and the race takes the edge's time.
 * - an edge request fails with the learnt probability pf; the request then falls back to the device. Its p95 is
 *   the smaller of the success path's quantile at 0.95/(1−pf) and the larger of the two paths' p95s. Failures show
 *   in p95 and in expected accuracy; the expected latency is that of the usual outcome (the edge answers), since a
 *   rare multi-second fallback would otherwise make the mean describe no request at all.
 */
import * as space_ from './plan-space';
import type { PlanSpace } from './plan-space';
import * as normal from './estimators/normal';
import { chanceOfLines } from './estimators/recall';
import type { StageName, StageTable, StageWhere } from './stage-table';

/** Log-space spread of a positive duration whose normal approximation has this mean and sd (matched at p95). */
function lnSpread(mean: number, sd: number): number {
  return mean > 0 && sd > 0 ? Math.log(1 + (Z95 * sd) / mean) / Z95 : 0;
}

export type Branch = 'main' | 'device' | 'edge' | 'fallback';

export interface PredictedStage {
  stage: StageName;
  where: StageWhere;
  branch: Branch;
  /** Expected start, from the start of the request. */
  startMs: number;
  expectedMs: number;
  sdMs: number;
  bytes: number;
}

export interface Prediction {
  expectedMs: number;
  p95Ms: number;
  /** Expected word recall (0..1). */
  accuracy: number;
  /** Expected compute milliseconds on the edge. */
  edgeMs: number;
  /** Expected bytes over the network (uploads, replies, model downloads). */
  transferBytes: number;
  /** The same bytes when the connection is cellular, else 0. */
  cellularBytes: number;
  /** Expected compute milliseconds on the device. */
  deviceMs: number;
}

// Module-local copies: some loaders turn imported bindings into getter calls, which this loop would pay per plan.
const KIND_DEVICE = space_.KIND_DEVICE;
const KIND_EDGE = space_.KIND_EDGE;
const KIND_SPLIT_DET = space_.KIND_SPLIT_DET;
const KIND_SPLIT_REC = space_.KIND_SPLIT_REC;
const Z95 = normal.Z95;
const Z975 = normal.Z975;
const expectedMax = normal.expectedMax;
const normCdf = normal.normCdf;
const normInv = normal.normInv;

/** Starting a device run is not instantaneous (worker message, session lookup). */
const HEDGE_MARGIN_MS = 1;

const SLOT_OTHER = 0;
const SLOT_EDGE = 1;
const SLOT_DEVICE = 2;

/** Latency of a chain of stages: a mean, independent variance, and per-group correlated spreads. */
class Path {
  mean = 0;
  v = 0;
  /** Correlated spread per group (G_DEVICE, G_EDGE, G_UP, G_DOWN): fields rather than an array, read per stage. */
  g1 = 0;
  g2 = 0;
  g3 = 0;
  g4 = 0;
  edgeMs = 0;
  deviceMs = 0;
  bytes = 0;
  trace: PredictedStage[] | null = null;
  branch: Branch = 'main';
  offset = 0;
  private readonly tMean: Float64Array;
  private readonly tIndep: Float64Array;
  private readonly tCorr: Float64Array;
  private readonly tGroup: Uint8Array;
  private readonly tBytes: Float64Array;

  constructor(
    private readonly t: StageTable,
    private readonly kind: Uint8Array,
  ) {
    this.tMean = t.mean;
    this.tIndep = t.indep;
    this.tCorr = t.corr;
    this.tGroup = t.group;
    this.tBytes = t.bytes;
  }

  reset(trace: PredictedStage[] | null = null, branch: Branch = 'main', offset = 0): this {
    this.mean = 0;
    this.v = 0;
    this.g1 = 0;
    this.g2 = 0;
    this.g3 = 0;
    this.g4 = 0;
    this.edgeMs = 0;
    this.deviceMs = 0;
    this.bytes = 0;
    this.trace = trace;
    this.branch = branch;
    this.offset = offset;
    return this;
  }

  /** Takes over another path's totals (no trace). */
  copyFrom(o: Path): this {
    this.mean = o.mean;
    this.v = o.v;
    this.g1 = o.g1;
    this.g2 = o.g2;
    this.g3 = o.g3;
    this.g4 = o.g4;
    this.edgeMs = o.edgeMs;
    this.deviceMs = o.deviceMs;
    this.bytes = o.bytes;
    this.trace = null;
    this.branch = o.branch;
    this.offset = o.offset;
    return this;
  }

  add(slot: number): void {
    const m = this.tMean[slot];
    const bytes = this.tBytes[slot];
    if (m === 0 && bytes === 0) return;
    if (this.trace !== null) {
      const t = this.t;
      this.trace.push({
        stage: t.stage[slot],
        where: t.where[slot],
        branch: this.branch,
        startMs: this.offset + this.mean,
        expectedMs: m,
        sdMs: Math.sqrt(t.indep[slot] ** 2 + t.corr[slot] ** 2),
        bytes,
      });
    }
    this.mean += m;
    const i = this.tIndep[slot];
    this.v += i * i;
    const c = this.tCorr[slot];
    switch (this.tGroup[slot]) {
      case 1:
        this.g1 += c;
        break;
      case 2:
        this.g2 += c;
        break;
      case 3:
        this.g3 += c;
        break;
      case 4:
        this.g4 += c;
        break;
    }
    const k = this.kind[slot];
    if (k === SLOT_EDGE) this.edgeMs += m;
    else if (k === SLOT_DEVICE) this.deviceMs += m;
    this.bytes += bytes;
  }

  sd(): number {
    return Math.sqrt(this.v + this.g1 * this.g1 + this.g2 * this.g2 + this.g3 * this.g3 + this.g4 * this.g4);
  }

  /** Standard deviation of this path followed by `other`. */
  sdWith(other: Path): number {
    const g1 = this.g1 + other.g1;
    const g2 = this.g2 + other.g2;
    const g3 = this.g3 + other.g3;
    const g4 = this.g4 + other.g4;
    return Math.sqrt(this.v + other.v + g1 * g1 + g2 * g2 + g3 * g3 + g4 * g4);
  }
}

/** Evaluates the whole space into flat arrays (no allocation per plan); explains one plan on demand. */
export class PlanEvaluator {
  readonly expected: Float64Array;
  readonly p95: Float64Array;
  readonly accuracy: Float64Array;
  readonly edgeMs: Float64Array;
  readonly bytes: Float64Array;
  readonly deviceMs: Float64Array;
  /** Bytes of models the plan downloads before its device work (0 when the device holds what it runs). */
  readonly modelBytes: Float64Array;
  /** Device-only plan a failed or late edge request falls back to (-1 when the device cannot run anything). */
  fallback = -1;
  /** When a race starts its device run, from the start of the request. */
  hedgeAtMs = 0;
  budgetMs = 0;

  private readonly shareIndex: Int16Array;
  /** Line shares per device recogniser in the table's classifier and recogniser slots. */
  private readonly shares: number;
  private readonly slotKind: Uint8Array;
  private readonly main: Path;
  private readonly a: Path;
  private readonly b: Path;
  /** The last whole-request edge path, reused by its raced twin (the next plan: same configuration and upload). */
  private readonly edgePath: Path;
  private edgePathOf = -1;
  /**
   * Partial sums shared by many plans, kept for the current request: an edge plan's stages up to the edge's
   * detector input (per upload: original, then each re-encode) and the device's front up to detection (per
   * configuration). Stages are added in the same order either way, so the sums are the same numbers.
   */
  private readonly uploadPrefix: Path[];
  private readonly uploadPrefixReady: Uint8Array;
  private readonly deviceFrontOf: Path[];
  private readonly deviceFrontReady: Uint8Array;
  /** A race's device-run log-spread: the same for every race of the request. */
  private lnHedge = 0;
  private failureP = 0;
  /** Success-path quantile level that keeps the mixture's p95: 0.95/(1−pf) for one path, split over two branches. */
  private zFailure = Z95;
  private zFailure2 = Z975;

  constructor(
    readonly space: PlanSpace,
    readonly table: StageTable,
  ) {
    const n = space.plans.length;
    this.expected = new Float64Array(n);
    this.p95 = new Float64Array(n);
    this.accuracy = new Float64Array(n);
    this.edgeMs = new Float64Array(n);
    this.bytes = new Float64Array(n);
    this.deviceMs = new Float64Array(n);
    this.shareIndex = new Int16Array(n);
    this.shares = table.lineShares.length;
    this.modelBytes = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const s = space.share[i];
      let idx = 0;
      for (let k = 1; k < table.lineShares.length; k++) if (table.lineShares[k] === s) idx = k;
      this.shareIndex[i] = space.kind[i] === KIND_SPLIT_REC ? idx : 0;
    }
    this.slotKind = Uint8Array.from(table.where, (w, i) =>
      w === 'edge' && table.stage[i] !== 'queue' ? SLOT_EDGE : w === 'device' && table.stage[i] !== 'device-busy' ? SLOT_DEVICE : SLOT_OTHER,
    );
    this.main = new Path(table, this.slotKind);
    this.a = new Path(table, this.slotKind);
    this.b = new Path(table, this.slotKind);
    this.edgePath = new Path(table, this.slotKind);
    this.uploadPrefix = Array.from({ length: space.reencodes.length + 1 }, () => new Path(table, this.slotKind));
    this.uploadPrefixReady = new Uint8Array(space.reencodes.length + 1);
    this.deviceFrontOf = Array.from({ length: space.configs.length }, () => new Path(table, this.slotKind));
    this.deviceFrontReady = new Uint8Array(space.configs.length);
  }

  /** Predicts every plan for the prepared table: device-only plans first, since the others fall back to one. */
  evaluateAll(budgetMs: number): void {
    const space = this.space;
    const n = space.plans.length;
    this.budgetMs = budgetMs;
    const pf = this.table.failureProbability;
    this.failureP = pf;
    this.edgePathOf = -1;
    this.zFailure = pf < 0.05 ? normInv(0.95 / (1 - pf)) : Infinity;
    this.zFailure2 = pf < 0.05 ? normInv(1 - (1 - 0.95 / (1 - pf)) / 2) : Infinity;
    this.uploadPrefixReady.fill(0);
    this.deviceFrontReady.fill(0);
    for (let i = 0; i < n; i++) if (space.kind[i] === KIND_DEVICE) this.evaluate(i, null);
    this.fallback = this.bestDevicePlan(budgetMs);
    const f = this.fallback;
    this.hedgeAtMs = f >= 0 && this.p95[f] + HEDGE_MARGIN_MS <= budgetMs ? budgetMs - this.p95[f] - HEDGE_MARGIN_MS : 0;
    this.lnHedge = f >= 0 ? lnSpread(this.hedgeAtMs + this.expected[f], (this.p95[f] - this.expected[f]) / Z95) : 0;
    for (let i = 0; i < n; i++) if (space.kind[i] !== KIND_DEVICE) this.evaluate(i, null);
  }

  /** Most accurate device-only plan whose p95 fits, else the fastest one. */
  private bestDevicePlan(budgetMs: number): number {
    const space = this.space;
    let best = -1;
    let fastest = -1;
    for (let i = 0; i < space.plans.length; i++) {
      if (space.kind[i] !== KIND_DEVICE) continue;
      if (fastest < 0 || this.p95[i] < this.p95[fastest]) fastest = i;
      if (
        this.p95[i] <= budgetMs &&
        (best < 0 || this.accuracy[i] > this.accuracy[best] || (this.accuracy[i] === this.accuracy[best] && this.p95[i] < this.p95[best]))
      )
        best = i;
    }
    return best >= 0 ? best : fastest;
  }

  /** Stage-by-stage prediction of one plan (after evaluateAll). */
  explain(i: number): PredictedStage[] {
    const trace: PredictedStage[] = [];
    this.evaluate(i, trace);
    return trace;
  }

  prediction(i: number, cellular: boolean): Prediction {
    return {
      expectedMs: this.expected[i],
      p95Ms: this.p95[i],
      accuracy: this.accuracy[i],
      edgeMs: this.edgeMs[i],
      transferBytes: this.bytes[i],
      cellularBytes: cellular ? this.bytes[i] : 0,
      deviceMs: this.deviceMs[i],
    };
  }

  private deviceFront(p: Path, c: number): void {
    const t = this.table;
    p.add(t.cold[c]);
    p.add(t.modelDownload[c]);
    p.add(t.busy);
    p.add(t.decode);
    p.add(t.detPre[c]);
    p.add(t.det[c]);
    p.add(t.post[c]);
  }

  private evaluate(i: number, trace: PredictedStage[] | null): void {
    const space = this.space;
    const t = this.table;
    const c = space.config[i];
    const acc = t.configRecall[c];
    switch (space.kind[i]) {
      case KIND_DEVICE: {
        const p = this.main.reset(trace, 'main');
        this.deviceFront(p, c);
        if (trace === null) {
          this.deviceFrontOf[c].copyFrom(p);
          this.deviceFrontReady[c] = 1;
        }
        const rs = space.configRec[c] * this.shares;
        p.add(t.cls[rs]);
        p.add(t.rec[rs]);
        this.store(i, p.mean, p.mean + Z95 * p.sd(), acc, p);
        return;
      }
      case KIND_EDGE: {
        const r = space.reencode[i];
        let p: Path;
        const prev = i - 1;
        if (
          trace === null &&
          space.race[i] === 1 &&
          this.edgePathOf === prev &&
          space.config[prev] === c &&
          space.reencode[prev] === r &&
          space.race[prev] === 0
        ) {
          p = this.main.copyFrom(this.edgePath);
        } else {
          if (trace === null && this.uploadPrefixReady[r + 1] === 1) p = this.main.copyFrom(this.uploadPrefix[r + 1]);
          else {
            p = this.main.reset(trace, 'edge');
            // The re-encode decodes the original itself (profiled and measured whole, as the worker runs it).
            if (r >= 0) p.add(t.reencode[r]);
            p.add(t.rtt);
            p.add(r >= 0 ? t.upReencode[r] : t.upOriginal);
            p.add(t.queue);
            p.add(r >= 0 ? t.requestReencode[r] : t.requestOriginal);
            p.add(r >= 0 ? t.edgeDecodeReencode[r] : t.edgeDecodeOriginal);
            if (trace === null) {
              this.uploadPrefix[r + 1].copyFrom(p);
              this.uploadPrefixReady[r + 1] = 1;
            }
          }
          p.add(t.edgePre[c]);
          p.add(t.edgeDet[c]);
          p.add(t.edgePost[c]);
          p.add(t.edgeCls[0]);
          p.add(t.edgeRec[0]);
          p.add(t.download);
          if (trace === null) {
            this.edgePath.copyFrom(p);
            this.edgePathOf = i;
          }
        }
        const accuracy = r >= 0 ? acc * t.reencodeRecall[r] : acc;
        if (space.race[i] === 1) this.finishRace(i, p, accuracy, trace);
        else this.finishSerial(i, p, accuracy, trace);
        return;
      }
      case KIND_SPLIT_DET: {
        const p = this.main.reset(trace, 'main');
        p.add(t.cold[c]);
        p.add(t.modelDownload[c]);
        p.add(t.busy);
        p.add(t.decode);
        p.add(t.detPre[c]);
        p.add(t.head[i]);
        p.add(t.rtt);
        p.add(t.upActivations[i]);
        p.add(t.queue);
        p.add(t.requestActivations[i]);
        p.add(t.tail[i]);
        p.add(t.edgePost[c]);
        p.add(t.downloadBoxes);
        p.add(t.cls[space.configRec[c] * this.shares]);
        p.add(t.rec[space.configRec[c] * this.shares]);
        this.finishSerial(i, p, acc, trace);
        return;
      }
      case KIND_SPLIT_REC: {
        const s = this.shareIndex[i];
        let p: Path;
        if (trace === null && this.deviceFrontReady[c] === 1) p = this.main.copyFrom(this.deviceFrontOf[c]);
        else {
          p = this.main.reset(trace, 'main');
          this.deviceFront(p, c);
        }
        const a = this.a.reset(trace, 'device', p.mean);
        a.add(t.cls[space.configRec[c] * this.shares + s]);
        a.add(t.rec[space.configRec[c] * this.shares + s]);
        const b = this.b.reset(trace, 'edge', p.mean);
        b.add(t.rtt);
        b.add(t.upCrops[s]);
        b.add(t.queue);
        b.add(t.requestCrops[s]);
        b.add(t.edgeCls[s]);
        b.add(t.edgeRec[s]);
        b.add(t.downloadShare[s]);
        let mean: number;
        let s95: number;
        let viaSuccess: number;
        if (a.mean === 0) {
          const sd = p.sdWith(b);
          mean = p.mean + b.mean;
          s95 = mean + Z95 * sd;
          viaSuccess = mean + this.zFailure * sd;
        } else {
          const sdA = p.sdWith(a);
          const sdB = p.sdWith(b);
          mean = p.mean + expectedMax(a.mean, a.sd(), b.mean, b.sd());
          s95 = Math.max(p.mean + a.mean + Z975 * sdA, p.mean + b.mean + Z975 * sdB);
          viaSuccess = Math.max(p.mean + a.mean + this.zFailure2 * sdA, p.mean + b.mean + this.zFailure2 * sdB);
        }
        p.edgeMs += b.edgeMs;
        p.deviceMs += a.deviceMs;
        p.bytes += b.bytes;
        this.finishEdge(i, p, acc, mean, s95, viaSuccess, b.mean, trace);
        return;
      }
    }
  }

  private finishSerial(i: number, p: Path, accuracy: number, trace: PredictedStage[] | null): void {
    const sd = p.sd();
    this.finishEdge(i, p, accuracy, p.mean, p.mean + Z95 * sd, p.mean + this.zFailure * sd, p.mean, trace);
  }

  /**
   * An edge-using plan without a race: the success path, or with probability pf a failure noticed after
   * `waitBeforeFallback` and then the fallback device plan. `viaSuccess` is the success path's quantile at
   * 0.95/(1−pf) (Infinity when pf ≥ 0.05).
   */
  private finishEdge(
    i: number,
    p: Path,
    accuracy: number,
    mean: number,
    s95: number,
    viaSuccess: number,
    waitBeforeFallback: number,
    trace: PredictedStage[] | null,
  ): void {
    const pf = this.failureP;
    const f = this.fallback;
    const dP95 = f >= 0 ? this.p95[f] : Infinity;
    const dAcc = f >= 0 ? this.accuracy[f] : 0;
    const fail95 = waitBeforeFallback + dP95;
    const mixture = Math.max(s95, fail95);
    const p95 = viaSuccess < mixture ? viaSuccess : mixture;
    const acc = pf > 0 ? (1 - pf) * accuracy + pf * dAcc : accuracy;
    this.store(i, mean, p95, acc, p);
    if (pf > 0 && f >= 0) this.deviceMs[i] += pf * this.deviceMs[f];
    if (trace !== null && f >= 0 && pf > 0) this.traceFallback(trace, f, waitBeforeFallback);
  }

  /** An edge plan raced by the fallback device plan started at hedgeAt (or at the failure, if earlier). */
  private finishRace(i: number, p: Path, accuracy: number, trace: PredictedStage[] | null): void {
    const f = this.fallback;
    const pf = this.failureP;
    // The device run starts once the upload is prepared: a re-encode runs in the same worker as the device's OCR.
    const t = this.table;
    const r = this.space.reencode[i];
    const prepared = r >= 0 ? t.mean[t.reencode[r]] : 0;
    const hedge = prepared > this.hedgeAtMs ? prepared : this.hedgeAtMs;
    const sMean = p.mean;
    const sSd = p.sd();
    const hMean = hedge + this.expected[f];
    const h95 = hedge + this.p95[f];
    // A device answer with no line does not end the race while the edge may still answer (tooFewLines in
    // web/placement/execute.ts): with chance 1 − q the request is the edge's. Street scenes raced with the phone at
    // 320 px on a 250 kbit/s uplink were predicted at the phone's 1.6–1.7 s; the edge answered each at 1.9–2.5 s.
    const lines = t.linesMean;
    const q = lines >= 1 ? chanceOfLines(lines, t.configKept[this.space.config[f]]) : 1;
    const viaSuccess = sMean + this.zFailure * sSd;
    let p95 = viaSuccess < h95 ? viaSuccess : h95;
    if (1 - q > 0.05) {
      // Past 5 % of the requests, the edge's own quantile sets the tail.
      const edgeTail = sMean + normInv(1 - 0.05 / (1 - q)) * sSd;
      if (edgeTail > p95) p95 = edgeTail < viaSuccess ? edgeTail : viaSuccess;
    }
    // A rare wait for a slow edge would lift the mean past the p95 (as in finishEdge, the usual outcome counts).
    const mix = q * (sMean < hMean ? sMean : hMean) + (1 - q) * sMean;
    const expected = mix < p95 ? mix : p95;
    // Who wins is a question about the tails, and transfer times are skewed: compare in log space.
    const lnS = lnSpread(sMean, sSd);
    const lnH = hedge === this.hedgeAtMs ? this.lnHedge : lnSpread(hMean, (this.p95[f] - this.expected[f]) / Z95);
    const lnBoth = Math.sqrt(lnS * lnS + lnH * lnH);
    const first = lnBoth > 0 ? normCdf(Math.log(hMean / sMean) / lnBoth) : sMean < hMean ? 1 : 0;
    // An edge answer counts for what the race reads only when it can come within the budget: over a link that takes
    // twenty seconds to carry the photo, the edge "wins" only long after the device's answer was due, and counting
    // its recall made the race look better than the device plan it races (whose answer it is in practice).
    const inBudget = lnS > 0 ? normCdf(Math.log(this.budgetMs / sMean) / lnS) : sMean <= this.budgetMs ? 1 : 0;
    const edgeWins = first < inBudget ? first : inBudget;
    // An empty device answer first: the edge's, if it comes within the budget. Small text vanishes first, so what a
    // smaller side finds a larger one finds too: when the device's side found nothing, the edge reads only what its
    // larger side keeps beyond the device's (nothing at the same or a smaller side). Crediting the edge's whole recall
    // there made a race read more than either of its answers.
    const keptEdge = t.configKept[this.space.config[i]];
    const keptDevice = t.configKept[this.space.config[f]];
    const rescued = keptEdge > keptDevice ? (1 - q) * (inBudget - edgeWins) * accuracy * (1 - keptDevice / keptEdge) : 0;
    const acc = (1 - pf) * (edgeWins * accuracy + (1 - edgeWins) * this.accuracy[f] + rescued) + pf * this.accuracy[f];
    this.store(i, expected, p95, acc, p);
    // The device only works if the edge has not answered by hedge time.
    const started = hedge <= 0 ? 1 : lnS > 0 ? 1 - normCdf(Math.log(hedge / sMean) / lnS) : hedge < sMean ? 1 : 0;
    this.deviceMs[i] += (pf + (1 - pf) * started) * this.deviceMs[f];
    if (trace !== null) this.traceFallback(trace, f, hedge);
  }

  private traceFallback(trace: PredictedStage[], f: number, startMs: number): void {
    const sub: PredictedStage[] = [];
    this.evaluate(f, sub);
    for (const s of sub) trace.push({ ...s, branch: 'fallback', startMs: s.startMs + startMs });
  }

  private store(i: number, expected: number, p95: number, accuracy: number, p: Path): void {
    this.modelBytes[i] = this.space.kind[i] === KIND_EDGE ? 0 : this.table.bytes[this.table.modelDownload[this.space.config[i]]];
    this.expected[i] = expected;
    this.p95[i] = p95;
    this.accuracy[i] = accuracy;
    this.edgeMs[i] = p.edgeMs;
    this.bytes[i] = p.bytes;
    this.deviceMs[i] = p.deviceMs;
  }
}
