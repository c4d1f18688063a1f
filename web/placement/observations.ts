/**
 * Turns what the page can measure into the planner's observation parts. Pure (no DOM reads): the page passes in
 * navigator.connection, replies' round trips and Server-Timing, and what the worker and model store report.
 */
import { timedByServer, transferTimeMs, type DeviceStage, type EdgeStage, type Outcome } from '../../core/placement';
import type {
  ConnectionType,
  DeviceModelState,
  ModelState,
  NetInfoReading,
  Observation,
  Preferences,
  RequestInfo,
  RttSample,
  ThroughputSample,
} from '../../core/placement';
import type { Profiles } from '../../core/profiles';
import type { StageTimings } from '../../core/ocr/types';
import type { WarmUpResult } from '../worker/api';

/** The fields of the Network Information API's `navigator.connection` that the planner reads. */
export interface ConnectionLike {
  effectiveType?: string;
  downlink?: number;
  rtt?: number;
  saveData?: boolean;
  type?: string;
}

const EFFECTIVE_TYPES = new Set(['slow-2g', '2g', '3g', '4g']);

/** NetInfo as a prior: only the fields the browser actually reported. */
export function netInfoReading(c: ConnectionLike | undefined): NetInfoReading | undefined {
  if (!c) return undefined;
  const reading: NetInfoReading = {};
  if (c.effectiveType && EFFECTIVE_TYPES.has(c.effectiveType)) reading.effectiveType = c.effectiveType as NetInfoReading['effectiveType'];
  if (typeof c.downlink === 'number' && c.downlink > 0) reading.downlinkMbps = c.downlink;
  if (typeof c.rtt === 'number' && c.rtt > 0) reading.rttMs = c.rtt;
  if (c.saveData === true) reading.saveData = true;
  if (typeof c.type === 'string') reading.type = c.type;
  return Object.keys(reading).length > 0 ? reading : undefined;
}

export function connectionType(online: boolean, c: ConnectionLike | undefined): ConnectionType {
  if (!online) return 'none';
  switch (c?.type) {
    case 'wifi':
    case 'ethernet':
    case 'cellular':
    case 'none':
      return c.type;
    case 'wimax':
      return 'cellular';
    default:
      return 'unknown';
  }
}

/** Names the network the page is on; `changes` counts `change` events, so a handover is a new network. */
export function networkId(online: boolean, c: ConnectionLike | undefined, changes: number): string {
  return [online ? 'online' : 'offline', c?.type ?? '?', c?.effectiveType ?? '?', changes].join('/');
}

/** A bounded list of the newest samples (the planner takes each sample once by its time stamp). */
export class SampleRing<T> {
  private items: T[] = [];
  constructor(private readonly capacity: number) {}
  push(item: T): void {
    this.items.push(item);
    if (this.items.length > this.capacity) this.items.splice(0, this.items.length - this.capacity);
  }
  get list(): readonly T[] {
    return this.items;
  }
  clear(): void {
    this.items = [];
  }
}

/** RTT from a reply with a negligible body: the round trip less the server's own time. */
export function rttSample(atMs: number, roundTripMs: number, serverTiming: Record<string, number>): RttSample {
  return { atMs, rttMs: Math.max(0, roundTripMs - (serverTiming.total ?? 0)) };
}

/**
 * Time the server spent working, without the time it waited for the body to arrive (which is the upload itself):
 * the probe's `proc`, or the sum of an OCR reply's stages and queue, or `total − read`; 0 when the reply says nothing.
 */
export function serverWorkMs(serverTiming: Record<string, number>): number {
  if (serverTiming.proc !== undefined) return serverTiming.proc;
  const stages = ['decode', 'preprocess', 'det', 'postprocess', 'cls', 'rec'].filter((s) => serverTiming[s] !== undefined);
  // The queue is time the body had already arrived and waited for a worker: the server's, not the upload's.
  if (stages.length > 0) return stages.reduce((sum, s) => sum + serverTiming[s]!, serverTiming.queue ?? 0);
  if (serverTiming.total !== undefined) return Math.max(0, serverTiming.total - (serverTiming.read ?? 0));
  return 0;
}

