/**
 * Accepted configurations on whole-image OCR. The detector side changes the detector's input, so it is chosen when
 * the request is admitted (after decoding, when the image size is known): the most accurate accepted side whose
 * measured execution fits the budget behind the predicted wait. Detector and recogniser variants take the same
 * tensors, so they are left to the deadline queue, which picks them per model run across everything queued.
 */
import type { RunOptions } from '../../core/ocr';
import type { OcrAccept, OcrConfig } from '../../core/protocol/accept';
import { acceptedOcrConfigs, defaultOcrConfig, repositoryAccuracy } from './accept';
import type { AppDeps } from '../app';
import { DeadlineError, ServerError } from '../http/errors';
import type { OcrModelChoice } from './service';
import { admit, retryAfterSeconds } from '../scheduler/edf';

export interface OcrPlan {
  options: RunOptions;
  /** Accepted detectors and recognisers for the queue to choose from (most accurate first); empty = the defaults. */
  models: OcrModelChoice;
  /** The detector side that will run. */
  maxSide: number;
}

/**
 * Picks the detector side and the model choices for one request; throws DeadlineError when no accepted side can
 * finish within the budget (the prediction of the fastest one), like the admission check without alternatives.
 */
export function planOcr(
  deps: Pick<AppDeps, 'repo' | 'ocr' | 'pool'>,
  width: number,
  height: number,
  options: RunOptions,
  accept: OcrAccept | null,
  deadline: number | undefined,
): OcrPlan {
  const defaults = defaultOcrConfig(deps.ocr.config);
  const own: OcrConfig = { ...defaults, maxSide: options.maxSide ?? defaults.maxSide };
  if (accept?.maxSide && options.maxSide !== undefined && !accept.maxSide.includes(options.maxSide)) {
    throw new ServerError('InvalidQuery', `maxSide=${options.maxSide} is not among the accepted sides (${accept.maxSide.join(', ')})`);
  }
  const configs = acceptedOcrConfigs(deps.repo, defaults, accept ?? {}, own);
  const accuracy = repositoryAccuracy(deps.repo, defaults);

  // Sides by the best accuracy reachable at each, larger first on ties.
  const sides = [...new Set(configs.map((c) => c.maxSide))]
    .map((side) => ({ side, accuracy: Math.max(...configs.filter((c) => c.maxSide === side).map((c) => accuracy.ocr(c))) }))
    .sort((a, b) => b.accuracy - a.accuracy || b.side - a.side);
  // The request's own side keeps its own options (and so its own measured estimates).
  const optionsFor = (side: number): RunOptions => (side === own.maxSide ? options : { ...options, maxSide: side });

  let chosen = sides[0].side;
  if (deadline !== undefined) {
    const now = performance.now();
    const wait = Math.max(deps.pool.predictedWaitFor(deadline, now), deps.ocr.predictedWait(deadline, now));
    let fastest: { predictedMs: number; budgetMs: number } | null = null;
    let fits: number | null = null;
    for (const { side } of sides) {
      const verdict = admit(now, deadline, wait, deps.ocr.estimate(width, height, optionsFor(side)));
      if (verdict.ok) {
        fits = side;
        break;
      }
      if (!fastest || verdict.predictedMs < fastest.predictedMs) fastest = verdict;
    }
    if (fits === null) throw new DeadlineError(fastest!.predictedMs, fastest!.budgetMs, retryAfterSeconds(deps.pool.predictedWaitMs(now)));
    chosen = fits;
  }

  const models: OcrModelChoice = {};
  for (const role of ['det', 'rec'] as const) {
    const names = [...new Set(configs.filter((c) => c.maxSide === chosen).map((c) => c[role]))];
    if (names.length === 1 && names[0] === defaults[role]) continue;
    models[role] = names
      .map((model) => ({ model, accuracy: accuracy.ocr({ ...defaults, maxSide: chosen, [role]: model }) }))
      .sort((a, b) => b.accuracy - a.accuracy);
  }
  return { options: optionsFor(chosen), models, maxSide: chosen };
}
