/**
 * What the page learns about its link to the edge between requests: RTT and edge state from light /v1/status
 * polling (only while the page is visible and online), and throughput from a small probe upload and download sent
 * when the page becomes visible or the connection changes, so the first decision already knows the link.
 */
import type { StatusResponse } from '../../core/protocol/v1';
import type { RttSample, ThroughputSample } from '../../core/placement';
import { edgeDownloadProbe, edgeProbe, edgeStatusTimed } from '../edge-client';
import { SampleRing, downloadSample, hasCleanUpload, nextProbeBytes, rttSample, transferKbps, uploadSample, type ConnectionLike } from './observations';

const POLL_MS = 7_000;
/**
 * A throughput sample older than this no longer says much about the link (the planner's spread for it has grown to
 * about 0.8 in log space): a request that may go to the edge probes first.
 */
export const STALE_SAMPLE_MS = 15_000;
/** The longest a request waits for that probe; a slower probe finishes in the background for the next request. */
export const REFRESH_WAIT_MS = 250;
/** Big enough to say something about throughput (the planner ignores transfers under 16 KB), small enough for 2G. */
const PROBE_BYTES = 48 * 1024;
/** On a link too fast for the first probe to measure, probes grow to this (the route's limit); never on metered links. */
const MAX_PROBE_BYTES = 1024 * 1024;
/** Probes sent after other work ends while the uplink has only been probed beside some. */
const CLEAN_PROBE_TRIES = 3;

type NetworkInformationLike = ConnectionLike & EventTarget;

export type ProbeState = 'idle' | 'running' | 'done' | 'failed';

export class LinkMonitor {
  readonly rtt = new SampleRing<RttSample>(32);
  readonly throughput = new SampleRing<ThroughputSample>(32);
  status: StatusResponse | undefined;
  statusAtMs: number | undefined;
  /** Whether the edge answered its last status request; undefined before the first. */
  edgeReachable: boolean | undefined;
  networkChanges = 0;
  probeState: ProbeState = 'idle';
  lastProbe: ThroughputSample | undefined;
  lastDownProbe: ThroughputSample | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private polling = false;
  private probing: Promise<void> | undefined;
  /** A probe is due (joined a network, became visible) and waits for the edge to answer a poll. */
  private probeWanted = false;
  private busySeenAtMs = -Infinity;
  /** Work competing with a probe for the phone or the link (requests, model warm-up): running now, and started so far. */
  private contending = 0;
  private contendingStarts = 0;
  /** Probes still to send once other work ends, while every uplink probe so far overlapped some (CLEAN_PROBE_TRIES). */
  private cleanProbesLeft = CLEAN_PROBE_TRIES;
  private cleanProbeWanted = false;
  /** The newest round trip was timed beside other work. */
  private rttContended = false;

  constructor(private readonly onChange: () => void) {}

  get connection(): NetworkInformationLike | undefined {
    return (navigator as Navigator & { connection?: NetworkInformationLike }).connection;
  }

  start(): void {
    document.addEventListener('visibilitychange', () => {
      if (document.visibilityState === 'visible') this.wake(true);
      else this.sleep();
    });
    addEventListener('online', () => this.wake(true));
    addEventListener('offline', () => {
      this.sleep();
      this.edgeReachable = false;
      this.onChange();
    });
    this.connection?.addEventListener('change', () => {
      this.networkChanges++;
      this.wake(true);
    });
    this.wake(true);
  }

  /** Polls now (and probes when asked); later polls follow every few seconds while visible and online. */
  wake(probe: boolean): void {
    if (document.visibilityState !== 'visible' || !navigator.onLine) return;
    clearTimeout(this.timer);
    if (probe) this.probeWanted = true;
    void this.poll();
  }

  /** A request failed to reach the edge: look again soon instead of waiting for the next poll. */
  edgeFailed(): void {
    this.edgeReachable = false;
    this.onChange();
    if (!this.polling) this.wake(false);
  }

  /**
   * The edge was seen busy (a refusal, a reply that waited in its queue). How long its queue was then says little a
   * few seconds later: the next request asks the edge how busy it is now before deciding.
   */
  edgeWasBusy(): void {
    this.busySeenAtMs = performance.now();
  }

  /**
   * Runs work that competes with probes for the phone's CPU or the link (a request, a model warm-up). A probe that
   * overlaps it measures the phone's or the link's contention, not the link: its rate counts only as a lower bound.
   */
  async busyWhile<T>(work: () => Promise<T>): Promise<T> {
    this.contending++;
    this.contendingStarts++;
    try {
      return await work();
    } finally {
      this.contending--;
      if (this.contending === 0) this.afterContention();
    }
  }

  /**
   * Other work has ended: a round trip timed beside it measured the phone as much as the link (polls during the
   * quarter-core phone's warm-up read 400 ms on a 10 ms link, and the next five photos were planned with it), so the
   * edge is polled again; and the uplink, if it was only ever probed beside other work, is probed again.
   */
  private afterContention(): void {
    if (this.edgeReachable !== true) return;
    const probe = this.cleanProbeWanted && this.cleanProbesLeft > 0;
    if (!probe && !this.rttContended) return;
    this.rttContended = false;
    if (probe) {
      this.cleanProbeWanted = false;
      this.cleanProbesLeft--;
    }
    void this.poll().then(() => (probe ? this.probe() : undefined));
  }

