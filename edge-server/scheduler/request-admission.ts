/**
 * Admission of whole multi-stage requests (/v1/ocr): a request is admitted on arrival, before its body is read, only
 * if EDF over everything admitted so far still meets every deadline with it (edf.ts admitSchedulable), and it counts
 * as work in progress from that moment until its reply, body reading and decoding included. Execution times are
 * measured here per request kind (image size class and options) over the whole request, queue waits excluded.
 */
import { percentile } from '../runtime/latency';
import { admitSchedulable, retryAfterSeconds, type InProgress } from './edf';

const WINDOW = 50;
/** A kind is trusted on its own after this many measurements; before that the recent p90 over all kinds applies. */
const MIN_SAMPLES = 3;

export interface Ticket extends InProgress {
  kind: string | null;
  /** The kind it was admitted as (before refining); measured times teach both. */
  baseKind: string | null;
}

export interface Refusal {
  predictedMs: number;
  budgetMs: number;
  retryAfterS: number;
}

export interface AdmissionOptions {
  /** Parallel servers the requests share (inference workers). */
  servers: () => number;
  /** Kept free at the end of every budget for the reply to reach the client: fixed part and share of the budget. */
  marginMs?: number;
  marginShare?: number;
  now?: () => number;
}

export class RequestAdmission {
  private readonly inProgress = new Set<Ticket>();
  private readonly byKind = new Map<string, number[]>();
  private readonly recent: number[] = [];
  private seq = 0;
  private readonly now: () => number;
  private readonly marginMs: number;
  private readonly marginShare: number;

  constructor(private readonly opts: AdmissionOptions) {
    this.now = opts.now ?? (() => performance.now());
    this.marginMs = opts.marginMs ?? 10;
    this.marginShare = opts.marginShare ?? 0.1;
  }

  get active(): number { return this.inProgress.size; }

  /**
   * Execution estimate for a kind (null = not known yet): its recent p90; with nothing in progress the p50, so that an
   * idle server tries again after a slow spell instead of refusing forever on stale figures.
   */
  estimate(kind: string | null): number {
    const samples = kind !== null && (this.byKind.get(kind)?.length ?? 0) >= MIN_SAMPLES ? this.byKind.get(kind)! : this.recent;
    return percentile(samples, this.inProgress.size === 0 ? 0.5 : 0.9);
  }

  /**
   * Admits a request arriving now with `deadline` (absolute; Infinity = no budget, always admitted), or returns the
   * refusal. `extraWaitMs` is wait known from elsewhere (runs of other clients already queued for the workers).
   */
  admit(deadline: number, kind: string | null = null, extraWaitMs = 0): Ticket | Refusal {
    const now = this.now();
    const ticket: Ticket = { deadline, estimateMs: this.estimate(kind), seq: this.seq++, startedAt: now, kind, baseKind: kind };
    if (deadline !== Infinity) {
      const refusal = this.test(ticket, now, extraWaitMs);
      if (refusal) return refusal;
    }
    this.inProgress.add(ticket);
    return ticket;
  }

  /**
   * Re-checks an admitted request once its kind is known (e.g. the image size, after decoding), but only when that
   * kind costs clearly more (over `tolerance` times) than it was admitted on: a second test moments later would
   * otherwise turn admissions into late refusals on noise alone. On refusal the request is released.
   */
  refine(ticket: Ticket, kind: string, extraWaitMs = 0, tolerance = 1.25): Refusal | null {
    const now = this.now();
    ticket.kind = kind;
    // Only on evidence about this kind itself: the mix over all kinds says nothing about this request.
    if (ticket.deadline === Infinity || (this.byKind.get(kind)?.length ?? 0) < MIN_SAMPLES) return null;
    const estimate = this.estimate(kind);
    if (estimate <= ticket.estimateMs * tolerance) return null;
    ticket.estimateMs = Math.max(0, estimate - (now - ticket.startedAt));
    this.inProgress.delete(ticket);
    const refusal = this.test({ ...ticket, startedAt: now }, now, extraWaitMs);
    if (refusal) return refusal;
    ticket.estimateMs += now - ticket.startedAt;
    this.inProgress.add(ticket);
    return null;
  }

  /** The request is answered; `executionMs` (its time minus queue waits) is recorded when it completed normally. */
  release(ticket: Ticket, executionMs?: number): void {
    this.inProgress.delete(ticket);
    if (executionMs === undefined) return;
    push(this.recent, executionMs);
    for (const kind of new Set([ticket.kind, ticket.baseKind])) {
      if (kind === null) continue;
      let list = this.byKind.get(kind);
      if (!list) {
        if (this.byKind.size >= 64) this.byKind.delete(this.byKind.keys().next().value!);
        this.byKind.set(kind, (list = []));
      }
      push(list, executionMs);
    }
  }

  /** Predicted wait before a request arriving now without budget would be through the requests in progress. */
  predictedWaitMs(): number {
    const now = this.now();
    const v = admitSchedulable(now, this.opts.servers(), this.inProgress, { deadline: Infinity, estimateMs: 0, seq: -1 });
    return v.predictedMs;
  }

  private test(ticket: Ticket, now: number, extraWaitMs: number): Refusal | null {
    const budgetMs = ticket.deadline - now;
    const margin = this.marginMs + this.marginShare * budgetMs;
    const v = admitSchedulable(now, this.opts.servers(), this.inProgress, { ...ticket, deadline: ticket.deadline - margin });
    const predictedMs = Math.max(v.predictedMs, extraWaitMs + ticket.estimateMs);
    if (v.ok && predictedMs <= budgetMs - margin) return null;
    return { predictedMs, budgetMs, retryAfterS: retryAfterSeconds(this.predictedWaitMs()) };
  }
}

export function isRefusal(r: Ticket | Refusal): r is Refusal {
  return 'retryAfterS' in r;
}

function push(list: number[], ms: number): void {
  list.push(ms);
  if (list.length > WINDOW) list.shift();
}
