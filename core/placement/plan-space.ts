/**
 * Every way one OCR request can run, enumerated once per profiles: detector configuration (model variant set × input
 * side; a device plan of a set the device does not hold downloads it first, see StageTable.coldStart),
 * where the image is prepared (resized and re-encoded on the device, or uploaded as it is), where detection runs
 * (device, edge, or split at a profiled cut), how the line crops are shared between device and edge, and whether an
 * edge request is raced by a late device run. Plans are immutable and shared by all decisions.
 */
import type { DetSplitProfile, Profiles, ReencodeProfile } from '../profiles';
import type { PlannerOptions } from './options';
import { recogniserFor, variantOf } from './variant-sets';

export type PlanKind = 'device' | 'edge' | 'split-det' | 'split-rec';

export const KIND_DEVICE = 0;
export const KIND_EDGE = 1;
export const KIND_SPLIT_DET = 2;
export const KIND_SPLIT_REC = 3;
const KIND_NAMES: PlanKind[] = ['device', 'edge', 'split-det', 'split-rec'];

export type Upload = { kind: 'original' } | { kind: 'reencode'; maxSide: number; quality: number };

export interface DetConfig {
  index: number;
  /** Profiled detector model id. */
  det: string;
  maxSide: number;
  /** Profiled recogniser model id. */
  rec: string;
  /** Variant set the device runs the configuration with (its detector's variant). */
  variant: string;
  /** The set's classifier, downloaded with the set (null when none is profiled). */
  setCls: string | null;
  /** Word recall of the configuration at the original resolution. */
  accuracy: number;
}

export interface Plan {
  /** Stable, readable id, e.g. "edge:ppocr-det@fp32/960:jpeg1280q80+race". */
  id: string;
  index: number;
  kind: PlanKind;
  config: DetConfig;
  cls: string | null;
  /** What is sent to the edge when the whole image goes there; null when it does not. */
  upload: Upload | null;
  detectOn: 'device' | 'edge' | 'split';
  split: DetSplitProfile | null;
  /** Share of the line crops recognised on the edge (0 = all on the device). */
  recEdgeShare: number;
  /** Start a device run when the edge reply would come too late (and on failure). */
  race: boolean;
  usesEdge: boolean;
}

export class PlanSpace {
  readonly configs: DetConfig[];
  readonly plans: Plan[];
  readonly reencodes: ReencodeProfile[];
  readonly splits: DetSplitProfile[];
  /** Hot-loop copies of the plan fields. */
  readonly kind: Uint8Array;
  readonly config: Uint16Array;
  /** Re-encode index, -1 for the original. */
  readonly reencode: Int16Array;
  readonly split: Int16Array;
  readonly share: Float64Array;
  readonly race: Uint8Array;
  readonly usesEdge: Uint8Array;
  /** 1 where the plan uploads the original image (what Save-Data rules out). */
  readonly uploadsOriginal: Uint8Array;
  /** Index of each configuration's device-only plan (-1 when it cannot run on the device). */
  readonly devicePlanOf: Int32Array;
  /** Recognisers the device runs, one per variant set; `configRec` indexes them per configuration. */
  readonly deviceRecs: string[];
  readonly configRec: Uint16Array;

