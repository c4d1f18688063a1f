import { describe, expect, it } from 'vitest';
import { createPolicy, decide, EXAMPLE_PROFILES, observe, Planner, type Policy } from '../../core/placement';
import { buildObservation as buildCoreObservation } from '../../core/placement/observation-builder';
import type { WarmUpResult } from '../worker/api';
import {
  buildObservation,
  connectionType,
  deviceModelStates,
  deviceStages,
  downloadSample,
  edgeStages,
  hasCleanUpload,
  nextProbeBytes,
  netInfoReading,
  networkId,
  rttSample,
  SampleRing,
  serverWorkMs,
  transferKbps,
  uploadSample,
  warmUpOutcome,
  warmUpRequest,
} from './observations';
import { executableProfiles } from './profiles';

describe('NetInfo readings', () => {
  it('keeps only what the browser reported, as a prior', () => {
    expect(netInfoReading({ effectiveType: '4g', downlink: 8.95, rtt: 150, saveData: false })).toEqual({ effectiveType: '4g', downlinkMbps: 8.95, rttMs: 150 });
    expect(netInfoReading({ effectiveType: 'bogus', downlink: 0, rtt: 0 })).toBeUndefined();
    expect(netInfoReading(undefined)).toBeUndefined();
    expect(netInfoReading({ saveData: true, type: 'cellular' })).toEqual({ saveData: true, type: 'cellular' });
  });

  it('maps connection types, and offline wins over whatever the API says', () => {
    expect(connectionType(true, { type: 'wifi' })).toBe('wifi');
    expect(connectionType(true, { type: 'cellular' })).toBe('cellular');
    expect(connectionType(true, { type: 'bluetooth' })).toBe('unknown');
    expect(connectionType(true, undefined)).toBe('unknown');
    expect(connectionType(false, { type: 'wifi' })).toBe('none');
  });

  it('names a new network after each change event', () => {
    expect(networkId(true, { type: 'wifi', effectiveType: '4g' }, 0)).not.toBe(networkId(true, { type: 'wifi', effectiveType: '4g' }, 1));
  });
});

describe('samples from replies', () => {
  it('RTT is the round trip less the server total, never negative', () => {
    expect(rttSample(5, 42, { queue: 0, total: 2 })).toEqual({ atMs: 5, rttMs: 40 });
    expect(rttSample(5, 1, { total: 2 })).toEqual({ atMs: 5, rttMs: 0 });
    expect(rttSample(5, 30, {})).toEqual({ atMs: 5, rttMs: 30 });
  });

  it('server work leaves out the time the body took to arrive', () => {
    // Probe: `proc` is the work after the body was read.
    expect(serverWorkMs({ read: 1300, proc: 0.4, total: 1300.4 })).toBe(0.4);
    // OCR: the stages and the wait for a worker, not `total`, which starts before the body arrives.
    expect(serverWorkMs({ decode: 3, preprocess: 2, det: 40, postprocess: 5, cls: 0, rec: 20, queue: 1, total: 1500 })).toBe(71);
    // A reply that waited 9 s behind other photos: the wait is the server's, so the 60 ms upload stays fast.
    const queued = { decode: 60, preprocess: 6, det: 62, postprocess: 72, cls: 0, rec: 1090, queue: 9182, total: 10_600 };
    expect(transferKbps(uploadSample(0, 60_000, 10_540, queued), 10)).toBeGreaterThan(5000);
    expect(serverWorkMs({ read: 100, total: 130 })).toBe(30);
    expect(serverWorkMs({})).toBe(0);
  });

  it('a 48 KB probe at 300 kbit/s reads back as about 300 kbit/s once server work and one RTT are removed', () => {
    const bytes = 48 * 1024;
    const rtt = 40;
    const transferMs = (bytes * 8) / 300;
    const sample = uploadSample(1000, bytes, transferMs + rtt + 0.5, { read: transferMs, proc: 0.5, total: transferMs + 0.5 });
    expect(sample).toMatchObject({ atMs: 1000, direction: 'up', bytes, serverMs: 0.5 });
    expect(transferKbps(sample, rtt)).toBeCloseTo(300, 6);
    // The server timed its body: 150 ms more of the phone's own around it change nothing.
    expect(sample.readMs).toBe(transferMs);
    expect(transferKbps({ ...sample, elapsedMs: sample.elapsedMs + 150 }, rtt)).toBeCloseTo(300, 6);
    // Without the server's timing, a round trip under one RTT leaves nothing to time.
    expect(transferKbps({ ...sample, readMs: undefined, elapsedMs: 10 }, rtt)).toBeNull();
  });

  it('a download probe is taken the same way, without the time the server took to make the bytes', () => {
    const sample = downloadSample(2000, 48 * 1024, 200, { proc: 1.5, total: 1.5 });
    expect(sample).toEqual({ atMs: 2000, direction: 'down', bytes: 48 * 1024, elapsedMs: 200, serverMs: 1.5 });
    expect(transferKbps(sample, 20)).toBeCloseTo((48 * 1024 * 8) / 178.5, 6);
  });

  it('probes again, larger, only while a probe went by too fast to measure', () => {
    const MB = 1024 * 1024;
    // 48 KB in 12 ms with a 5 ms RTT: 7 ms of transfer says nothing.
    expect(nextProbeBytes(uploadSample(0, 48 * 1024, 12, { proc: 0 }), 5, MB)).toBe(384 * 1024);
    expect(nextProbeBytes(uploadSample(0, 384 * 1024, 30, { proc: 0 }), 5, MB)).toBe(MB);
    // The largest probe was sent: stop whatever it measured.
    expect(nextProbeBytes(uploadSample(0, MB, 40, { proc: 0 }), 5, MB)).toBeNull();
    // 1.3 s at 300 kbit/s is measurable.
    expect(nextProbeBytes(uploadSample(0, 48 * 1024, 1330, { proc: 0.4 }), 40, MB)).toBeNull();
    // Two RTTs is the floor on a slow-RTT link: 48 KB in 160 ms with a 100 ms RTT is not enough.
    expect(nextProbeBytes(uploadSample(0, 48 * 1024, 260, { proc: 0 }), 100, MB)).toBe(384 * 1024);
    // Metered links keep the first size (maxBytes = first size).
    expect(nextProbeBytes(uploadSample(0, 48 * 1024, 12, { proc: 0 }), 5, 48 * 1024)).toBeNull();
    // A probe that overlapped other work, or with a request under way now, does not grow: the larger probe would
    // share the link with the request's upload.
    expect(nextProbeBytes(uploadSample(0, 48 * 1024, 12, { proc: 0 }, true), 5, MB)).toBeNull();
    expect(nextProbeBytes(uploadSample(0, 48 * 1024, 12, { proc: 0 }), 5, MB, true)).toBeNull();
  });

  it('knows whether the uplink was ever probed alone', () => {
    // The probe on joining a link ran beside the model warm-up: a lower bound only, so another probe is wanted.
    const beside = uploadSample(0, 48 * 1024, 400, { proc: 0 }, true);
    expect(hasCleanUpload([beside, downloadSample(0, 48 * 1024, 30, { proc: 0 })])).toBe(false);
    expect(hasCleanUpload([beside, uploadSample(1, 48 * 1024, 40, { proc: 0 })])).toBe(true);
  });

  it('keeps the newest samples only', () => {
    const ring = new SampleRing<number>(3);
    for (let i = 0; i < 5; i++) ring.push(i);
    expect(ring.list).toEqual([2, 3, 4]);
  });
});

