/**
 * Model variant sets: the detector, recogniser and classifier of one variant (fp32, int8 weights, fp16, static
 * int8), which a device downloads and runs together. Which sets a device holds, and which it would fetch, is a
 * dimension of its plans; this file says what each set is and which one a device fetches first.
 */
import type { Profiles } from '../profiles';

export interface VariantSet {
  variant: string;
  det: string;
  rec: string;
  /** The set's classifier: downloaded with it even while the classifier is off. */
  cls: string | null;
  /** Bytes a device downloads for the whole set. */
  bytes: number;
}

/** Variant of a profiled model id ("" when the profiles do not list it). */
export function variantOf(profiles: Profiles, model: string): string {
  return profiles.models.find((m) => m.id === model)?.variant ?? '';
}

/**
 * The recogniser a detector of `variant` is planned with: the variant's own when an accuracy row scores the two
 * together (the set a device runs), else the profiles' default one stands in.
 */
export function recogniserFor(profiles: Profiles, variant: string): string {
  const own = profiles.models.find((m) => m.role === 'rec' && m.variant === variant)?.id;
  if (own !== undefined && profiles.accuracy.some((a) => a.rec === own && variantOf(profiles, a.det) === variant)) return own;
  return profiles.defaults.rec;
}

/** Every variant with a profiled detector, its set and download size, smallest download first. */
export function variantSets(profiles: Profiles): VariantSet[] {
  const sets: VariantSet[] = [];
  for (const det of profiles.models.filter((m) => m.role === 'det')) {
    if (sets.some((s) => s.variant === det.variant)) continue;
    const rec = recogniserFor(profiles, det.variant);
    const cls = profiles.models.find((m) => m.role === 'cls' && m.variant === det.variant)?.id ?? null;
    const bytes = [det.id, rec, cls].reduce((sum, id) => sum + (profiles.models.find((m) => m.id === id)?.weightBytes ?? 0), 0);
    sets.push({ variant: det.variant, det: det.id, rec, cls, bytes });
  }
  return sets.sort((a, b) => a.bytes - b.bytes);
}

/** Word recall of a set at a detector side (default: the profiles' default side), from its accuracy row. */
export function setRecall(profiles: Profiles, set: VariantSet, maxSide = profiles.defaults.maxSide): number | undefined {
  return profiles.accuracy.find((a) => a.det === set.det && a.rec === set.rec && a.maxSide === maxSide)?.wordRecall;
}

/**
 * What a device fetches first absent any other signal: the smallest set whose word recall at the default side is
 * within `tolerance` of the default (fp32) set's. The planner makes the same choice (sets within the tolerance tie,
 * and the smaller download is the cheaper); this names it before any request, e.g. for a "download" button.
 */
export function firstDownload(profiles: Profiles, tolerance: number): VariantSet | undefined {
  const sets = variantSets(profiles);
  const reference = sets.find((s) => s.det === profiles.defaults.det);
  const best = reference ? setRecall(profiles, reference) : undefined;
  if (best === undefined) return reference ?? sets[0];
  return sets.find((s) => (setRecall(profiles, s) ?? -Infinity) >= best - tolerance - 1e-12) ?? reference;
}