/** One upload measured by a probe: timed by the server as its body arrived, else the round trip less its work and one RTT. */
export function uploadSample(atMs: number, bytes: number, roundTripMs: number, serverTiming: Record<string, number>, contended = false): ThroughputSample {
  return {
    atMs,
    direction: 'up',
    bytes,
    elapsedMs: roundTripMs,
    serverMs: serverWorkMs(serverTiming),
    ...(serverTiming.read !== undefined && { readMs: serverTiming.read }),
    ...(contended && { lowerBound: true }),
  };
}

/** One download measured by a probe, taken the same way. */
export function downloadSample(atMs: number, bytes: number, roundTripMs: number, serverTiming: Record<string, number>, contended = false): ThroughputSample {
  return { atMs, direction: 'down', bytes, elapsedMs: roundTripMs, serverMs: serverWorkMs(serverTiming), ...(contended && { lowerBound: true }) };
}

/** Whether any uplink sample was measured with nothing else running beside it (not a lower bound). */
export function hasCleanUpload(samples: readonly ThroughputSample[]): boolean {
  return samples.some((t) => t.direction === 'up' && !t.lowerBound);
}

/** A transfer shorter than this says more about round-trip jitter than about throughput. */
export const MIN_MEASURABLE_MS = 50;

/**
 * The next probe size when `sample` went by too fast to measure (its transfer time, after the server's work and the
 * smallest recent RTT, under MIN_MEASURABLE_MS or under two RTTs): eight times larger, up to `maxBytes`; null when
 * the sample is measurable, the largest probe was sent, or other work overlapped it or is running now (`busyNow`):
 * a larger probe would then share the link with a request's upload, which took 7.7 s where it alone took 4.8 s.
 */
export function nextProbeBytes(sample: ThroughputSample, minRttMs: number, maxBytes: number, busyNow = false): number | null {
  if (sample.lowerBound || busyNow) return null;
  const transferMs = transferTimeMs(sample, minRttMs);
  // The round trip's jitter hides a transfer under two of them, unless the server timed it.
  if (transferMs >= Math.max(MIN_MEASURABLE_MS, timedByServer(sample) ? 0 : 2 * minRttMs) || sample.bytes >= maxBytes) return null;
  return Math.min(maxBytes, sample.bytes * 8);
}

/** Uplink in kbit/s implied by one transfer (what the planner will take from it), or null when nothing is left. */
export function transferKbps(sample: ThroughputSample, rttMs: number): number | null {
  const ms = transferTimeMs(sample, rttMs);
  return ms > 0 ? (sample.bytes * 8) / ms : null;
}

/** The edge's Server-Timing names mapped to the planner's edge stages. */
/**
 * `escalated`: the edge detected twice (at the plan's side, then a larger one); the detection stages hold both, which
 * is no sample of either side's speed, so they are left out.
 */
export function edgeStages(serverTiming: Record<string, number>, escalated = false): Partial<Record<EdgeStage, number>> {
  const map: [string, EdgeStage][] = [
    ['decode', 'decode'],
    ['preprocess', 'det-preprocess'],
    ['det', 'det'],
    ['postprocess', 'postprocess'],
    ['cls', 'cls'],
    ['rec', 'rec'],
  ];
  const out: Partial<Record<EdgeStage, number>> = {};
  for (const [name, stage] of map) if (serverTiming[name] !== undefined) out[stage] = serverTiming[name];
  // A stage that did not run (the classifier is off by default) says nothing about the edge's speed.
  if (!out.cls) delete out.cls;
  if (escalated) for (const stage of ['det-preprocess', 'det', 'postprocess'] as const) delete out[stage];
  return out;
}

/** The worker's measured stages mapped to the planner's device stages. */
export function deviceStages(timings: StageTimings, decodeMs: number): Partial<Record<DeviceStage, number>> {
  const out: Partial<Record<DeviceStage, number>> = {
    decode: decodeMs,
    'det-preprocess': timings.preprocess,
    det: timings.det,
    postprocess: timings.postprocess,
    rec: timings.rec,
  };
  // A stage that did not run (the classifier is off by default) would teach the planner the device is infinitely fast.
  if (timings.cls > 0) out.cls = timings.cls;
  return out;
}