describe('stage names', () => {
  it('maps Server-Timing to edge stages and drops a classifier that did not run', () => {
    expect(edgeStages({ decode: 3, preprocess: 2, det: 40, postprocess: 5, cls: 0, rec: 20, queue: 1, total: 80 })).toEqual({
      decode: 3,
      'det-preprocess': 2,
      det: 40,
      postprocess: 5,
      rec: 20,
    });
  });

  it('maps worker timings to device stages and drops a classifier that did not run', () => {
    expect(deviceStages({ preprocess: 4, det: 100, postprocess: 6, cls: 0, rec: 50, total: 160 }, 9)).toEqual({
      decode: 9,
      'det-preprocess': 4,
      det: 100,
      postprocess: 6,
      rec: 50,
    });
    expect(deviceStages({ preprocess: 4, det: 100, postprocess: 6, cls: 2, rec: 50, total: 162 }, 9).cls).toBe(2);
  });
});

describe('device model states', () => {
  const manifest = [
    { name: 'ppocr-det', variant: 'fp32', task: 'text-detection' },
    { name: 'ppocr-rec', variant: 'fp32', task: 'text-recognition' },
    { name: 'ppocr-cls', variant: 'fp32', task: 'text-orientation' },
    { name: 'ppocr-det-int8w', variant: 'int8-weights', task: 'text-detection' },
  ];
  it('matches profiled models to manifest models by role and variant', () => {
    const states = deviceModelStates(EXAMPLE_PROFILES, {
      manifest,
      stored: new Set(['ppocr-det', 'ppocr-rec', 'ppocr-cls']),
      loaded: new Set(['ppocr-det', 'ppocr-rec']),
      warm: new Set(['ppocr-det']),
    });
    expect(Object.fromEntries(states.map((s) => [s.model, s.state]))).toEqual({
      'ppocr-det@fp32': 'warm',
      'ppocr-rec@fp32': 'loaded',
      'ppocr-cls@fp32': 'cached',
      'ppocr-det@int8-weights': 'absent',
    });
  });

  it('gives every profiled model of a role the state of the variant set the device runs, when named', () => {
    const states = deviceModelStates(
      EXAMPLE_PROFILES,
      {
        manifest,
        stored: new Set(['ppocr-det-int8w']),
        loaded: new Set(['ppocr-det-int8w']),
        warm: new Set(),
      },
      'int8-weights',
    );
    const byModel = Object.fromEntries(states.map((s) => [s.model, s.state]));
    expect(byModel['ppocr-det@fp32']).toBe('loaded');
    expect(byModel['ppocr-det@int8-weights']).toBe('loaded');
    expect(byModel['ppocr-rec@fp32']).toBe('absent');
  });

  it('calls everything absent before the manifest is known', () => {
    const states = deviceModelStates(EXAMPLE_PROFILES, { manifest: [], stored: new Set(), loaded: new Set(), warm: new Set() });
    expect(states.every((s) => s.state === 'absent')).toBe(true);
  });
});

