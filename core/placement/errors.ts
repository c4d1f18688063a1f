/** Error codes of the placement engine; the code travels in `error.name` so it survives structured cloning. */
export type PlacementErrorCode = 'PlacementBadObservation' | 'PlacementProfilesMismatch' | 'PlacementNoPlan';

export function placementError(code: PlacementErrorCode, message: string): Error {
  const err = new Error(message);
  err.name = code;
  return err;
}
