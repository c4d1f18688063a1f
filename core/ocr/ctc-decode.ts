/** Greedy CTC decoding of the recogniser's per-timestep class probabilities. */

export interface DecodedText {
  text: string;
  /** Mean of the kept characters' probabilities; 0 when nothing was read. */
  score: number;
}

/** What greedy decoding needs from each timestep: the winning class, its probability, and the space class's probability. */
export interface CtcSteps {
  best: Int32Array;
  bestP: Float32Array;
  spaceP: Float32Array;
}

export interface CtcOptions {
  /** Class index of the space character (-1: none). */
  spaceIndex: number;
  /**
   * Word-gap recovery: between two characters, when the blank steps separating them gave the space class at
   * least this probability, a space is written even though blank won. The Chinese-trained recogniser often
   * lets blank beat space in tight Latin word gaps. 1 or more disables it (plain greedy decoding).
   */
  spaceThresh: number;
}

export const PLAIN_CTC: CtcOptions = { spaceIndex: -1, spaceThresh: 1 };

/** Per-step arg-max over `steps` rows of `classes` probabilities starting at `offset`. */
export function ctcSteps(probs: Float32Array, steps: number, classes: number, spaceIndex = -1, offset = 0): CtcSteps {
  const best = new Int32Array(steps);
  const bestP = new Float32Array(steps);
  const spaceP = new Float32Array(steps);
  for (let t = 0; t < steps; t++) {
    const base = offset + t * classes;
    let b = 0;
    let bp = probs[base];
    for (let c = 1; c < classes; c++) {
      const p = probs[base + c];
      if (p > bp) {
        bp = p;
        b = c;
      }
    }
    best[t] = b;
    bestP[t] = bp;
    spaceP[t] = spaceIndex >= 0 ? probs[base + spaceIndex] : 0;
  }
  return { best, bestP, spaceP };
}

/** Merges repeats, drops blanks (class 0), optionally restores word gaps; score averages the kept classes' probabilities. */
export function collapseSteps(s: CtcSteps, charset: readonly string[], opts: CtcOptions = PLAIN_CTC): DecodedText {
  let text = '';
  let sum = 0;
  let kept = 0;
  let prev = -1;
  let gap = 0;
  let lastWasSpace = true;
  for (let t = 0; t < s.best.length; t++) {
    const b = s.best[t];
    if (b === 0) {
      if (s.spaceP[t] > gap) gap = s.spaceP[t];
    } else if (b !== prev) {
      const isSpace = b === opts.spaceIndex;
      if (!isSpace && !lastWasSpace && gap >= opts.spaceThresh) text += ' ';
      text += charset[b] ?? '';
      sum += s.bestP[t];
      kept++;
      lastWasSpace = isSpace;
      gap = 0;
    }
    prev = b;
  }
  return { text, score: kept ? sum / kept : 0 };
}

/**
 * `probs` holds T × C probabilities for one line (row-major) at `offset`; `charset[k]` is the text of class k,
 * class 0 is the CTC blank.
 */
export function ctcGreedyDecode(
  probs: Float32Array,
  steps: number,
  classes: number,
  charset: readonly string[],
  offset = 0,
  opts: CtcOptions = PLAIN_CTC,
): DecodedText {
  return collapseSteps(ctcSteps(probs, steps, classes, opts.spaceIndex, offset), charset, opts);
}

/** Values per timestep in packed steps: the winning class, its probability, the space class's probability. */
export const PACKED_STEP_VALUES = 3;

/**
 * Packs the steps of `lines` lines of T × C probabilities into lines × T × 3 floats (class indices are exact in
 * float32 below 2^24): what greedy decoding needs, about 2,000 times smaller than the probabilities, for crossing a
 * thread or the network.
 */
export function packCtcSteps(probs: Float32Array, lines: number, steps: number, classes: number, spaceIndex: number): Float32Array {
  const out = new Float32Array(lines * steps * PACKED_STEP_VALUES);
  for (let l = 0; l < lines; l++) {
    const s = ctcSteps(probs, steps, classes, spaceIndex, l * steps * classes);
    for (let t = 0; t < steps; t++) {
      const at = (l * steps + t) * PACKED_STEP_VALUES;
      out[at] = s.best[t];
      out[at + 1] = s.bestP[t];
      out[at + 2] = s.spaceP[t];
    }
  }
  return out;
}

/** One line's steps from packed steps starting at `offset` (in floats). */
export function unpackCtcSteps(packed: Float32Array, steps: number, offset = 0): CtcSteps {
  const best = new Int32Array(steps);
  const bestP = new Float32Array(steps);
  const spaceP = new Float32Array(steps);
  for (let t = 0; t < steps; t++) {
    const at = offset + t * PACKED_STEP_VALUES;
    best[t] = packed[at];
    bestP[t] = packed[at + 1];
    spaceP[t] = packed[at + 2];
  }
  return { best, bestP, spaceP };
}