  constructor(
    readonly profiles: Profiles,
    options: PlannerOptions,
  ) {
    const canRun = (location: 'device' | 'edge', model: string) =>
      profiles.runtimes.some((r) => r.location === location && r.stages.some((s) => (s.stage === 'det' || s.stage === 'rec' ? s.model === model : false)));
    // One configuration per variant set and side: a detector with its own variant's recogniser where the two were
    // scored together (what a device downloads and runs as a set), else with the default recogniser.
    const recOf = new Map<string, string>();
    const clsOf = (variant: string) => profiles.models.find((m) => m.role === 'cls' && m.variant === variant)?.id ?? null;
    this.configs = profiles.accuracy
      .filter((a) => {
        const v = variantOf(profiles, a.det);
        if (!recOf.has(v)) recOf.set(v, recogniserFor(profiles, v));
        return a.rec === recOf.get(v);
      })
      .map((a, index) => {
        const variant = variantOf(profiles, a.det);
        return { index, det: a.det, maxSide: a.maxSide, rec: a.rec, variant, setCls: clsOf(variant), accuracy: a.wordRecall };
      });
    this.deviceRecs = [...new Set(this.configs.map((c) => c.rec))];
    this.configRec = Uint16Array.from(this.configs, (c) => this.deviceRecs.indexOf(c.rec));
    this.reencodes = [...profiles.reencode].sort((a, b) => a.maxSide - b.maxSide || a.quality - b.quality);
    this.splits = profiles.splits;
    const cls = profiles.defaults.cls;
    const plans: Plan[] = [];
    const add = (p: Omit<Plan, 'index' | 'id' | 'usesEdge' | 'cls'>) => {
      const plan: Plan = { ...p, cls, index: plans.length, id: planId(p), usesEdge: p.kind !== 'device' };
      plans.push(Object.freeze(plan));
    };
    const runsOnDevice = (c: DetConfig) => canRun('device', c.det) && canRun('device', c.rec);
    // A race's device run is the request's fallback device plan, of whichever set: any one will do.
    const deviceRuns = this.configs.some(runsOnDevice);
    for (const c of this.configs) {
      const onDevice = runsOnDevice(c);
      // Crops sent to the edge are read by its own (the default) recogniser, whatever set the device runs.
      const recOnEdge = canRun('edge', profiles.defaults.rec);
      const detOnEdge = canRun('edge', c.det);
      const wholeOnEdge = detOnEdge && canRun('edge', c.rec);
      const base = { config: c, split: null, upload: null, race: false };
      if (onDevice) {
        add({ ...base, kind: 'device', detectOn: 'device', recEdgeShare: 0 });
        if (recOnEdge) for (const share of options.recEdgeShares) add({ ...base, kind: 'split-rec', detectOn: 'device', recEdgeShare: share });
        if (detOnEdge)
          for (const s of this.splits.filter((x) => x.det === c.det)) add({ ...base, kind: 'split-det', detectOn: 'split', split: s, recEdgeShare: 0 });
      }
      if (wholeOnEdge) {
        const uploads: Upload[] = [{ kind: 'original' }];
        for (const r of this.reencodes) if (r.maxSide >= c.maxSide) uploads.push({ kind: 'reencode', maxSide: r.maxSide, quality: r.quality });
        for (const upload of uploads) {
          add({ ...base, kind: 'edge', detectOn: 'edge', upload, recEdgeShare: 1 });
          if (options.race && deviceRuns) add({ ...base, kind: 'edge', detectOn: 'edge', upload, recEdgeShare: 1, race: true });
        }
      }
    }
    this.plans = plans;
    const n = plans.length;
    this.kind = new Uint8Array(n);
    this.config = new Uint16Array(n);
    this.reencode = new Int16Array(n);
    this.split = new Int16Array(n);
    this.share = new Float64Array(n);
    this.race = new Uint8Array(n);
    this.usesEdge = new Uint8Array(n);
    this.uploadsOriginal = new Uint8Array(n);
    this.devicePlanOf = new Int32Array(this.configs.length).fill(-1);
    plans.forEach((p, i) => {
      this.kind[i] = KIND_NAMES.indexOf(p.kind);
      this.config[i] = p.config.index;
      const up = p.upload;
      this.reencode[i] = up?.kind === 'reencode' ? this.reencodes.findIndex((r) => r.maxSide === up.maxSide && r.quality === up.quality) : -1;
      this.split[i] = p.split ? this.splits.indexOf(p.split) : -1;
      this.share[i] = p.recEdgeShare;
      this.race[i] = p.race ? 1 : 0;
      this.usesEdge[i] = p.usesEdge ? 1 : 0;
      this.uploadsOriginal[i] = p.upload?.kind === 'original' ? 1 : 0;
      if (p.kind === 'device') this.devicePlanOf[p.config.index] = i;
    });
  }

  byId(id: string): Plan | undefined {
    return this.plans.find((p) => p.id === id);
  }
}

const shared = new WeakMap<Profiles, Map<string, PlanSpace>>();

/** The plan space of these profiles and options, built once and shared (plans are immutable). */
export function planSpaceFor(profiles: Profiles, options: PlannerOptions): PlanSpace {
  let byOptions = shared.get(profiles);
  if (byOptions === undefined) shared.set(profiles, (byOptions = new Map()));
  const key = `${options.race ? 1 : 0}|${options.recEdgeShares.join(',')}`;
  let space = byOptions.get(key);
  if (space === undefined) byOptions.set(key, (space = new PlanSpace(profiles, options)));
  return space;
}

function planId(p: Omit<Plan, 'index' | 'id' | 'usesEdge' | 'cls'>): string {
  const cfg = `${p.config.det}/${p.config.maxSide}`;
  switch (p.kind) {
    case 'device':
      return `device:${cfg}`;
    case 'split-rec':
      return `split-rec:${cfg}:edge${Math.round(p.recEdgeShare * 100)}%`;
    case 'split-det':
      return `split-det:${cfg}:${p.split!.id}`;
    case 'edge': {
      const up = p.upload!.kind === 'original' ? 'original' : `jpeg${p.upload!.maxSide}q${Math.round(p.upload!.quality * 100)}`;
      return `edge:${cfg}:${up}${p.race ? '+race' : ''}`;
    }
  }
}
