/**
 * Tandem's own policy: the whole plan space (model × input side × preprocessing place × detection place × line
 * sharing × race), most accurate plan whose p95 fits, ties by cost; when none fits, the one most likely to meet the
 * budget. After detection on the device, where the crops go is decided again with the line count known; after a read
 * that found far fewer lines than expected, a larger side is read if there is time.
 */
import { mostAccurateWithinBudget, type Policy } from './policy';

export function tandemPolicy(): Policy {
  return {
    name: 'tandem',
    allows: () => true,
    choose: (view) => mostAccurateWithinBudget(view, { whenNothingFits: 'most-likely' }),
    redecidesRecognition: true,
    looksAgainWhenShort: true,
  };
}
