/** Command-line numbers of the placement benches, checked with the option's name in the error. */
import { simError } from './traces';

export function numberArg(v: string | undefined, name: string, fallback: number, min: number, max = Infinity, code = 'SimBadArgument'): number {
  if (v === undefined) return fallback;
  const x = Number(v);
  if (!Number.isFinite(x) || x < min || x > max) throw simError(code, `${name} must be a number in [${min}, ${max}], got "${v}"`);
  return x;
}
