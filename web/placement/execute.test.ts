import { describe, expect, it } from 'vitest';
import { EXAMPLE_PROFILES, Planner, type Decision } from '../../core/placement';
import { buildObservation, linkSamples } from '../../core/placement/observation-builder';
import { codedError } from '../coded-error';
import type { EdgeError, EdgeOcrOptions, EdgeOcrResult } from '../edge-client';
import type { DeviceOcrResult, SplitOptions, SplitResult } from '../worker/api';
import { edgeTimeoutMs, execute, expectedLate, failureKind, refusalOf, tooFewLines, type Executors } from './execute';
import { executableProfiles } from './profiles';
import { stoppable } from './stoppable';
import { edgeReplyOf } from '../edge-client/reply-fixture';

// Real decisions from the planner; the worker and the edge are scripted so each path (answer, refusal, race) is
// exercised exactly, with every call recorded.
const planner = new Planner(executableProfiles(EXAMPLE_PROFILES, 'fp32'));
const obs = buildObservation({ nowMs: 10_000, request: { budgetMs: 2000 }, ...linkSamples({ atMs: 10_000, rttMs: 20, upKbps: 20_000 }) });

function decisionFor(match: (id: string) => boolean, raceStartAtMs: number | null = null): Decision {
  planner.policy = { ...planner.policy, allows: (p) => match(p.id) };
  const d = planner.decide(obs);
  if (!match(d.plan.id)) throw new Error(`no such plan; got ${d.plan.id}`);
  return { ...d, raceStartAtMs: d.plan.race ? raceStartAtMs : null };
}

/** A read line in a unit square. */
const oneLine = (text: string) => ({
  text,
  score: 1,
  boxScore: 1,
  box: [
    [0, 0],
    [1, 0],
    [1, 1],
    [0, 1],
  ],
  rotated: false,
});

const timings = { preprocess: 1, det: 10, postprocess: 1, cls: 0, rec: 5, total: 17 };
const deviceResult = (tag: string): DeviceOcrResult =>
  ({
    lines: [oneLine(tag)] as never,
    timings,
    detInput: { width: 32, height: 32 },
    image: { width: 64, height: 32 },
    device: { backend: 'wasm', threads: 2, decodeMs: 2 },
  }) as DeviceOcrResult;
const edgeReply = (): EdgeOcrResult => edgeReplyOf([oneLine('edge')]);

/**
 * Scripted worker and edge. `raced` resolves once a device run is asked for (its models made ready): an edge scripted
 * to answer after it loses or wins the race as the test says, however late timers fire on a busy machine.
 */
function executors(
  edge: (signal?: AbortSignal) => Promise<EdgeOcrResult>,
  deviceDelayMs = 0,
): Executors & { calls: string[]; raced: Promise<void>; race: () => void } {
  const calls: string[] = [];
  let race!: () => void;
  const raced = new Promise<void>((resolve) => (race = resolve));
  return {
    calls,
    raced,
    race,
    deviceReady: async () => (race(), { ms: 0 }),
    deviceOcr: async (_image, options) => {
      calls.push(`device@${options.maxSide}`);
      await new Promise((r) => setTimeout(r, deviceDelayMs));
      return deviceResult('device');
    },
    reencode: async (image, maxSide, quality) => {
      calls.push(`reencode ${maxSide} q${quality}`);
      return { blob: new Blob([new Uint8Array(700)], { type: 'image/jpeg' }), width: 64, height: 32, ms: 3 };
    },
    edgeOcr: (image, options) => {
      calls.push(`edge ${image.size} B @${options.maxSide} budget≤${options.budgetMs}`);
      return edge(options.signal);
    },
    now: () => performance.now(),
  };
}

const later = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const photo = new Blob([new Uint8Array(5000)], { type: 'image/png' });
const refused = (status: number): EdgeError => Object.assign(codedError(status === 503 ? 'EdgeFailed' : 'EdgeRejected', `answered ${status}`), { status });

