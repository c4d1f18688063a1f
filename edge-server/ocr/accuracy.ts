/**
 * Expected accuracy of each configuration the server may run, for collective adaptation: measured end-to-end word
 * recall from profiles.json (`accuracy` entries) when the repository has it, otherwise a fixed ordering that is not a
 * measurement — fp32 > int8-weights > int8 > fp16, and a larger detector side above a smaller one.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Manifest, ManifestModel } from '../../core/models/manifest';
import { parseProfiles, type Profiles } from '../../core/profiles';
import type { OcrConfig } from '../../core/protocol/accept';

export interface AccuracyTable {
  /** Where the figures come from, for logs and status. */
  readonly source: string;
  /** Expected word recall of a whole-image configuration. */
  ocr(config: OcrConfig): number;
  /** Expected accuracy of running `model` in place of its siblings (single model runs), at the default configuration. */
  model(name: string): number;
}

// The compact recogniser has fp32 weights; its 8-bit crops are scored in bench/eval-ocr (--rec ppocr-rec-compact).
const VARIANT_RANK: Record<ManifestModel['variant'], number> = { fp32: 0, compact: 0, 'int8-weights': 1, int8: 2, fp16: 3 };
/** Ordering fallback: each variant step and each halving of the detector side cost this much. */
const VARIANT_STEP = 0.01;
const SIDE_HALVING = 0.05;

/**
 * Reads profiles.json next to the manifest (`MODEL_DIR/profiles.json`), else the tracked copy one level up
 * (`models/profiles.json` beside `models/repository`); null when neither exists. A file that exists but does not
 * parse is an error: the server should not quietly adapt on made-up figures.
 */
export function loadProfiles(modelDir: string): { profiles: Profiles; path: string } | null {
  for (const path of [join(modelDir, 'profiles.json'), join(dirname(modelDir), 'profiles.json')]) {
    if (existsSync(path)) return { profiles: parseProfiles(readFileSync(path, 'utf8')), path };
  }
  return null;
}

export function accuracyTable(manifest: Manifest, defaults: OcrConfig, profiles?: { profiles: Profiles; path: string } | null): AccuracyTable {
  const byName = new Map(manifest.models.map((m) => [m.name, m]));
  const rank = (name: string) => VARIANT_RANK[byName.get(name)?.variant ?? 'fp32'] ?? 0;
  const ordering = (c: OcrConfig) => 1 - VARIANT_STEP * (rank(c.det) + rank(c.rec)) - SIDE_HALVING * Math.log2(defaults.maxSide / c.maxSide);

  const measured = profiles ? measuredRecall(profiles.profiles) : null;
  const ocr = (c: OcrConfig): number => {
    if (!measured) return ordering(c);
    const exact = measured(c.det, c.maxSide, c.rec);
    if (exact !== null) return exact;
    // Not measured together: the detector's effect at the default recogniser plus the recogniser's effect at the
    // default detector; a part never measured falls back to the ordering step relative to the measured default.
    const base = measured(defaults.det, defaults.maxSide, defaults.rec);
    if (base === null) return ordering(c);
    const detPart =
      measured(c.det, c.maxSide, defaults.rec) ??
      (measured(defaults.det, c.maxSide, defaults.rec) ?? base - SIDE_HALVING * Math.log2(defaults.maxSide / c.maxSide)) - VARIANT_STEP * rank(c.det);
    const recPart = (measured(defaults.det, defaults.maxSide, c.rec) ?? base - VARIANT_STEP * rank(c.rec)) - base;
    return detPart + recPart;
  };

  return {
    source: profiles ? `${profiles.profiles.source.kind} profiles (${profiles.path})` : 'variant ordering (no profiles.json)',
    ocr,
    model(name) {
      const m = byName.get(name);
      if (m?.task === 'text-detection') return ocr({ ...defaults, det: name });
      if (m?.task === 'text-recognition') return ocr({ ...defaults, rec: name });
      return 1 - VARIANT_STEP * rank(name);
    },
  };
}

/**
 * Word recall by (detector, side, recogniser) manifest names from profiles.json; sides between measured ones are
 * interpolated linearly, sides beyond them take the nearest measured side.
 */
function measuredRecall(profiles: Profiles): (det: string, maxSide: number, rec: string) => number | null {
  const nameOf = new Map(profiles.models.map((m) => [m.id, m.name]));
  const curves = new Map<string, Array<{ side: number; recall: number }>>();
  for (const a of profiles.accuracy) {
    const key = `${nameOf.get(a.det) ?? a.det}|${nameOf.get(a.rec) ?? a.rec}`;
    if (!curves.has(key)) curves.set(key, []);
    curves.get(key)!.push({ side: a.maxSide, recall: a.wordRecall });
  }
  for (const c of curves.values()) c.sort((x, y) => x.side - y.side);
  return (det, maxSide, rec) => {
    const curve = curves.get(`${det}|${rec}`);
    if (!curve) return null;
    if (maxSide <= curve[0].side) return curve[0].recall;
    for (let i = 1; i < curve.length; i++) {
      const [lo, hi] = [curve[i - 1], curve[i]];
      if (maxSide <= hi.side) return lo.recall + ((hi.recall - lo.recall) * (maxSide - lo.side)) / (hi.side - lo.side);
    }
    return curve[curve.length - 1].recall;
  };
}
