/**
 * Everything the page knows when a request arrives, gathered by its adapters (network, worker, edge client).
 * Times are the page's clock in milliseconds; the planner never reads a clock itself.
 *
 * Sample lists may be ring buffers the adapters keep: the planner takes each sample once (by its time stamp), so
 * passing the same buffer on every request is fine.
 */
import type { StatusResponse } from '../protocol/v1';

/**
 * Network Information API reading (Chromium only; rounded, capped, and blind to throttling on loopback):
 * a prior, never the truth.
 */
export interface NetInfoReading {
  effectiveType?: 'slow-2g' | '2g' | '3g' | '4g';
  downlinkMbps?: number;
  rttMs?: number;
  saveData?: boolean;
  type?: string;
}

export interface RttSample {
  atMs: number;
  /** Round trip of a request with a negligible body and server time (e.g. GET /v1/status minus its Server-Timing). */
  rttMs: number;
}

/**
 * One real transfer. `elapsedMs` is the client-side time from sending the request to the end of the reply;
 * `serverMs` is the server's own time from Server-Timing (queue included). The estimator removes the server time
 * and one round trip to get the pure transfer time.
 */
export interface ThroughputSample {
  atMs: number;
  direction: 'up' | 'down';
  bytes: number;
  elapsedMs: number;
  serverMs?: number;
  /**
   * An upload's time as the server saw it (Server-Timing `read`: from the request's arrival to its last byte). The
   * page's round trip also holds what the phone itself took around the request, which a slow phone makes 100 ms or
   * more; this does not.
   */
  readMs?: number;
  /**
   * The transfer shared the phone or the link with other work (a request, on-device inference): it went at least this
   * fast, how much faster nobody saw.
   */
  lowerBound?: boolean;
}

/**
 * A transfer's own time: an upload's body as the server timed it when it did, else the round trip less the server's
 * work and one round trip (`rttMs`). May be zero or negative: the transfer went by too fast to time.
 */
export function transferTimeMs(t: Pick<ThroughputSample, 'direction' | 'elapsedMs' | 'serverMs' | 'readMs'>, rttMs: number): number {
  return timedByServer(t) ? t.readMs! : t.elapsedMs - (t.serverMs ?? 0) - rttMs;
}

/**
 * Whether the server timed this transfer itself: an upload whose reply had Server-Timing `read` of at least
 * MIN_READ_MS. A body read faster than that was not timed on the link: it came whole with the headers, or from a
 * proxy in front of the server that had already received all of it.
 */
export function timedByServer(t: Pick<ThroughputSample, 'direction' | 'readMs'>): boolean {
  return t.direction === 'up' && t.readMs !== undefined && Number.isFinite(t.readMs) && t.readMs >= MIN_READ_MS;
}

export const MIN_READ_MS = 2;

export type ModelState = 'absent' | 'cached' | 'loaded' | 'warm';

/** State of one model on the device, for one backend and thread count. */
export interface DeviceModelState {
  /** Profiled model id (profiles.json `models[].id`). */
  model: string;
  state: ModelState;
}

export interface DeviceObservation {
  backend: string;
  threads: number;
  models: DeviceModelState[];
  /** Time until the device finishes work already running (0 when idle). */
  busyMs?: number;
}

export interface EdgeObservation {
  status?: StatusResponse;
  /** When `status` was received. */
  statusAtMs?: number;
  /** Last time the edge refused a request (503/429), if the adapter saw one outside a planned request. */
  refusedAtMs?: number;
}

export interface RequestInfo {
  /** Size of the image as the user gave it (the bytes an original-size upload sends). */
  bytes: number;
  width: number;
  height: number;
  mime?: string;
  /** Latency budget for the whole request, from now. */
  budgetMs: number;
  /**
   * Detection has already run on the device (see decideRecognition): its stages cost nothing more and the line
   * count is known; `budgetMs` is what is left of the budget.
   */
  detected?: { lines: number; /** Total recogniser input width of the crops (recInputWidth()), when known. */ recInputWidth?: number };
}

export interface Preferences {
  /**
   * How much accuracy the user gives up to save edge cost, 0..1: 0 takes the most accurate plan that fits whatever
   * it costs; 1 accepts up to `PlannerOptions.maxAccuracyTrade` less word recall for a cheaper plan.
   */
  costWeight: number;
  /** Never upload the original-size image (also set when NetInfo reports Save-Data). */
  saveData: boolean;
  /** Allow sending work to the edge over a cellular connection. */
  offloadOnCellular: boolean;
}

export type ConnectionType = 'wifi' | 'ethernet' | 'cellular' | 'none' | 'unknown';

export interface Observation {
  nowMs: number;
  online: boolean;
  connection: ConnectionType;
  /**
   * Identifies the network the device is on (e.g. type + effective type + last `change` event). When it changes,
   * what was learnt about the old link is dropped.
   */
  networkId?: string;
  netInfo?: NetInfoReading;
  rtt: readonly RttSample[];
  throughput: readonly ThroughputSample[];
  device: DeviceObservation;
  edge: EdgeObservation;
  request: RequestInfo;
  preferences: Preferences;
}
