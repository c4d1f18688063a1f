import { describe, expect, it } from 'vitest';
import { parseProfiles, type Profiles, type RuntimeProfile } from '../../profiles';
import { EXAMPLE_PROFILES } from '../example-profiles';
import { createEstimatorState } from '../index';

/** The example's runtimes measured again at a 4x CPU throttle and on a 1-thread edge, under new ids. */
function withThrottledRuntimes(defaults: Partial<Profiles['defaults']>): Profiles {
  const device = EXAMPLE_PROFILES.runtimes.find((r) => r.location === 'device')!;
  const edge = EXAMPLE_PROFILES.runtimes.find((r) => r.location === 'edge')!;
  const runtimes: RuntimeProfile[] = [
    { ...device, id: 'device-wasm-2t-cpu1x', cpuThrottle: 1 },
    { ...device, id: 'device-wasm-2t-cpu4x', cpuThrottle: 4 },
    { ...device, id: 'device-wasm-1t-cpu4x', threads: 1, cpuThrottle: 4 },
    { ...edge, id: 'edge-ort-node-2t' },
    { ...edge, id: 'edge-ort-node-1t', threads: 1 },
  ];
  return parseProfiles({ ...EXAMPLE_PROFILES, runtimes, defaults: { ...EXAMPLE_PROFILES.defaults, ...defaults } });
}

describe('runtime seeds', () => {
  it('seed the edge from defaults.edgeRuntime, else from the first edge runtime', () => {
    expect(createEstimatorState(withThrottledRuntimes({ edgeRuntime: 'edge-ort-node-1t' })).edgeModels.profile.id).toBe('edge-ort-node-1t');
    expect(createEstimatorState(withThrottledRuntimes({})).edgeModels.profile.id).toBe('edge-ort-node-2t');
  });

  it('seed a device at the default throttle when several throttles match its backend and threads', () => {
    const state = createEstimatorState(withThrottledRuntimes({ deviceRuntime: 'device-wasm-1t-cpu4x' }));
    expect(state.deviceModelsFor('wasm', 2).profile.id).toBe('device-wasm-2t-cpu4x');
    expect(state.deviceModelsFor('wasm', 1).profile.id).toBe('device-wasm-1t-cpu4x');
    // A backend never profiled starts from the default device runtime itself.
    expect(state.deviceModelsFor('webgpu', 1).profile.id).toBe('device-wasm-1t-cpu4x');
  });

  it('keep the closest match by backend and threads without defaults', () => {
    const state = createEstimatorState(withThrottledRuntimes({}));
    expect(state.deviceModelsFor('wasm', 2).profile.id).toBe('device-wasm-2t-cpu1x');
    expect(state.deviceModelsFor('webgpu', 1).profile.id).toBe('device-wasm-2t-cpu1x');
  });

  it('refuse default runtimes that are unknown or at the wrong location', () => {
    expect(() => withThrottledRuntimes({ deviceRuntime: 'nope' })).toThrow(/defaults.deviceRuntime: unknown runtime/);
    expect(() => withThrottledRuntimes({ edgeRuntime: 'device-wasm-2t-cpu4x' })).toThrow(/is a device runtime, expected edge/);
  });
});