describe('buildObservation', () => {
  const parts = {
    nowMs: 100,
    online: true,
    connection: { type: 'cellular', effectiveType: '3g', saveData: true },
    networkChanges: 2,
    rtt: [],
    throughput: [],
    device: { backend: 'wasm', threads: 2, models: [] },
    edge: {},
    request: { bytes: 1000, width: 64, height: 32, budgetMs: 1000 },
    preferences: { costWeight: 0, saveData: false, offloadOnCellular: true },
  };
  it("honours the browser's Save-Data even when the page's switch is off", () => {
    const obs = buildObservation(parts);
    expect(obs.preferences.saveData).toBe(true);
    expect(obs.connection).toBe('cellular');
    expect(obs.netInfo).toEqual({ effectiveType: '3g', saveData: true, type: 'cellular' });
  });

  it('says offline when the browser does', () => {
    expect(buildObservation({ ...parts, online: false }).connection).toBe('none');
  });
});

describe('a warm-up as a device observation', () => {
  const profiles = executableProfiles(EXAMPLE_PROFILES, 'fp32');
  const maxSide = profiles.defaults.maxSide;
  const deviceOnly: Policy = {
    ...createPolicy('device'),
    allows: (p) => p.kind === 'device' && p.config.det === profiles.defaults.det && p.config.maxSide === maxSide,
  };
  const warmUp = (speed: number): { warm: WarmUpResult; predicted: (stage: string) => number } => {
    // What the profiles predict for the warm-up's sizes, run `speed` times faster.
    const planner = new Planner(profiles);
    const image = { width: maxSide, height: (maxSide * 3) / 4 };
    const d = decide(buildCoreObservation({ request: { ...image, bytes: 1, budgetMs: 2000 } }), profiles, deviceOnly, planner.state);
    const at = (stage: string) => d.predicted.stages.filter((s) => s.stage === stage).reduce((sum, s) => sum + s.expectedMs, 0);
    const warm: WarmUpResult = {
      maxSide,
      image,
      detInput: image,
      timings: { preprocess: at('det-preprocess') / speed, det: at('det') / speed },
      lines: 4,
      recMs: 0,
    };
    warm.recMs = ((at('rec') / d.inputs.lines) * 4) / speed;
    return { warm, predicted: at };
  };

  it('names the photo it stands for and the stages it timed, with the lines it read', () => {
    const { warm } = warmUp(1);
    expect(warmUpRequest(warm, 1500)).toMatchObject({ width: maxSide, height: (maxSide * 3) / 4, budgetMs: 1500 });
    const outcome = warmUpOutcome(warm, maxSide, 7);
    expect(Object.keys(outcome.device!).sort()).toEqual(['det', 'det-preprocess', 'rec']);
    expect(outcome).toMatchObject({ atMs: 7, ok: true, winner: 'device', deviceLines: 4 });
    expect(outcome.lines).toBeUndefined();
    // Detection timed at another size than the one planned says nothing about the planned size.
    expect(Object.keys(warmUpOutcome(warm, maxSide / 2, 7).device!)).toEqual(['rec']);
  });

  for (const [speed, what] of [
    [5, 'faster'],
    [0.2, 'slower'],
  ] as const) {
    it(`a device ${what} than the profiles' default is predicted ${what} for the next photo`, () => {
      const { warm } = warmUp(speed);
      const planner = new Planner(profiles);
      const photo = buildCoreObservation({ request: { width: 1280, height: 960, bytes: 250_000, budgetMs: 2000 } });
      const before = decide(photo, profiles, deviceOnly, planner.state).predicted.expectedMs;
      const d = decide(buildCoreObservation({ request: warmUpRequest(warm, 2000) }), profiles, deviceOnly, planner.state);
      observe(planner.state, d, warmUpOutcome(warm, d.plan.config.maxSide, 0), deviceOnly);
      const after = decide(photo, profiles, deviceOnly, planner.state).predicted.expectedMs;
      if (speed > 1) expect(after).toBeLessThan(before / 2);
      // A slow warm-up is one weak sample clipped at twice the prediction (it may be another page's load or
      // WASM tier-up): it says "slower", and real runs say how much.
      else expect(after).toBeGreaterThan(before * 1.1);
    });
  }
});
