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

export type EdgeAvailability = 'ok' | 'refused' | 'not-ready' | 'unknown';

export interface QueueEstimate {
  meanMs: number;
  sdMs: number;
}

export class EdgeEstimator {
  readonly failure: Ewma;
  /** Observed queue wait from replies (`server.queue`). */
  readonly queue = new Ewma(0.2, { mean: 0, sd: 5 });
  /** Observed server-side service time of a whole request (total minus queue). */
  readonly service: Ewma;
  refusedUntilMs = -Infinity;
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
    const replies = this.queue;
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
      out.meanMs = 0.7 * fromStatus + 0.3 * replies.mean;
      out.sdMs = Math.max(replies.sd, 0.5 * fromStatus + 2);
    } else {
      out.meanMs = Math.max(0, replies.mean);
      out.sdMs = Math.max(2, replies.sd);
    }
    return out;
  }
}