  /** Age of the newest throughput sample at `nowMs` (Infinity without one). */
  sampleAgeMs(nowMs: number): number {
    let newest = -Infinity;
    for (const t of this.throughput.list) if (t.atMs > newest) newest = t.atMs;
    return nowMs - newest;
  }

  /**
   * Before a request that may go to the edge: when the link estimate is stale (no throughput sample for
   * STALE_SAMPLE_MS), poll and probe now, waiting at most `maxWaitMs` (not on metered links, where a probe costs the
   * user data, nor when the edge is known to be unreachable); when the edge was seen busy since its last status, poll
   * it (a status request is a few hundred bytes, metered or not). Resolves with the time waited.
   */
  async refreshIfStale(maxWaitMs = REFRESH_WAIT_MS): Promise<number> {
    const started = performance.now();
    if (this.edgeReachable === false || !navigator.onLine) return 0;
    const metered = this.connection?.type === 'cellular' || this.connection?.saveData === true;
    let refresh: Promise<unknown>;
    if (metered || this.sampleAgeMs(started) < STALE_SAMPLE_MS) {
      if (!(this.busySeenAtMs > (this.statusAtMs ?? -Infinity))) return 0;
      refresh = this.poll();
    } else {
      // A fresh RTT first (the probe's transfer time is corrected by it), then the probe itself, unless the last
      // probe says the link is too slow for one to finish in time: it would then compete with the request's upload.
      const minRtt = Math.min(...this.rtt.list.map((r) => r.rttMs), Infinity);
      const lastKbps = this.lastProbe ? transferKbps(this.lastProbe, Number.isFinite(minRtt) ? minRtt : 0) : null;
      const probeFits = lastKbps === null || (PROBE_BYTES * 8) / lastKbps < maxWaitMs;
      refresh = this.poll().then(() => (this.edgeReachable && probeFits ? this.probe() : undefined));
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    const deadline = new Promise<void>((resolve) => (timer = setTimeout(resolve, maxWaitMs)));
    await Promise.race([refresh, deadline]);
    clearTimeout(timer);
    return performance.now() - started;
  }

  /** Called before a transfer; the function it returns says, after it, whether other work overlapped it. */
  private contention(): () => boolean {
    const busy = this.contending > 0;
    const starts = this.contendingStarts;
    return () => busy || this.contending > 0 || this.contendingStarts !== starts;
  }

  private sleep(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private async poll(): Promise<void> {
    if (this.polling) return;
    this.polling = true;
    const contended = this.contention();
    try {
      const reply = await edgeStatusTimed();
      const at = performance.now();
      this.rtt.push(rttSample(at, reply.roundTripMs, reply.serverTiming));
      this.rttContended = contended();
      this.status = reply.body;
      this.statusAtMs = at;
      this.edgeReachable = true;
      // A probe asked for while the edge could not be reached (a slow phone's first poll can time out while the page
      // is still starting) runs at the first poll that gets through.
      if (this.probeWanted) {
        this.probeWanted = false;
        void this.probe();
      }
    } catch {
      this.edgeReachable = false;
    } finally {
      this.polling = false;
    }
    this.onChange();
    clearTimeout(this.timer);
    if (document.visibilityState === 'visible' && navigator.onLine) this.timer = setTimeout(() => void this.poll(), POLL_MS);
  }

  /**
   * One upload and one download of PROBE_BYTES, each repeated larger while it went by too fast to measure (not on
   * cellular or Save-Data, nor beside other work, which a larger probe would slow); a probe already under way is shared.
   */
  probe(): Promise<void> {
    this.probing ??= (async () => {
      this.probeState = 'running';
      this.onChange();
      const metered = this.connection?.type === 'cellular' || this.connection?.saveData === true;
      const maxBytes = metered ? PROBE_BYTES : MAX_PROBE_BYTES;
      const minRtt = () => Math.min(...this.rtt.list.map((r) => r.rttMs), Infinity);
      try {
        for (let bytes: number | null = PROBE_BYTES; bytes !== null;) {
          const contended = this.contention();
          const reply = await edgeProbe(bytes);
          const sample = uploadSample(performance.now(), reply.body.bytes, reply.roundTripMs, reply.serverTiming, contended());
          this.throughput.push(sample);
          this.lastProbe = sample;
          bytes = nextProbeBytes(sample, Number.isFinite(minRtt()) ? minRtt() : 0, maxBytes, this.contending > 0);
        }
        for (let bytes: number | null = PROBE_BYTES; bytes !== null;) {
          const contended = this.contention();
          const down = await edgeDownloadProbe(bytes);
          const sample = downloadSample(performance.now(), down.body.bytes, down.roundTripMs, down.serverTiming, contended());
          this.throughput.push(sample);
          this.lastDownProbe = sample;
          bytes = nextProbeBytes(sample, Number.isFinite(minRtt()) ? minRtt() : 0, maxBytes, this.contending > 0);
        }
        // Measured only beside a warm-up or a request: a lower bound, which the planner takes as the rate until the
        // link is measured alone (a 20 Mbit/s uplink probed beside the warm-up read 1 Mbit/s). Probe again once the
        // work ends.
        this.cleanProbeWanted = !hasCleanUpload(this.throughput.list);
        this.probeState = 'done';
      } catch {
        this.probeState = 'failed';
      } finally {
        this.probing = undefined;
        this.onChange();
      }
    })();
    return this.probing;
  }
}
