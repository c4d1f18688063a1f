/**
 * What the client knows about the edge server: whether it will take a request now, how likely a request is to
 * fail, and how long a request waits in its queue. Built from /v1/status snapshots and from our own replies.
 */
import type { StatusResponse } from '../../protocol/v1';
import { Ewma } from './ewma';

export interface EdgeOptions {
  /** After a refusal (503/429), the edge is left alone this long (LayerCake's "cold" window). */
  refusalCooldownMs: number;
  /** A status snapshot older than this says nothing about the queue. */
  statusFreshMs: number;
  /** Failure probability assumed before any request. */
  priorFailure: number;
}

/** Half-life of a queue wait seen in replies, when no newer reply waits (a server clears its backlog in seconds). */
const QUEUE_HALF_LIFE_MS = 3_000;

export type EdgeAvailability = 'ok' | 'refused' | 'not-ready' | 'unknown';

/**
 * What a refusal said about itself: the server's predicted time to finish the refused request (from its reply), the
 * budget it had left, and when to try again (Retry-After). A refusal that says this much is information about the
 * edge's backlog, not a sign that the edge is failing.
 */
export interface RefusalInfo {
  predictedMs?: number;
  budgetMs?: number;
  retryAfterMs?: number;
  /** 429: this client is over its rate; the edge takes nothing from it until Retry-After. */
  rateLimited?: boolean;
}

export interface QueueEstimate {
  meanMs: number;
  sdMs: number;
}

export class EdgeEstimator {
  readonly failure: Ewma;
  /** Observed queue wait from replies (`server.queue`). */
  readonly queue = new Ewma(0.2, { mean: 0, sd: 5 });
  /** When the newest reply's queue wait was seen. */
  queueAtMs = -Infinity;
  /** Observed server-side service time of a whole request (total minus queue). */
  readonly service: Ewma;
  refusedUntilMs = -Infinity;
  /** Backlog a refusal reported: extra wait `backlogMs` at `backlogAtMs`, draining in real time until `backlogUntilMs`. */
  backlogMs = 0;
  backlogAtMs = -Infinity;
  backlogUntilMs = -Infinity;
  status: StatusResponse | null = null;
  statusAtMs = -Infinity;

  constructor(
    readonly options: EdgeOptions,
    serviceSeedMs: number,
  ) {
    this.failure = new Ewma(0.1, { mean: options.priorFailure, sd: 0 }, false);
    this.service = new Ewma(0.2, { mean: serviceSeedMs, sd: serviceSeedMs * 0.3 });
  }

  ingestStatus(status: StatusResponse, atMs: number): void {
    if (atMs < this.statusAtMs) return;
    this.status = status;
    this.statusAtMs = atMs;
  }

  refused(atMs: number): void {
    const until = atMs + this.options.refusalCooldownMs;
    if (until > this.refusedUntilMs) this.refusedUntilMs = until;
  }

  /**
   * A refusal that carried its reasons (predicted_ms, Retry-After): the edge is busy for that long, so requests sent
   * before then wait for it; the edge stays eligible and its failure rate is untouched. `serviceMs` is what the
   * refused request itself was predicted to need on the edge: the rest of the server's prediction is backlog.
   * A rate limit still blocks the edge until Retry-After; a refusal that says nothing keeps the generic cool-down.
   * Returns whether the refusal was taken as information (false: it blocks the edge).
   */
  refusedWith(atMs: number, info: RefusalInfo | undefined, serviceMs: number): boolean {
    const retry = info?.retryAfterMs !== undefined && info.retryAfterMs > 0 ? info.retryAfterMs : undefined;
    if (info === undefined || (info.predictedMs === undefined && retry === undefined)) {
      this.refused(atMs);
      return false;
    }
    if (info.rateLimited) {
      const until = atMs + (retry ?? this.options.refusalCooldownMs);
      if (until > this.refusedUntilMs) this.refusedUntilMs = until;
      return false;
    }
    // Over budget on its own (the request is bigger than the edge can do in time) or behind others: what exceeds
    // the request's own service time is the queue ahead of it. Without a prediction, the edge is busy until Retry-After.
    const backlog = info.predictedMs !== undefined ? Math.max(0, info.predictedMs - Math.max(0, serviceMs)) : (retry ?? 0);
    const until = atMs + Math.max(retry ?? 0, backlog);
    if (atMs >= this.backlogAtMs) {
      this.backlogMs = backlog;
      this.backlogAtMs = atMs;
      this.backlogUntilMs = until;
    }
    return true;
  }