/** The photo a warm-up stands for: its size is what the planner derives the detector's input size from. */
export function warmUpRequest(warm: WarmUpResult, budgetMs: number): RequestInfo {
  // The bytes only shape predictions of decoding and uploading, which a warm-up does not measure.
  return { bytes: warm.image.width * warm.image.height, width: warm.image.width, height: warm.image.height, budgetMs };
}

/**
 * The warm-up's timed run as a device outcome: detection (when run at the size `detMaxSide` the decision planned)
 * and recognition of its lines, `lineWidth` pixels wide each (the profiled lines' width, see profiledLineWidth).
 * Post-processing and decoding are left out: a blank image has no boxes to trace and was not decoded, so their
 * times would say nothing about a photo. Marked as a warm-up: right after loading, often beside another page's
 * work, it is one weak sample of the device's speed, not a measurement real runs have to outvote.
 */
export function warmUpOutcome(warm: WarmUpResult, detMaxSide: number, atMs: number, lineWidth?: number): Outcome {
  const device: Partial<Record<DeviceStage, number>> = { rec: warm.recMs };
  if (warm.maxSide === detMaxSide) {
    device['det-preprocess'] = warm.timings.preprocess;
    device.det = warm.timings.det;
  }
  const totalMs = Object.values(device).reduce((sum, ms) => sum + ms, 0);
  const recInputWidth = lineWidth !== undefined && lineWidth > 0 ? warm.lines * lineWidth : undefined;
  return { atMs, ok: true, totalMs, winner: 'device', device, deviceLines: warm.lines, recInputWidth, warmUp: true };
}

const ROLE_TASK = { det: 'text-detection', cls: 'text-orientation', rec: 'text-recognition' } as const;

export interface DeviceModelFacts {
  /** Manifest models (name, variant, task) the device knows of. */
  manifest: { name: string; variant: string; task: string }[];
  /** Manifest names stored in IndexedDB. */
  stored: ReadonlySet<string>;
  /** Manifest names with a session in the worker. */
  loaded: ReadonlySet<string>;
  /** Manifest names that have already run in this worker. */
  warm: ReadonlySet<string>;
}

/**
 * State of each profiled model on this device, matched to the manifest by role and variant. With `deviceVariant`
 * (the one variant set the page's worker loads) every profiled model of a role takes the state of that set's model:
 * the page can only run its own set, and the planner may plan with another variant's figures where that set has no
 * measured accuracy of its own (int8 weights run at fp32's speed once loaded).
 */
export function deviceModelStates(profiles: Profiles, facts: DeviceModelFacts, deviceVariant?: string): DeviceModelState[] {
  return profiles.models.map((p) => {
    const variant = deviceVariant ?? p.variant;
    const m = facts.manifest.find((x) => x.task === ROLE_TASK[p.role] && x.variant === variant);
    let state: ModelState = 'absent';
    if (m) state = facts.warm.has(m.name) ? 'warm' : facts.loaded.has(m.name) ? 'loaded' : facts.stored.has(m.name) ? 'cached' : 'absent';
    return { model: p.id, state };
  });
}

export interface ObservationParts {
  nowMs: number;
  online: boolean;
  connection: ConnectionLike | undefined;
  networkChanges: number;
  rtt: readonly RttSample[];
  throughput: readonly ThroughputSample[];
  device: Observation['device'];
  edge: Observation['edge'];
  request: RequestInfo;
  preferences: Preferences;
}

export function buildObservation(p: ObservationParts): Observation {
  const netInfo = netInfoReading(p.connection);
  return {
    nowMs: p.nowMs,
    online: p.online,
    connection: connectionType(p.online, p.connection),
    networkId: networkId(p.online, p.connection, p.networkChanges),
    netInfo,
    rtt: p.rtt,
    throughput: p.throughput,
    device: p.device,
    edge: p.edge,
    request: p.request,
    // Save-Data from the browser is honoured even when the page's own switch is off.
    preferences: { ...p.preferences, saveData: p.preferences.saveData || netInfo?.saveData === true },
  };
}
