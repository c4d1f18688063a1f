/** Greedy CTC decoding of the recogniser's per-timestep class probabilities. */

export interface DecodedText {
  text: string;
  /** Mean of the kept characters' probabilities; 0 when nothing was read. */
  score: number;
}

/**
 * `probs` holds T × C probabilities for one line (row-major); `charset[k]` is the text of class k, class 0 is
 * the CTC blank. Takes the arg-max per step, merges repeats, drops blanks.
 */
export function ctcGreedyDecode(probs: Float32Array, steps: number, classes: number, charset: readonly string[], offset = 0): DecodedText {
  let text = '';
  let sum = 0;
  let kept = 0;
  let prev = -1;
  for (let t = 0; t < steps; t++) {
    const base = offset + t * classes;
    let best = 0;
    let bestP = probs[base];
    for (let c = 1; c < classes; c++) {
      const p = probs[base + c];
      if (p > bestP) {
        bestP = p;
        best = c;
      }
    }
    if (best !== 0 && best !== prev) {
      text += charset[best] ?? '';
      sum += bestP;
      kept++;
    }
    prev = best;
  }
  return { text, score: kept ? sum / kept : 0 };
}
