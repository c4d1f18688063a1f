import { describe, expect, it } from 'vitest';
import { EXAMPLE_PROFILES as P } from './example-profiles';
import { buildObservation } from './observation-builder';
import { Planner } from './planner';
import { alwaysDevicePolicy } from './policies/device';

describe('Planner', () => {
  it('learns a slow device, and a new session started from what it learnt predicts the same', () => {
    const first = new Planner(P, alwaysDevicePolicy());
    const obs = buildObservation({ nowMs: 1000 });
    const cold = first.decide(obs);
    for (let k = 0; k < 5; k++) {
      const d = first.decide(buildObservation({ nowMs: 2000 + k }));
      const det = d.predicted.stages.find((s) => s.stage === 'det')!;
      observe3x(first, d, det.expectedMs, k);
    }
    const warm = first.decide(obs);
    expect(warm.predicted.expectedMs).toBeGreaterThan(cold.predicted.expectedMs * 1.2);
    expect(first.mape('det')).toBeGreaterThan(0);

    const stored = JSON.parse(JSON.stringify(first.learned()));
    const second = new Planner(P, alwaysDevicePolicy(), {}, stored);
    const again = second.decide(obs);
    expect(again.plan.id).toBe(warm.plan.id);
    expect(again.predicted.expectedMs).toBeCloseTo(warm.predicted.expectedMs, 6);
    expect(again.predicted.p95Ms).toBeCloseTo(warm.predicted.p95Ms, 6);
  });

  it('ignores stored state of another shape', () => {
    const p = new Planner(P, alwaysDevicePolicy(), {}, { schema: 2 } as never);
    expect(p.decide(buildObservation()).plan.kind).toBe('device');
  });
});

function observe3x(p: Planner, d: ReturnType<Planner['decide']>, detMs: number, k: number): void {
  const det = detMs * 3;
  p.observe(d, { atMs: 3000 + k, ok: true, totalMs: det + 300, lines: 8, device: { det } });
}