describe('execute', () => {
  it('runs a device plan on the device at the plan’s detector size', async () => {
    const d = decisionFor((id) => id === 'device:ppocr-det@fp32/640');
    const ex = executors(() => Promise.reject(new Error('no edge expected')));
    const run = await execute(d, photo, ex);
    expect(ex.calls).toEqual(['device@640']);
    expect(run.ranOn).toBe('device');
    expect(run.outcome).toMatchObject({ ok: true, winner: 'device', lines: 1, device: { det: 10, rec: 5, decode: 2 } });
  });

  it('re-encodes before uploading when the plan says so, and reports the edge’s stages', async () => {
    const d = decisionFor((id) => id === 'edge:ppocr-det@fp32/640:jpeg960q80');
    const ex = executors(async () => edgeReply());
    const run = await execute(d, photo, ex);
    expect(ex.calls[0]).toBe('reencode 960 q0.8');
    expect(ex.calls[1]).toMatch(/^edge 700 B @640 budget≤\d+/);
    expect(run.ranOn).toBe('edge');
    expect(run.outcome).toMatchObject({
      winner: 'edge',
      reencodedBytes: 700,
      device: { reencode: 3 },
      edge: { uploadBytes: 1000, serverMs: 18, stages: { det: 10, rec: 5 } },
    });
  });

  for (const status of [503, 429]) {
    it(`falls back to the device when the edge refuses with ${status}, recording a refusal`, async () => {
      const d = decisionFor((id) => id === 'edge:ppocr-det@fp32/960:original');
      const ex = executors(() => Promise.reject(refused(status)));
      const run = await execute(d, photo, ex);
      expect(run.ranOn).toBe('device');
      expect(run.fellBack).toMatch(String(status));
      expect(run.outcome.failure).toBe('refused');
      expect(ex.calls.at(-1)).toBe(`device@${d.fallback!.plan.config.maxSide}`);
    });
  }

  it('asks the edge again without a deadline when it refuses and the device could not make the budget either', async () => {
    const d = decisionFor((id) => id === 'edge:ppocr-det@fp32/960:original');
    const late = { ...d, fallback: { ...d.fallback!, expectedMs: d.budgetMs * 10 } };
    let calls = 0;
    const ex = executors(() => (calls++ === 0 ? Promise.reject(refused(503)) : Promise.resolve(edgeReply())));
    const run = await execute(late, photo, ex);
    expect(ex.calls).toHaveLength(2);
    expect(ex.calls[0]).toMatch(/budget≤\d/);
    expect(ex.calls[1]).toMatch(/budget≤undefined$/);
    expect(run).toMatchObject({ ranOn: 'edge', retried: 'answered 503' });
    expect(run.outcome.failure).toBe('refused');
  });

  it('does not retry a request the edge rejected as bad', async () => {
    const d = decisionFor((id) => id === 'edge:ppocr-det@fp32/960:original');
    const ex = executors(() => Promise.reject(refused(415)));
    await expect(execute(d, photo, ex)).rejects.toThrow('415');
    expect(ex.calls.some((c) => c.startsWith('device'))).toBe(false);
  });

  it('races: starts the device when the edge is late, takes the first answer and cancels the edge', async () => {
    const d = decisionFor((id) => id === 'edge:ppocr-det@fp32/960:original+race', 5);
    let aborted = false;
    const ex = executors(
      (signal) =>
        new Promise((_, reject) =>
          signal?.addEventListener('abort', () => {
            aborted = true;
            reject(new Error('aborted'));
          }),
        ),
    );
    const run = await execute(d, photo, ex);
    expect(run).toMatchObject({ ranOn: 'device', raceWon: 'device' });
    expect(run.outcome.failure).toBeUndefined();
    expect(aborted).toBe(true);
  });

  it('races: an edge that times out while the device runs lost the race, it did not fail', async () => {
    const d = decisionFor((id) => id === 'edge:ppocr-det@fp32/960:original+race', 0);
    const ex = executors(() => ex.raced.then(() => later(5)).then(() => Promise.reject(codedError('EdgeTimeout', 'late'))), 50);
    const run = await execute(d, photo, ex);
    expect(run).toMatchObject({ ranOn: 'device', raceWon: 'device' });
    expect(run.outcome.failure).toBeUndefined();
  });

  it('races: an edge refusal while the device runs is still a refusal', async () => {
    const d = decisionFor((id) => id === 'edge:ppocr-det@fp32/960:original+race', 0);
    const ex = executors(() => ex.raced.then(() => later(5)).then(() => Promise.reject(refused(503))), 50);
    const run = await execute(d, photo, ex);
    expect(run.ranOn).toBe('device');
    expect(run.outcome.failure).toBe('refused');
  });

  it('races: refused while the device runs, the edge is asked again without a deadline and the first answer wins', async () => {
    const d = decisionFor((id) => id === 'edge:ppocr-det@fp32/960:original+race', 0);
    let calls = 0;
    const ex = executors(() => ex.raced.then(() => later(5)).then(() => (calls++ === 0 ? Promise.reject(refused(503)) : edgeReply())));
    let deviceSignal: AbortSignal | undefined;
    // The device reading a receipt's lines on a slow phone: far slower than the edge's late answer.
    ex.deviceOcr = (_image, _options, signal) => {
      deviceSignal = signal;
      return new Promise((resolve, reject) => {
        const done = setTimeout(() => resolve(deviceResult('device')), 1000);
        signal?.addEventListener('abort', () => {
          clearTimeout(done);
          reject(Object.assign(new Error('cancelled'), { name: 'OcrCancelled' }));
        });
      });
    };
    const run = await execute(d, photo, ex);
    expect(run).toMatchObject({ ranOn: 'edge', raceWon: 'edge' });
    expect(run.outcome.failure).toBe('refused');
    expect(run.retried).toMatch(/503/);
    expect(ex.calls.filter((c) => c.startsWith('edge'))[1]).toMatch(/budget≤undefined$/);
    expect(deviceSignal?.aborted).toBe(true);
  });

  it('races: refused while the device runs, a device answer before the edge’s second one stands', async () => {
    const d = decisionFor((id) => id === 'edge:ppocr-det@fp32/960:original+race', 0);
    let calls = 0;
    let retrySignal: AbortSignal | undefined;
    const ex = executors((signal) => {
      if (calls++ === 0) return ex.raced.then(() => later(5)).then(() => Promise.reject(refused(503)));
      retrySignal = signal;
      return new Promise(() => undefined);
    }, 30);
    const run = await execute(d, photo, ex);
    expect(run.ranOn).toBe('device');
    expect(run.outcome.failure).toBe('refused');
    // The second request is not left running on the edge.
    expect(retrySignal?.aborted).toBe(true);
  });

  it('races: an edge answer that comes first wins even after the device started', async () => {
    const d = decisionFor((id) => id === 'edge:ppocr-det@fp32/960:original+race', 0);
    const ex = executors(() => ex.raced.then(() => later(5)).then(edgeReply), 200);
    const run = await execute(d, photo, ex);
    expect(run).toMatchObject({ ranOn: 'edge', raceWon: 'edge' });
  });

  it('races: the edge winning stops the device run still under way, so the next photo does not wait behind it', async () => {
    const d = decisionFor((id) => id === 'edge:ppocr-det@fp32/960:original+race', 0);
    const ex = executors(() => ex.raced.then(() => later(5)).then(edgeReply));
    let signalSeen: AbortSignal | undefined;
    // A worker run stops at its next model call once cancelled, and rejects.
    ex.deviceOcr = (_image, _options, signal) => {
      signalSeen = signal;
      return new Promise((_, reject) => signal?.addEventListener('abort', () => reject(Object.assign(new Error('cancelled'), { name: 'OcrCancelled' }))));
    };
    const run = await execute(d, photo, ex);
    expect(run).toMatchObject({ ranOn: 'edge', raceWon: 'edge' });
    expect(signalSeen?.aborted).toBe(true);
  });

  it("races: the edge winning while the fallback's models load means the device run never starts", async () => {
    const d = decisionFor((id) => id === 'edge:ppocr-det@fp32/960:original+race', 0);
    const ex = executors(() => ex.raced.then(() => later(5)).then(edgeReply));
    let loaded!: () => void;
    const loading = new Promise<void>((resolve) => (loaded = resolve));
    // Loading another model set on a slow phone takes seconds; the edge answers meanwhile.
    ex.deviceReady = async () => {
      ex.race();
      await loading;
      return { ms: 7000 };
    };
    const run = await execute(d, photo, ex);
    expect(run).toMatchObject({ ranOn: 'edge', raceWon: 'edge' });
    loaded();
    await new Promise((r) => setTimeout(r, 10));
    // Recorded in the replay: started with its abort already signalled, the run went on unwanted for 10-20 s.
    expect(ex.calls.filter((c) => c.startsWith('device@'))).toEqual([]);
  });

  it("races: the device run keeps the model set the phone has loaded; a forced edge run's stand-in loads one it holds", async () => {
    const uses: (string | undefined)[] = [];
    const d = decisionFor((id) => id === 'edge:ppocr-det@fp32/960:original+race', 0);
    const ex = executors(() => new Promise(() => undefined));
    ex.deviceReady = async (_variant, use) => {
      uses.push(use);
      return { ms: 0 };
    };
    await execute(d, photo, ex);
    const forced = executors(() => Promise.reject(codedError('EdgeUnreachable', 'connection reset')));
    forced.deviceReady = ex.deviceReady;
    await execute(
      decisionFor((id) => id === 'edge:ppocr-det@fp32/960:original'),
      photo,
      forced,
      true,
    );
    expect(uses).toEqual(['loaded', 'held']);
  });

  it('races: a device run that won is never cancelled', async () => {
    const d = decisionFor((id) => id === 'edge:ppocr-det@fp32/960:original+race', 0);
    const ex = executors(() => new Promise(() => undefined));
    let signalSeen: AbortSignal | undefined;
    ex.deviceOcr = async (_image, _options, signal) => {
      signalSeen = signal;
      return deviceResult('device');
    };
    const run = await execute(d, photo, ex);
    expect(run).toMatchObject({ ranOn: 'device', raceWon: 'device' });
    expect(signalSeen?.aborted).toBe(false);
  });

  it('a forced edge run asks for no deadline', async () => {
    const d = decisionFor((id) => id === 'edge:ppocr-det@fp32/960:original');
    const ex = executors(async () => edgeReply());
    await execute(d, photo, ex, true);
    expect(ex.calls).toEqual(['edge 5000 B @960 budget≤undefined']);
  });

  it('sends its budget with a plan expected in time, and none with one the planner expects late whatever runs', async () => {
    const d = decisionFor((id) => id === 'edge:ppocr-det@fp32/960:original');
    const inTime = executors(async () => edgeReply());
    await execute({ ...d, budgetMs: 60_000 }, photo, inTime);
    expect(inTime.calls[0]).toMatch(/budget≤(\d+)/);
    expect(Number(/budget≤(\d+)/.exec(inTime.calls[0])![1])).toBeGreaterThan(59_000);
    // Expected past a 150 ms budget, its fallback too: a refusal could only send the photo again.
    const late = { ...d, budgetMs: 150 };
    expect(expectedLate(late)).toBe(true);
    const lateEx = executors(async () => edgeReply());
    await execute(late, photo, lateEx);
    expect(lateEx.calls).toEqual(['edge 5000 B @960 budget≤undefined']);
    // With a fallback that could still make the budget, the deadline goes with it: a refusal leaves time for it.
    expect(expectedLate({ ...late, fallback: { ...d.fallback!, expectedMs: 100 } })).toBe(false);
  });

  it('asks the edge to detect again when short, with a deadline only; an escalated reply teaches no detection time', async () => {
    const d = decisionFor((id) => id === 'edge:ppocr-det@fp32/640:original');
    expect(d.escalation?.maxSide).toBe(960);
    const sent: (EdgeOcrOptions['escalate'] | undefined)[] = [];
    const escalatedReply = (): EdgeOcrResult => {
      const r = edgeReply();
      r.response.escalated = { fromSide: 640, lines: 0 };
      return r;
    };
    const ex = executors(async () => escalatedReply());
    const edgeOcr = ex.edgeOcr;
    ex.edgeOcr = (image, options) => (sent.push(options.escalate), edgeOcr(image, options));
    const run = await execute(d, photo, ex);
    expect(sent[0]).toEqual({ side: 960, below: d.escalation!.belowLines, ms: d.escalation!.costMs });
    expect(run.outcome.edge).toMatchObject({ escalated: true, stages: { decode: 1, rec: 5 } });
    expect(run.outcome.edge!.stages).not.toHaveProperty('det');
    expect(run.outcome.edge!.stages).not.toHaveProperty('det-preprocess');
    // Forced, or expected late whatever runs: no deadline, so no second detection either.
    await execute(d, photo, ex, true);
    await execute({ ...d, budgetMs: 150 }, photo, ex);
    expect(sent.slice(1)).toEqual([undefined, undefined]);
  });

  it('a forced edge run shows a refusal as it came', async () => {
    const d = decisionFor((id) => id === 'edge:ppocr-det@fp32/960:original');
    const ex = executors(() => Promise.reject(refused(503)));
    await expect(execute(d, photo, ex, true)).rejects.toThrow('503');
  });

  it('a forced edge run whose edge fails mid-request is answered by the device, which says why', async () => {
    const d = decisionFor((id) => id === 'edge:ppocr-det@fp32/960:original');
    const ex = executors(() => Promise.reject(codedError('EdgeUnreachable', 'connection reset')));
    const run = await execute(d, photo, ex, true);
    expect(run).toMatchObject({ ranOn: 'device', fellBack: 'connection reset' });
    expect(run.outcome.failure).toBe('network');
    expect(ex.calls).toEqual(['edge 5000 B @960 budget≤undefined', 'device@960']);
  });

  it('a forced edge run keeps the edge failure as the error when the device cannot answer either', async () => {
    const d = decisionFor((id) => id === 'edge:ppocr-det@fp32/960:original');
    const ex = {
      ...executors(() => Promise.reject(codedError('EdgeUnreachable', 'connection reset'))),
      deviceReady: () => Promise.reject(new Error('models not stored')),
    };
    await expect(execute(d, photo, ex, true)).rejects.toMatchObject({
      name: 'EdgeUnreachable',
      message: 'connection reset The device could not answer instead: models not stored',
    });
  });
});

