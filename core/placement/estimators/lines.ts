/**
 * Text lines per image, predicted before detection from what the request says about the image: its shape (a
 * portrait receipt or page holds tens of lines, a landscape photo a handful), its size and its bytes per pixel
 * (dense print compresses worse than sky). A single running mean cannot do this: line counts are bimodal.
 *
 * Kernel regression over the most recent results: each of the nearest past images within a cut-off weighs
 * exp(−d²/2) by its distance d in (log aspect, log pixels, log bits per pixel), scaled by the widths below; the profile's figure
 * counts as a weak prior observation at every point, so the prediction stays on it until similar images have
 * been seen.
 * The spread is the weighted spread of the neighbours (plus the prior's), and shrinks only as real evidence
 * accumulates.
 */
import type { RequestInfo } from '../observations';
import { Z95 } from './normal';

/** Log-space widths: aspect ×1.5, pixels ×2, bits per pixel ×2.7 are "one width" apart (shape says most). */
const WIDTH = [0.4, 0.7, 1.0] as const;
const DIMS = 3;
/**
 * Only the nearest images count: many distant ones (thirty street photos) must not add up to outweigh the few
 * receipts that look like the one at hand.
 */
const NEAREST = 6;
/** Images further than this (squared, in widths) say nothing: a portrait receipt is not a landscape photo. */
const CUTOFF = 4.5;

export interface LinesPrior {
  mean: number;
  sd: number;
}

/** A figure for photos clearly taller than wide (a receipt, a page) and clearly wider than tall (a street, a sign). */
export interface ShapeLinesMeans {
  portrait: number;
  landscape: number;
}

/**
 * Lines a photo of a shape is expected to hold before any like it was read: `lines` at `atBytes` of JPEG, growing as
 * the photo's bytes to the `exponent` (0: one mean for the shape). More print is more detail to encode, so a
 * receipt's bytes say how much is printed on it: on the development set's 24 portrait receipts lines go as bytes^0.44,
 * and predicted that way, each from the others, are off by 22 % on average where the shape's one mean (56.5, sd
 * 14.4) is off by 27 %; the two shortest receipts (38 and 39 lines at 137 and 195 KB) were predicted 56.5 lines and
 * their edge recognition 60 % too long, which made a 2 s budget look out of reach for a read that took 1.4 s. The 90
 * landscape street scenes (2.8 lines, sd 2.2) are all one size, and their bytes say nothing of their lines (73 %
 * against 72 %). Fitted by `npm run fit:photo-recall` (from `npm run eval:photo-recall`, lines found at 960 px). The
 * spread: a receipt's is the law's own (its residual, 23 % of the mean), tighter than the profile's 23 lines, which
 * put a 40-line receipt's edge recognition p95 at 1.8 times its expectation; a landscape photo keeps the profile's,
 * since it may still be a page held sideways, which that set never shows.
 */
export interface LinesByBytes {
  lines: number;
  atBytes: number;
  exponent: number;
  /**
   * The bytes the law was fitted over (JPEG photos): beyond them it is held at its ends. A lossless image says
   * nothing by its bytes (a PNG of a 32-line receipt is 1.2 MB), and is taken at the law's centre.
   */
  minBytes: number;
  maxBytes: number;
  /** Spread as a share of the mean (0: the profile's spread). */
  relSd: number;
}
export interface LinesByShape {
  portrait: LinesByBytes;
  landscape: LinesByBytes;
}
export const LINES_BY_SHAPE: LinesByShape = {
  portrait: { lines: 57, atBytes: 300_000, exponent: 0.442, relSd: 0.227, minBytes: 132_519, maxBytes: 391_672 },
  landscape: { lines: 2.8, atBytes: 100_000, exponent: 0, relSd: 0, minBytes: 0, maxBytes: Infinity },
};

/** Lines expected of a photo of `bytes` by its shape's law. */
export function linesByBytes(law: LinesByBytes, bytes: number): number {
  if (law.exponent === 0 || !(bytes > 0)) return law.lines;
  const held = Math.min(law.maxBytes, Math.max(law.minBytes, bytes));
  return law.lines * (held / law.atBytes) ** law.exponent;
}

/**
 * Mean recogniser input width per line at 960 px by shape, in pixels at the recogniser's input height (total width
 * over total lines, as recognition's cost adds up; same runs and script as LINES_BY_SHAPE): receipts 260 (about the
 * same for short and long receipts: bytes^0.07) against the profiled lines' 160. At 160 px the first receipt of a session had its edge recognition predicted at 0.7 s where it
 * took 1.5–2.4 s on three replayed links (more lines than the mean, too). Street scenes measure 195 px; a scene's
 * recognition is a few lines, a small part of its time, and it is left at the profiled width (0: no prior).
 */
