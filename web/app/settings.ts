import type { LoadOptions } from '../worker/api';
import type { Mode } from '../placement/page-planner';
import { isDeviceVariant } from '../worker/model-choice';

const MODE_KEY = 'tandem.mode';
const AUTO_KEY = 'tandem.auto';

export const DEFAULT_BUDGET_MS = 2000;

/** Auto mode's settings as the user left them. */
export interface AutoSettings {
  budgetMs?: number;
  saveData?: boolean;
  offloadOnCellular?: boolean;
}

export function savedAutoSettings(): AutoSettings {
  try {
    const saved = JSON.parse(localStorage.getItem(AUTO_KEY) ?? '{}') as Record<string, unknown>;
    const out: AutoSettings = {};
    if (typeof saved.budgetMs === 'number' && saved.budgetMs >= 100) out.budgetMs = saved.budgetMs;
    if (typeof saved.saveData === 'boolean') out.saveData = saved.saveData;
    if (typeof saved.offloadOnCellular === 'boolean') out.offloadOnCellular = saved.offloadOnCellular;
    return out;
  } catch {
    // Unreadable settings: the page's defaults stay.
    return {};
  }
}

export function saveAutoSettings(settings: AutoSettings): void {
  localStorage.setItem(AUTO_KEY, JSON.stringify(settings));
}
const MODES: Mode[] = ['auto', 'device', 'edge'];

export function savedMode(): Mode {
  const stored = localStorage.getItem(MODE_KEY) as Mode | null;
  return stored && MODES.includes(stored) ? stored : 'auto';
}

export function saveMode(mode: Mode): void {
  localStorage.setItem(MODE_KEY, mode);
}

/** Device runtime overrides from the address, plus `split` (share of the line crops read on the edge). */
export type UrlOptions = LoadOptions & { recEdgeShare?: number };

/**
 * Overrides from the address (`?backend=wasm&threads=1&variant=fp32&split=0.5`), for comparing runtimes and
 * placements on one phone.
 */
export function loadOptionsFromUrl(search: string): UrlOptions {
  const params = new URLSearchParams(search);
  const options: UrlOptions = {};
  const split = params.get('split');
  if (split !== null && ['0', '0.5', '1'].includes(split)) options.recEdgeShare = Number(split);
  const backend = params.get('backend');
  if (backend === 'auto' || backend === 'wasm' || backend === 'webgpu') options.backend = backend;
  const variant = params.get('variant');
  if (isDeviceVariant(variant)) options.variant = variant;
  const threads = Number(params.get('threads'));
  if (Number.isInteger(threads) && threads >= 1 && threads <= 16) options.threads = threads;
  return options;
}

/** Policies auto mode can use over the page's plans: Tandem's own and the baselines that place whole requests. */
export const AUTO_POLICIES = ['tandem', 'layercake', 'pieslicer'] as const;
export type AutoPolicy = (typeof AUTO_POLICIES)[number];

/** How requests are decided and learnt from, set in the address for comparisons. */
export interface RunSettings {
  /** `?policy=`: the policy auto mode uses (default tandem). */
  policy: AutoPolicy;
  /** `?learned=0`: start without what earlier visits learnt and keep nothing, so every session starts alike. */
  learned: boolean;
  /** `?budget=MS`: the budget field's value, over the one saved. */
  budgetMs?: number;
  /** `?mode=device|edge|auto`: where requests run, over the one saved (for comparisons and tests). */
  mode?: Mode;
}

export function runSettingsFromUrl(search: string): RunSettings {
  const params = new URLSearchParams(search);
  const policy = params.get('policy');
  const settings: RunSettings = {
    policy: AUTO_POLICIES.find((p) => p === policy) ?? 'tandem',
    learned: !['0', 'false', 'off', 'no'].includes(params.get('learned') ?? ''),
  };
  const mode = params.get('mode');
  if (MODES.includes(mode as Mode)) settings.mode = mode as Mode;
  const budget = params.get('budget');
  // The budget field's own range.
  if (budget !== null && budget.trim() !== '' && Number(budget) >= 100 && Number(budget) <= 60_000) settings.budgetMs = Number(budget);
  return settings;
}