describe('a read the user stops', () => {
  /** An edge that answers only when its request is aborted, with the fetch's AbortError. */
  const hangingEdge = (signal?: AbortSignal) =>
    new Promise<EdgeOcrResult>((_, reject) => signal?.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError')), { once: true }));

  it('aborts the edge request under way and starts no device run after it, even with a fallback planned', async () => {
    const d = decisionFor((id) => id.startsWith('edge:') && id.endsWith('+race'), 5_000);
    expect(d.fallback).not.toBeNull();
    const stop = new AbortController();
    const ex = executors(hangingEdge);
    const run = execute(d, photo, stoppable(ex, stop.signal));
    await new Promise((r) => setTimeout(r, 20));
    stop.abort();
    await expect(run).rejects.toMatchObject({ name: 'AbortError' });
    expect(ex.calls.some((c) => c.startsWith('device'))).toBe(false);
  });

  it('hands the device run the stop, and starts nothing once stopped', async () => {
    const d = decisionFor((id) => id === 'device:ppocr-det@fp32/640');
    const stop = new AbortController();
    let seen: AbortSignal | undefined;
    const ex = {
      ...executors(() => Promise.reject(new Error('no edge expected'))),
      deviceOcr: async (_: Blob, __: unknown, signal?: AbortSignal) => ((seen = signal), deviceResult('device')),
    };
    await execute(d, photo, stoppable(ex, stop.signal));
    expect(seen?.aborted).toBe(false);
    stop.abort();
    expect(seen?.aborted).toBe(true);
    await expect(execute(d, photo, stoppable(ex, stop.signal))).rejects.toMatchObject({ name: 'Stopped' });
  });
});

describe('execute with detection and recognition in two steps', () => {
  const splitResult = (share: number, failed = false): SplitResult => ({
    ...deviceResult('split'),
    split: {
      deviceLines: failed ? 4 : 4 - Math.round(4 * share),
      edgeLines: failed ? 0 : Math.round(4 * share),
      deviceRecMs: 40,
      edge: share > 0 ? { requests: 1, elapsedMs: 90, uploadBytes: 400_000, downloadBytes: 9000, serverMs: 30, queueMs: 2 } : undefined,
      edgeFailed: failed ? { code: 'EdgeFailed', message: 'answered 503', status: 503, predictedMs: 572, budgetMs: 537, retryAfterMs: 1000 } : undefined,
    },
  });

  function twoStep(share: number, failed = false) {
    const seen: { lines?: number; remainingMs?: number; options?: SplitOptions } = {};
    const ex = executors(() => Promise.reject(new Error('no whole-request edge call expected')));
    ex.split = {
      detect: async () => ({ id: 7, lines: 4, decodeMs: 2, timings: { preprocess: 1, det: 10, postprocess: 1 } }),
      recognize: async (id, options) => {
        expect(id).toBe(7);
        seen.options = options;
        return splitResult(options.edgeShare, failed);
      },
      redecide: (lines, remainingMs) => {
        Object.assign(seen, { lines, remainingMs });
        return decisionFor((id) => (share > 0 ? id === `split-rec:ppocr-det@fp32/960:edge${share * 100}%` : id === 'device:ppocr-det@fp32/960'));
      },
    };
    return { ex, seen };
  }

  it('decides recognition again with the detected line count and the budget left, and reads the share it chose on the edge', async () => {
    const d = decisionFor((id) => id === 'device:ppocr-det@fp32/960');
    const { ex, seen } = twoStep(0.5);
    const run = await execute(d, photo, ex);
    expect(seen.lines).toBe(4);
    expect(seen.remainingMs).toBeLessThanOrEqual(d.budgetMs);
    expect(seen.options!.edgeShare).toBe(0.5);
    expect(run.recognition!.plan.kind).toBe('split-rec');
    expect(run.outcome).toMatchObject({
      lines: 4,
      deviceLines: 2,
      device: { det: 10, rec: 40 },
      edge: { lines: 2, uploadBytes: 400_000, serverMs: 30, stages: { rec: 28 } },
    });
    expect(run.outcome.failure).toBeUndefined();
  });

  it('keeps every crop on the device when the planner says so', async () => {
    const d = decisionFor((id) => id === 'device:ppocr-det@fp32/960');
    const { ex, seen } = twoStep(0);
    const run = await execute(d, photo, ex);
    expect(seen.options!.edgeShare).toBe(0);
    expect(run.outcome.edge).toBeUndefined();
    expect(run.outcome.deviceLines).toBe(4);
  });

  it('records a refused edge share as a refusal with its figures, the device having read its crops', async () => {
    const d = decisionFor((id) => id === 'device:ppocr-det@fp32/960');
    const { ex } = twoStep(0.5, true);
    const run = await execute(d, photo, ex);
    expect(run.outcome.failure).toBe('refused');
    // Without predicted_ms and Retry-After the planner would leave the edge alone for its generic cool-down.
    expect(run.outcome.refusal).toEqual({ predictedMs: 572, budgetMs: 537, retryAfterMs: 1000 });
    expect(run.fellBack).toMatch(/503/);
    expect(run.outcome.deviceLines).toBe(4);
  });

  it('a forced share sends no deadline', async () => {
    const d = decisionFor((id) => id === 'device:ppocr-det@fp32/960');
    const { ex, seen } = twoStep(1);
    ex.split!.forced = true;
    await execute(d, photo, ex);
    expect(seen.options!.budgetMs).toBe(Infinity);
  });
});

describe('failureKind and edgeTimeoutMs', () => {
  it('classifies what the device can recover from', () => {
    expect(failureKind(refused(503))).toBe('refused');
    expect(failureKind(refused(429))).toBe('refused');
    expect(failureKind(codedError('EdgeTimeout', 'late'))).toBe('timeout');
    expect(failureKind(new DOMException('signal timed out', 'TimeoutError'))).toBe('timeout');
    expect(failureKind(codedError('EdgeUnreachable', 'gone'))).toBe('network');
    expect(failureKind(refused(415))).toBeNull();
    expect(failureKind('EdgeTimeout')).toBeNull();
  });

  it('waits at least 1.5 × the edge’s p95, and leaves a fallback that can still make the budget its expected time', () => {
    const d = decisionFor((id) => id === 'edge:ppocr-det@fp32/960:original');
    const room = d.budgetMs - d.fallback!.expectedMs;
    expect(room).toBeGreaterThan(0);
    expect(edgeTimeoutMs(d)).toBe(Math.round(Math.max(room, 1.5 * d.predicted.p95Ms, 1000)));
  });

  it('waits much longer when the fallback could not make the budget anyway', () => {
    const d = decisionFor((id) => id === 'edge:ppocr-det@fp32/960:original');
    const late = { ...d, fallback: { ...d.fallback!, expectedMs: d.budgetMs + 1 } };
    expect(edgeTimeoutMs(late)).toBe(Math.round(Math.max(2 * d.budgetMs, 3 * d.predicted.p95Ms, 5000)));
  });
});

describe('no empty wins, and refusals that carry their reasons', () => {
  it('a raced device answer with no lines does not end the race while the edge still reads', async () => {
    const d = decisionFor((id) => id === 'edge:ppocr-det@fp32/960:original+race', 0);
    expect(d.inputs.lines).toBeGreaterThanOrEqual(1);
    const ex = executors(() => new Promise((resolve) => setTimeout(() => resolve(edgeReply()), 60)), 0);
    ex.deviceOcr = async () => ({ ...deviceResult('device'), lines: [] });
    const run = await execute(d, photo, ex);
    expect(run).toMatchObject({ ranOn: 'edge', raceWon: 'edge', awaitedBetter: true });
  });

  it('an empty device answer still stands when the edge then fails', async () => {
    const d = decisionFor((id) => id === 'edge:ppocr-det@fp32/960:original+race', 0);
    const ex = executors(() => new Promise((_, reject) => setTimeout(() => reject(codedError('EdgeUnreachable', 'reset')), 30)), 0);
    ex.deviceOcr = async () => ({ ...deviceResult('device'), lines: [] });
    const run = await execute(d, photo, ex);
    expect(run.ranOn).toBe('device');
    expect(run.outcome.failure).toBe('network');
  });

  it('tooFewLines: none where the photo is expected to hold some', () => {
    expect(tooFewLines(0, 3)).toBe(true);
    expect(tooFewLines(2, 15)).toBe(false);
    expect(tooFewLines(30, 43)).toBe(false);
    expect(tooFewLines(0, 0.2)).toBe(false);
  });

  it('reads predicted_ms, the budget left and Retry-After off a refusal', () => {
    const e = Object.assign(refused(503), { predictedMs: 900, budgetMs: 300, retryAfterMs: 1000 });
    expect(refusalOf(e)).toEqual({ predictedMs: 900, budgetMs: 300, retryAfterMs: 1000 });
    expect(refusalOf(Object.assign(refused(429), { retryAfterMs: 2000 }))).toEqual({ retryAfterMs: 2000, rateLimited: true });
    expect(refusalOf(refused(503))).toBeUndefined();
  });

  it('after a refusal, decides again for the rest of the budget and runs that plan, not the smallest', async () => {
    const d = decisionFor((id) => id === 'edge:ppocr-det@fp32/960:original');
    const best = decisionFor((id) => id === 'device:ppocr-det@fp32/960');
    const ex = executors(() => Promise.reject(Object.assign(refused(503), { predictedMs: 900, retryAfterMs: 1000 })));
    const asked: { remainingMs: number; refusal: unknown }[] = [];
    ex.replan = (_, refusedOutcome, remainingMs) => {
      asked.push({ remainingMs, refusal: refusedOutcome.refusal });
      return { ...best, fits: true };
    };
    const run = await execute(d, photo, ex);
    expect(asked).toHaveLength(1);
    expect(asked[0].remainingMs).toBeGreaterThan(1500);
    expect(asked[0].refusal).toEqual({ predictedMs: 900, retryAfterMs: 1000 });
    expect(ex.calls.at(-1)).toBe('device@960');
    expect(run.replanned?.decision.plan.id).toBe('device:ppocr-det@fp32/960');
    expect(run.replanned?.refused.failure).toBe('refused');
  });
});
