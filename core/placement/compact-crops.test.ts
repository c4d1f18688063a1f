import { describe, expect, it } from 'vitest';
import { createEstimatorState, decide, decideRecognition, explainPlan, tandemPolicy } from './index';
import { EXAMPLE_PROFILES } from './example-profiles';
import { buildObservation, linkSamples } from './observation-builder';
import type { Profiles } from '../profiles';

const NOW = 60_000;
const PLAN = 'split-rec:ppocr-det@fp32/960:edge50%';
/** The example's 320-pixel lines as 8-bit YCbCr 4:2:0 (core/ocr/compact-crops): 1.5 bytes per pixel at height 48. */
const COMPACT: Profiles = { ...EXAMPLE_PROFILES, transfer: { ...EXAMPLE_PROFILES.transfer, compactCropBytesPerLine: 48 * 320 * 1.5 } };

function upload(profiles: Profiles, upKbps: number) {
  const state = createEstimatorState(profiles);
  const obs = buildObservation({
    nowMs: NOW,
    request: { budgetMs: 1500, detected: { lines: 40 } },
    ...linkSamples({ atMs: NOW, rttMs: 30, upKbps, downKbps: upKbps }),
  });
  const stages = explainPlan(obs, profiles, state, PLAN);
  const up = stages.filter((s) => s.stage === 'upload');
  return { bytes: up.reduce((a, s) => a + s.bytes, 0), ms: up.reduce((a, s) => a + s.expectedMs, 0) };
}

describe('split recognition with compact crops', () => {
  it('costs the upload of the compact bytes: an eighth of float32 crops', () => {
    const float = upload(EXAMPLE_PROFILES, 20_000);
    const compact = upload(COMPACT, 20_000);
    expect(float.bytes).toBeGreaterThan(0);
    expect(float.bytes / compact.bytes).toBeCloseTo(8, 5);
    expect(float.ms / compact.ms).toBeGreaterThan(4);
  });

  it('sends crops to the edge over a link where float32 crops would not pay', () => {
    const pick = (profiles: Profiles) => {
      const state = createEstimatorState(profiles);
      const obs = buildObservation({ nowMs: NOW, request: { budgetMs: 1500 }, ...linkSamples({ atMs: NOW, rttMs: 30, upKbps: 8_000, downKbps: 20_000 }) });
      const d = decide(obs, profiles, tandemPolicy(), state);
      return decideRecognition({ ...obs, nowMs: NOW + 400, request: { ...obs.request, budgetMs: 1100 } }, profiles, state, d, 60);
    };
    const float = pick(EXAMPLE_PROFILES);
    const compact = pick(COMPACT);
    console.log(`60 lines at 8 Mbit/s up: float32 crops → ${float.plan.id}, compact crops → ${compact.plan.id}`);
    expect(compact.plan.kind).toBe('split-rec');
    expect(compact.plan.recEdgeShare).toBeGreaterThan(float.plan.kind === 'split-rec' ? float.plan.recEdgeShare : 0);
  });
});
