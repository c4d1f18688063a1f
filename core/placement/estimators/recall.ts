/**
 * Word recall of each detector configuration on this photo, predicted before running it. The profiles give one
 * figure per configuration, a mean over their photo set; what a smaller detector side loses depends on the photo:
 * text that is small in the detector's input vanishes. Two things known before running say the text is small:
 * many lines expected (a receipt of forty lines read at 320 px has lines a few pixels high) and a photo much
 * larger than the side (small scene text in a large photo). Either multiplies the configuration's set-wide loss
 * against the best configuration. Not calibrated on recorded per-photo recall yet: the factors are capped.
 */
import type { PlanSpace } from '../plan-space';

/** Line counts above the profile set's mean scale the loss by their ratio, up to this. */
const MAX_AMPLIFY = 4;
/** A side this many times below the photo's longest side still loses no more than the set-wide mean. */
const SCALE_FREE = 1.5;
const MIN_RECALL = 0.02;

/**
 * Fills `out[c]` with configuration c's expected word recall for a photo of `longest` pixels on its longest side
 * expected to hold `lines` lines (`setLines`: the profile set's mean).
 */
export function recallForPhoto(space: PlanSpace, longest: number, lines: number, setLines: number, out: Float64Array): Float64Array {
  const configs = space.configs;
  let best = 0;
  for (let c = 0; c < configs.length; c++) if (configs[c].accuracy > best) best = configs[c].accuracy;
  const dense = setLines > 0 && lines > setLines ? lines / setLines : 1;
  for (let c = 0; c < configs.length; c++) {
    const base = configs[c].accuracy;
    const side = configs[c].maxSide;
    if (!(side < longest) || base >= best) {
      out[c] = base;
      continue;
    }
    const scale = longest / side / SCALE_FREE;
    let amplify = dense > scale ? dense : scale;
    if (amplify < 1) amplify = 1;
    if (amplify > MAX_AMPLIFY) amplify = MAX_AMPLIFY;
    const r = best - (best - base) * amplify;
    out[c] = r > MIN_RECALL ? r : MIN_RECALL;
  }
  return out;
}