export const LINE_WIDTH_BY_SHAPE: ShapeLinesMeans = { portrait: 260, landscape: 0 };
/** Longer side over shorter side from which a photo counts as portrait or landscape (a near-square one has no shape). */
const SHAPED_ASPECT = 1.2;

export function shapeOf(width: number, height: number): keyof ShapeLinesMeans | null {
  if (height >= SHAPED_ASPECT * width) return 'portrait';
  if (width >= SHAPED_ASPECT * height) return 'landscape';
  return null;
}

export interface LinesEstimate {
  mean: number;
  sd: number;
  /** Sum of neighbour weights: 0 when the prediction is the prior alone. */
  evidence: number;
  /**
   * Mean recogniser input width per line, in profiled lines (1 = as wide as the lines the profile timed), from the
   * same neighbours that measured it; until one did, the shape's (LINE_WIDTH_BY_SHAPE) or 1, with spread
   * WIDTH_PRIOR_SD. Receipt lines run three times wider.
   */
  widthFactor?: number;
  widthSd?: number;
}

/**
 * Spread of the width factor before any similar image was measured: none, as the profiles say nothing about it
 * (predictions stay the profile's until widths are seen; then the neighbours' spread counts).
 */
const WIDTH_PRIOR_SD = 0;

export interface LinesSamples {
  /** Per image: width, height, bytes, lines, and the lines' width factor when it was measured. */
  images: ([number, number, number, number] | [number, number, number, number, number])[];
}

export class LinesModel {
  private readonly x: Float64Array;
  private readonly raw: Float64Array;
  private readonly y: Float64Array;
  /** Width factor per image (NaN: not measured). */
  private readonly wf: Float64Array;
  private n = 0;
  private next = 0;
  /** Results seen in total (not only the ones kept). */
  count = 0;

  constructor(
    readonly prior: LinesPrior,
    readonly capacity = 64,
    /** Weight of the prior, in neighbours at distance 0. */
    readonly priorWeight = 0.1,
    /** Prior means by the photo's shape, outranking the prior's for a clearly portrait or landscape photo. */
    readonly byShape: LinesByShape | null = null,
    /** Prior width factors by the photo's shape (in profiled lines), outranking 1 likewise. */
    readonly widthByShape: ShapeLinesMeans | null = null,
  ) {
    this.x = new Float64Array(capacity * DIMS);
    this.raw = new Float64Array(capacity * 3);
    this.y = new Float64Array(capacity);
    this.wf = new Float64Array(capacity);
  }

  /** Learns the line count of a finished request (and its lines' width factor, when measured). */
  add(width: number, height: number, bytes: number, lines: number, widthFactor = NaN): void {
    if (!(width >= 1 && height >= 1 && bytes > 0 && lines >= 0 && Number.isFinite(lines))) return;
    const k = this.next;
    features(width, height, bytes, this.x, k * DIMS);
    this.raw[k * 3] = width;
    this.raw[k * 3 + 1] = height;
    this.raw[k * 3 + 2] = bytes;
    this.y[k] = lines;
    this.wf[k] = widthFactor > 0 && Number.isFinite(widthFactor) ? widthFactor : NaN;
    this.next = (k + 1) % this.capacity;
    if (this.n < this.capacity) this.n++;
    this.count++;
  }

  private readonly f = new Float64Array(DIMS);
  private readonly kw = new Float64Array(NEAREST);
  private readonly ky = new Float64Array(NEAREST);
  private readonly kf = new Float64Array(NEAREST);