  /** Wait still ahead of a request sent at `nowMs` from the last informed refusal (0 once it has drained). */
  backlogWait(nowMs: number): number {
    if (nowMs >= this.backlogUntilMs) return 0;
    const left = this.backlogMs - Math.max(0, nowMs - this.backlogAtMs);
    return left > 0 ? left : 0;
  }

  /** The queue wait one reply reported, at `atMs`. */
  addQueue(ms: number, atMs: number): void {
    this.queue.add(ms);
    if (atMs > this.queueAtMs) this.queueAtMs = atMs;
  }

  /**
   * How much of the waits seen in replies is still ahead now: a wait seen in a reply was work ahead of it, and that
   * work is done by the time the reply arrives; unless newer replies wait too, the queue they saw drains.
   */
  private undrained(nowMs: number): number {
    return Math.pow(0.5, Math.max(0, nowMs - this.queueAtMs) / QUEUE_HALF_LIFE_MS);
  }

  /** Outcome of one request that reached (or tried to reach) the edge. */
  outcome(ok: boolean): void {
    this.failure.add(ok ? 0 : 1);
  }

  failureProbability(): number {
    const p = this.failure.mean;
    return p < 0 ? 0 : p > 1 ? 1 : p;
  }

  /** `models` are manifest names the plan needs loaded on the edge. */
  availability(nowMs: number, models: readonly string[]): EdgeAvailability {
    if (nowMs < this.refusedUntilMs) return 'refused';
    const s = this.status;
    if (s === null) return 'unknown';
    for (const name of models) {
      const m = s.models.find((x) => x.name === name);
      if (m !== undefined && m.state !== 'ready') return 'not-ready';
    }
    return 'ok';
  }

  /** Queue wait for a request sent now: from a fresh status snapshot, else from recent replies. */
  queueWait(nowMs: number, out: QueueEstimate): QueueEstimate {
    const s = this.status;
    const left = this.undrained(nowMs);
    const repliedMean = Math.max(0, this.queue.mean) * left;
    const repliedSd = this.queue.sd * left;
    if (s !== null && nowMs - this.statusAtMs <= this.options.statusFreshMs) {
      const workers = Math.max(1, s.pool.workers);
      const service = Math.max(1, this.service.mean);
      // Requests ahead of us, spread over the workers; a full pool adds half a service time on average.
      const ahead = s.pool.queued / workers;
      const full = s.pool.busy >= workers ? 0.5 : 0;
      // A server that admits whole requests knows better: it also counts those still uploading or decoding, with its
      // own calibrated estimates of their remaining work.
      const fromStatus = s.ocr ? s.ocr.predictedWaitMs : (ahead + full) * service;
      // The snapshot is a moment; blend with what replies have actually waited.
      // Replies older than the snapshot describe a queue the snapshot has already seen (or seen gone).
      const replied = this.queueAtMs > this.statusAtMs ? repliedMean : Math.min(fromStatus, repliedMean);
      out.meanMs = 0.7 * fromStatus + 0.3 * replied;
      out.sdMs = Math.max(repliedSd, 0.5 * fromStatus + 2);
    } else {
      out.meanMs = repliedMean;
      out.sdMs = Math.max(2, repliedSd);
    }
    // A refusal's reported backlog is newer than any snapshot taken before it: the wait is at least that.
    const backlog = this.backlogWait(nowMs);
    if (backlog > out.meanMs && (this.backlogAtMs >= this.statusAtMs || nowMs - this.statusAtMs > this.options.statusFreshMs)) {
      out.sdMs = Math.max(out.sdMs, 0.25 * backlog);
      out.meanMs = backlog;
    }
    return out;
  }
}
