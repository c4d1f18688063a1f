/** Model variant sets as a plan dimension, on the measured profiles: what fetching one costs and which one is fetched. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseProfiles } from '../profiles';
import { createEstimatorState, decide, executableProfiles, explainPlan, fetchText, firstDownload, predictAll, setRecall, variantSets } from './index';
import type { DeviceModelState, ModelState } from './observations';
import { buildObservation } from './observation-builder';
import { tandemPolicy } from './policies/tandem';
import { DEFAULT_OPTIONS } from './options';

const raw = parseProfiles(readFileSync(new URL('../../models/profiles.json', import.meta.url), 'utf8'));
const profiles = executableProfiles(raw);
const sets = variantSets(profiles);
const setOf = (variant: string) => sets.find((s) => s.variant === variant)!;

/** Every profiled model absent, but those of `held` in `state`. */
function models(held: Record<string, ModelState> = {}): DeviceModelState[] {
  return profiles.models.map((m) => ({ model: m.id, state: held[m.variant] ?? 'absent' }));
}

/** A phone-speed device, the edge out of reach, a generous budget: only the device can answer. */
const offline = (held: Record<string, ModelState> = {}, budgetMs = 60_000) =>
  buildObservation({ online: false, connection: 'none', device: { backend: 'wasm', threads: 1, models: models(held) }, request: { budgetMs } });

describe('variant sets in the measured profiles', () => {
  it('pairs each detector with its own variant’s recogniser where the two were scored together', () => {
    for (const set of sets) {
      const own = `ppocr-rec@${set.variant}`;
      const scored = profiles.accuracy.some((a) => a.det === set.det && a.rec === own);
      expect(set.rec, set.variant).toBe(scored ? own : profiles.defaults.rec);
    }
    // The set a phone fetches first and the edge's own set are measured as sets.
    for (const variant of ['fp32', 'int8-weights']) expect(setOf(variant).rec).toBe(`ppocr-rec@${variant}`);
    expect(setRecall(profiles, setOf('int8-weights'))).toBeGreaterThan(0.8);
  });

  it('plans every set on the device, each one not held costing its whole download', () => {
    const obs = offline();
    const state = createEstimatorState(profiles);
    const all = predictAll(obs, profiles, state);
    for (const set of sets) {
      const i = all.plans.findIndex((p) => p.kind === 'device' && p.config.variant === set.variant && p.config.maxSide === 960);
      expect(i, set.variant).toBeGreaterThanOrEqual(0);
      const download = explainPlan(obs, profiles, state, i).filter((s) => s.stage === 'model-download');
      expect(download.reduce((sum, s) => sum + s.bytes, 0)).toBe(set.bytes);
      expect(all.transferBytes[i]).toBe(set.bytes);
    }
    // Held models cost no download, only their session start.
    const held = offline({ 'int8-weights': 'cached' });
    const i = all.plans.findIndex((p) => p.kind === 'device' && p.config.variant === 'int8-weights' && p.config.maxSide === 960);
    const stages = explainPlan(held, profiles, state, i);
    expect(stages.some((s) => s.stage === 'model-download')).toBe(false);
    expect(stages.find((s) => s.stage === 'model-load')!.expectedMs).toBeGreaterThan(0);
  });

  it('fetches first the smallest set within a point of fp32’s word recall', () => {
    const fp32 = setRecall(profiles, setOf('fp32'))!;
    const first = firstDownload(profiles, DEFAULT_OPTIONS.variantTolerance)!;
    expect(first.variant).toBe('int8-weights');
    expect(setRecall(profiles, first)!).toBeGreaterThanOrEqual(fp32 - 0.01);
    for (const smaller of sets.filter((s) => s.bytes < first.bytes)) expect(setRecall(profiles, smaller)!).toBeLessThan(fp32 - 0.01);

    // The planner makes the same choice for a device that holds nothing, and says what it downloads.
    const d = decide(offline(), profiles, tandemPolicy(), createEstimatorState(profiles));
    expect(d.plan.kind).toBe('device');
    expect(d.plan.config.variant).toBe(first.variant);
    expect(d.fetch).toMatchObject({ variant: first.variant, bytes: first.bytes });
    expect(fetchText(d.fetch!)).toMatch(/^Downloads the quantized models \(\d+\.\d MB, about \d+ s\) first/);
  });

  it('runs a set the device holds rather than fetching a smaller one, when it fits', () => {
    const d = decide(offline({ fp32: 'warm' }), profiles, tandemPolicy(), createEstimatorState(profiles));
    expect(d.plan.config.variant).toBe('fp32');
    expect(d.fetch).toBeNull();
    // Held and smaller still: no download at all, though fp32 would read a little more.
    const q = decide(offline({ 'int8-weights': 'cached' }), profiles, tandemPolicy(), createEstimatorState(profiles));
    expect(q.plan.config.variant).toBe('int8-weights');
    expect(q.fetch).toBeNull();
  });
});