  /**
   * Expected lines (and spread) for an image; `out` is filled and returned (no allocation). `jpeg`: the bytes are a
   * JPEG's, which the shape's law was fitted on; else the law's figure at its centre.
   */
  predict(width: number, height: number, bytes: number, out: LinesEstimate, jpeg = true): LinesEstimate {
    const shape = shapeOf(width, height);
    const law = shape === null || this.byShape === null ? null : this.byShape[shape];
    const priorMean = law === null ? this.prior.mean : linesByBytes(law, jpeg ? bytes : law.atBytes);
    const priorWidth = shape === null || this.widthByShape === null || !(this.widthByShape[shape] > 0) ? 1 : this.widthByShape[shape];
    const priorSd = law !== null && law.relSd > 0 ? law.relSd * priorMean : this.prior.sd;
    const f = this.f;
    features(width, height, bytes, f, 0);
    // The NEAREST largest weights, kept sorted (descending) by insertion.
    const kw = this.kw;
    const ky = this.ky;
    const kf = this.kf;
    let k = 0;
    const x = this.x;
    for (let i = 0; i < this.n; i++) {
      const o = i * DIMS;
      const d0 = (x[o] - f[0]) / WIDTH[0];
      const d1 = (x[o + 1] - f[1]) / WIDTH[1];
      const d2 = (x[o + 2] - f[2]) / WIDTH[2];
      const d = d0 * d0 + d1 * d1 + d2 * d2;
      if (d > CUTOFF) continue;
      const wi = Math.exp(-0.5 * d);
      if (k === NEAREST && wi <= kw[k - 1]) continue;
      let j = k < NEAREST ? k++ : k - 1;
      while (j > 0 && kw[j - 1] < wi) {
        kw[j] = kw[j - 1];
        ky[j] = ky[j - 1];
        kf[j] = kf[j - 1];
        j--;
      }
      kw[j] = wi;
      ky[j] = this.y[i];
      kf[j] = this.wf[i];
    }
    let w = 0;
    let sy = 0;
    let syy = 0;
    let sl = 0;
    let sll = 0;
    for (let j = 0; j < k; j++) {
      const y = ky[j];
      const l = Math.log1p(y);
      w += kw[j];
      sy += kw[j] * y;
      syy += kw[j] * y * y;
      sl += kw[j] * l;
      sll += kw[j] * l * l;
    }
    const w0 = this.priorWeight;
    const W = w0 + w;
    const mean = (w0 * priorMean + sy) / W;
    let nbVar = 0;
    if (w > 0) {
      // Counts among similar images are skewed (most photos hold a few words, some a dozen): their spread is the
      // one that reproduces the 95th percentile of a lognormal fitted to log(1 + lines), if that is wider.
      const nbMean = sy / w;
      const lm = sl / w;
      const lsd = Math.sqrt(Math.max(0, sll / w - lm * lm));
      const plain = Math.max(0, syy / w - nbMean * nbMean);
      const skewed = (Math.expm1(lm + Z95 * lsd) - nbMean) / Z95;
      nbVar = Math.max(plain, skewed > 0 ? skewed * skewed : 0) + (nbMean - mean) ** 2;
    }
    // The blend of the prior and the neighbours, around the blended mean.
    const variance = (w0 * (priorSd * priorSd + (priorMean - mean) ** 2) + w * nbVar) / W;
    out.mean = mean;
    out.sd = Math.sqrt(variance);
    out.evidence = w;
    // Width factor: the neighbours that measured it, blended with the shape's (or the profiled lines') as the same
    // weak prior.
    let fw = 0;
    let sf = 0;
    let sff = 0;
    for (let j = 0; j < k; j++) {
      const v = kf[j];
      if (!(v > 0)) continue;
      fw += kw[j];
      sf += kw[j] * v;
      sff += kw[j] * v * v;
    }
    const fW = w0 + fw;
    const fMean = (w0 * priorWidth + sf) / fW;
    const fVar = (w0 * (WIDTH_PRIOR_SD * WIDTH_PRIOR_SD + (priorWidth - fMean) ** 2) + Math.max(0, sff - 2 * fMean * sf + fMean * fMean * fw)) / fW;
    out.widthFactor = fMean;
    out.widthSd = Math.sqrt(fVar);
    return out;
  }

  predictFor(request: RequestInfo, out: LinesEstimate): LinesEstimate {
    return this.predict(request.width, request.height, request.bytes, out, request.mime === undefined || /jpe?g/i.test(request.mime));
  }

  /** The kept results, oldest first, as plain data. */
  export(): LinesSamples {
    const images: LinesSamples['images'] = [];
    for (let j = 0; j < this.n; j++) {
      const i = this.n < this.capacity ? j : (this.next + j) % this.capacity;
      const f = this.wf[i];
      images.push(
        f > 0
          ? [this.raw[i * 3], this.raw[i * 3 + 1], this.raw[i * 3 + 2], this.y[i], f]
          : [this.raw[i * 3], this.raw[i * 3 + 1], this.raw[i * 3 + 2], this.y[i]],
      );
    }
    return { images };
  }

  import(samples: LinesSamples | undefined): void {
    if (!Array.isArray(samples?.images)) return;
    for (const s of samples.images) if (Array.isArray(s) && (s.length === 4 || s.length === 5)) this.add(s[0], s[1], s[2], s[3], s[4]);
  }
}

function features(width: number, height: number, bytes: number, out: Float64Array, o: number): void {
  const px = width * height;
  out[o] = Math.log(height / width);
  out[o + 1] = Math.log(px);
  out[o + 2] = Math.log((bytes * 8) / px);
}
