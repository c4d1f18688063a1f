/** Why a plan was chosen, and what ruled other plans out: fixed codes for logs and tests, with words for the UI. */

export type ReasonCode =
  | 'most-accurate-within-budget'
  | 'cheaper-at-similar-accuracy'
  | 'nothing-fits-fastest'
  | 'nothing-fits-most-likely'
  | 'nothing-fits-least-late'
  | 'only-low-recall-in-time'
  | 'likely-in-time-reads-more'
  | 'second-look-far-fewer-lines'
  | 'no-eligible-plan-device-fallback'
  | 'layercake-no-local-fits-fastest-local'
  | 'layercake-most-accurate-feasible'
  | 'layercake-none-feasible-fastest-local'
  | 'pieslicer-preprocess-on-device'
  | 'pieslicer-upload-original'
  | 'pieslicer-short-circuit';

export type ConstraintCode = 'offline' | 'edge-refused' | 'edge-not-ready' | 'save-data' | 'no-cellular-offload';

export const REASON_TEXT: Record<ReasonCode, string> = {
  'most-accurate-within-budget': 'Most accurate plan predicted to finish within the budget (p95).',
  'cheaper-at-similar-accuracy':
    'Within the accepted accuracy margin of the best plan that fits, and cheaper (edge time, model downloads, data or device time).',
  'nothing-fits-fastest': 'No plan is predicted to meet the budget; running the fastest one.',
  'nothing-fits-most-likely': 'No plan is predicted to meet the budget (p95); running the one expected to read the most of this photo within it.',
  'nothing-fits-least-late':
    'No plan can finish within the budget; running the one that reads the most of this photo while arriving not much later than the fastest.',
  'only-low-recall-in-time': 'Only plans that read far less of this photo can finish in time; the plans that read it well are predicted late.',
  'likely-in-time-reads-more':
    'The plans sure to finish in time read far less of this photo; running one that reads it well and is likely, though not sure, to finish in time.',
  'second-look-far-fewer-lines':
    'The first read found far fewer lines than this photo was expected to hold; looking again at a larger size while there is time, keeping the first answer if the second is late.',
  'no-eligible-plan-device-fallback': 'This mode cannot run here now; running on the device instead.',
  'layercake-no-local-fits-fastest-local': 'LayerCake: no on-device model fits the budget, so the fastest on-device model.',
  'layercake-most-accurate-feasible': 'LayerCake: most accurate model and location within 0.8 × budget (p90 latencies).',
  'layercake-none-feasible-fastest-local': 'LayerCake: nothing feasible within 0.8 × budget, so the fastest on-device model.',
  'pieslicer-preprocess-on-device': 'PieSlicer: resizing on the device and uploading less is predicted faster.',
  'pieslicer-upload-original': 'PieSlicer: uploading the original and resizing on the edge is predicted faster.',
  'pieslicer-short-circuit': 'PieSlicer: the image is already small; uploading it as it is.',
};

/** Model variant sets in plain words. */
export const VARIANT_WORDS: Record<string, string> = {
  'int8-weights': 'quantized',
  int8: 'quantized (static int8)',
  fp16: 'half-precision',
  fp32: 'full-precision',
};

/** E.g. "Downloads the quantized models (4.4 MB, about 4 s) first, then keeps them on this phone." */
export function fetchText(fetch: { variant: string; bytes: number; ms: number }): string {
  const mb = (fetch.bytes / 1e6).toFixed(1);
  const s = fetch.ms < 1000 ? 'under a second' : `about ${Math.round(fetch.ms / 1000)} s`;
  return `Downloads the ${VARIANT_WORDS[fetch.variant] ?? fetch.variant} models (${mb} MB, ${s}) first, then keeps them on this device.`;
}

export const CONSTRAINT_TEXT: Record<ConstraintCode, string> = {
  offline: 'Offline: the edge is out of reach.',
  'edge-refused': 'The edge refused a request recently; leaving it alone for a while.',
  'edge-not-ready': 'The edge has not loaded the models.',
  'save-data': 'Save-Data: the original-size image is never uploaded.',
  'no-cellular-offload': 'On a cellular connection and offloading over cellular is off.',
};
