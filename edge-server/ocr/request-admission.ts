/**
 * Admission of whole multi-stage requests (/v1/ocr): a request is admitted on arrival, before its body is read, only
 * if EDF over everything admitted so far still meets every deadline with it (edf.ts admitSchedulable), and it counts
 * as work in progress from that moment until its reply. Execution times are measured here per request kind over the
 * whole request from the end of its body, queue waits excluded: how long a body takes to arrive is the client's link,
 * not this server's work (a receipt that crawled up a cellular link taught a server that was idle to refuse a small
 * street photo as a 3.6 s job).
 *
 * A kind is a path from coarse to fine, its levels joined by `@`: the options (detector side, classifier), then the
 * photo's shape (portrait, landscape, square), then its exact size class. Each finished request teaches every level
 * of its path, and an estimate comes from the finest level with enough measurements: receipts and street scenes at
 * the same detector side differ five-fold in cost, their shapes tell them apart before the body is read (when the
 * client declares the size), and their sizes after decoding.
 *
 * The schedule treats the workers as the only shared resource, but decoding, the pipeline's CPU stages, the HTTP
 * thread and anything else on the machine take the same cores: the more requests are in progress, the slower each
 * runs, so predictions made on execution times alone come out short exactly under overload. Every admitted request
 * therefore reports its real response time against the one predicted when it was admitted, and the admission test
 * scales its estimates by a high percentile of that ratio: the server learns how far to trust its own schedule.
 */
import { percentile } from '../runtime/latency';
import { admitSchedulable, edfCompare, retryAfterSeconds, type InProgress } from '../scheduler/edf';

const WINDOW = 50;
/** A kind is trusted on its own after this many measurements; before that the recent p90 over all kinds applies. */
const MIN_SAMPLES = 3;
/** Response-time ratios kept (at most this many, none older than RATIO_MAX_AGE_MS), the percentile of them that
 * admission plans for, and the range of the scale. */
const RATIO_WINDOW = 100;
const RATIO_MAX_AGE_MS = 15_000;
const RATIO_PERCENTILE = 0.95;
const MIN_RATIOS = 5;
const SCALE_RANGE: [number, number] = [1, 8];

export interface Ticket extends InProgress {
  kind: string | null;
  /** The kind it was admitted as (before refining); measured times teach both. */
  baseKind: string | null;
  /** Response time predicted at admission by the schedule alone (before calibration); null without a budget. */
  predictedRawMs: number | null;
  /** Service it has had so far, as the schedule apportions the servers among the requests in progress. */
  servedMs: number;
  /** No other request was in progress at any time during this one: its time is what an idle server takes. */
  alone: boolean;
  /** Its body is still arriving: no server works on it yet. */
  reading: boolean;
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
  /** The scale before there is evidence (default 1.5: under overload this server's schedule came out 1.4–1.6 times short). */
  priorScale?: number;
  now?: () => number;
}

export class RequestAdmission {
  private readonly inProgress = new Set<Ticket>();
  private readonly byKind = new Map<string, number[]>();
  private readonly recent: number[] = [];
  /** The same, for requests that ran alone: what an idle server is judged on. */
  private readonly aloneByKind = new Map<string, number[]>();
  private readonly aloneRecent: number[] = [];
  /** Measured response time ÷ predicted (uncalibrated), per admitted request with a budget, oldest first. */
  private readonly ratios: Array<{ at: number; ratio: number }> = [];
  private seq = 0;
  private advancedTo = -Infinity;
  private readonly now: () => number;
  private readonly marginMs: number;
  private readonly marginShare: number;
  private readonly priorScale: number;

  constructor(private readonly opts: AdmissionOptions) {
    this.now = opts.now ?? (() => performance.now());
    this.marginMs = opts.marginMs ?? 10;
    this.marginShare = opts.marginShare ?? 0.1;
    this.priorScale = opts.priorScale ?? 1.5;
  }

  get active(): number {
    return this.inProgress.size;
  }

  /**
   * Execution estimate for a kind (null = not known yet): its recent p90 while requests are in progress. An idle
   * server is judged on requests that ran alone (their p50): times measured in a burst include every other request's
   * decoding and pipeline work on the same cores, and after a burst of requests without a budget an idle server
   * otherwise predicted 4.6 s for a 0.3 s request and refused every budgeted one, learning nothing since it admitted
   * none. With no lone run measured yet, an idle server is optimistic (0) and the request it admits teaches it; so it
   * is for a photo of a shape it has not read alone yet: the other shapes' times say nothing about it (a receipt's
   * 2.7 s refused street scenes the server then read in 0.3 s).
   */
  estimate(kind: string | null, alone = this.inProgress.size === 0): number {
    if (alone) return percentile(this.samples(this.aloneByKind, kind, 1) ?? (kindLevels(kind).length > 1 ? [] : this.aloneRecent), 0.5);
    return percentile(this.samples(this.byKind, kind, MIN_SAMPLES) ?? this.recent, 0.9);
  }

  /**
   * The measurements of the finest level of `kind` that has at least `min` of them (null: none has). A kind with a
   * shape is judged on its shape or finer: its options alone pool the shapes.
   */
  private samples(byKind: Map<string, number[]>, kind: string | null, min: number): number[] | null {
    const levels = kindLevels(kind);
    for (let i = levels.length - 1; i >= Math.min(1, levels.length - 1); i--) {
      const own = byKind.get(levels[i]);
      if (own && own.length >= min) return own;
    }
    return null;
  }

  /**
   * Admits a request arriving now with `deadline` (absolute; Infinity = no budget, always admitted), or returns the
   * refusal. `extraWaitMs` is wait known from elsewhere (runs of other clients already queued for the workers).
   * `reading`: its body is still to arrive, so no server works on it until `refine` (called once it is decoded).
   */
  admit(deadline: number, kind: string | null = null, extraWaitMs = 0, reading = false): Ticket | Refusal {
    const now = this.now();
    this.advance(now);
    const ticket: Ticket = {
      deadline,
      estimateMs: this.estimate(kind),
      seq: this.seq++,
      startedAt: now,
      kind,
      baseKind: kind,
      predictedRawMs: null,
      servedMs: 0,
      alone: this.inProgress.size === 0,
      reading,
    };
    if (deadline !== Infinity) {
      const outcome = this.test(ticket, now, extraWaitMs);
      if ('retryAfterS' in outcome) return outcome;
      ticket.predictedRawMs = outcome.predictedRawMs;
    }
    for (const other of this.inProgress) other.alone = false;
    this.inProgress.add(ticket);
    return ticket;
  }

  /**
   * Re-checks an admitted request once its kind is known (e.g. the image size, after decoding: its body is in, and the
   * servers' time now goes to it), but only when that
   * kind costs clearly more (over `tolerance` times) than it was admitted on: a second test moments later would
   * otherwise turn admissions into late refusals on noise alone. On refusal the request is released.
   */
  refine(ticket: Ticket, kind: string, extraWaitMs = 0, tolerance = 1.25): Refusal | null {
    const now = this.now();
    this.advance(now);
    ticket.kind = kind;
    ticket.reading = false;
    // Alone on the server, it is judged as an idle server judges: a burst's times would refuse it on others' work.
    const alone = this.inProgress.size === 1;
    // Only on evidence about this kind itself: the mix over all kinds says nothing about this request.
    const evidence = alone ? this.samples(this.aloneByKind, kind, 1) : this.samples(this.byKind, kind, MIN_SAMPLES);
    if (ticket.deadline === Infinity || evidence === null) return null;
    const estimate = this.estimate(kind, alone);
    if (estimate <= ticket.estimateMs * tolerance) return null;
    ticket.estimateMs = estimate;
    this.inProgress.delete(ticket);
    const outcome = this.test(ticket, now, extraWaitMs);
    if ('retryAfterS' in outcome) return outcome;
    ticket.predictedRawMs = now - ticket.startedAt + outcome.predictedRawMs;
    this.inProgress.add(ticket);
    return null;
  }

  /**
   * The request is answered; `executionMs` (its time minus queue waits) is recorded when it completed normally, and
   * `responseMs` (arrival to answer) when it either completed or ran out of time, to calibrate the predictions.
   */
  release(ticket: Ticket, executionMs?: number, responseMs?: number): void {
    this.advance(this.now());
    this.inProgress.delete(ticket);
    if (responseMs !== undefined && ticket.predictedRawMs !== null && ticket.predictedRawMs > 0) {
      this.ratios.push({ at: this.now(), ratio: responseMs / ticket.predictedRawMs });
      if (this.ratios.length > RATIO_WINDOW) this.ratios.shift();
    }
    if (executionMs === undefined) return;
    const kinds = [...new Set([...kindLevels(ticket.kind), ...kindLevels(ticket.baseKind)])];
    record(this.byKind, this.recent, kinds, executionMs);
    if (ticket.alone) record(this.aloneByKind, this.aloneRecent, kinds, executionMs);
  }

  /**
   * The factor admission multiplies its estimates by while requests are in progress: the 95th percentile of measured
   * ÷ predicted response times of the last 15 s, never below 1 (estimates are already a high percentile of
   * execution) and at most 8; `priorScale` until five requests have been measured, so that the first burst of an overload is
   * not admitted on an unproven schedule. A request arriving at an idle server is judged on its estimate alone, so that a
   * server that once fell behind does not refuse forever on old evidence (it learns only from requests it admits).
   */
  calibration(): number {
    const now = this.now();
    while (this.ratios.length > 0 && now - this.ratios[0].at > RATIO_MAX_AGE_MS) this.ratios.shift();
    if (this.ratios.length < MIN_RATIOS) return this.priorScale;
    const p = percentile(
      this.ratios.map((r) => r.ratio),
      RATIO_PERCENTILE,
    );
    return Math.min(SCALE_RANGE[1], Math.max(SCALE_RANGE[0], p));
  }

  /**
   * Predicted wait before a request arriving now would be through the requests in progress that EDF serves first:
   * all of them for one without budget (the default); with `withBudget`, those with a budget only, as a request
   * that brings any budget goes ahead of those without one.
   */
  predictedWaitMs(withBudget = false): number {
    const now = this.now();
    this.advance(now);
    const candidate = { deadline: withBudget ? Number.MAX_VALUE : Infinity, estimateMs: 0, seq: Number.MAX_SAFE_INTEGER };
    return admitSchedulable(now, this.opts.servers(), this.remaining(now, this.calibration()), candidate).predictedMs;
  }

  /**
   * Apportions the servers' time since the last call among the requests in progress as EDF would: earliest deadline
   * first, each at most the elapsed time (it runs on one server at a time) and at most what its estimate still needs
   * (McNaughton's wrap-around, so a server that finishes one request goes on with the next). Requests admitted beyond
   * the servers have not started yet, so their whole estimate is still ahead of them.
   */
  private advance(now: number): void {
    const dt = now - this.advancedTo;
    this.advancedTo = now;
    if (!(dt > 0) || this.inProgress.size === 0) return;
    let capacity = this.opts.servers() * dt;
    for (const r of [...this.inProgress].sort(edfCompare)) {
      if (capacity <= 0) break;
      if (r.deadline < now || r.reading) continue;
      const give = Math.min(dt, capacity, Math.max(0, r.estimateMs - r.servedMs));
      r.servedMs += give;
      capacity -= give;
    }
  }

  /**
   * Requests in progress with their remaining work at scale `k`; one past its estimate keeps a tenth of it. One past
   * its deadline has none: the pipeline answers it at its deadline and runs nothing more for it, and an upload that
   * is still arriving is refused when it reaches the pipeline.
   */
  private remaining(now: number, k: number): InProgress[] {
    return [...this.inProgress].map((r) => ({ deadline: r.deadline, seq: r.seq, startedAt: now, estimateMs: r.deadline < now ? 0 : remainingOf(r, k) }));
  }

  private test(ticket: Ticket, now: number, extraWaitMs: number): Refusal | { predictedRawMs: number } {
    const budgetMs = ticket.deadline - now;
    const margin = this.marginMs + this.marginShare * budgetMs;
    const servers = this.opts.servers();
    const schedule = (k: number) => {
      const candidate = { deadline: ticket.deadline - margin, seq: ticket.seq, estimateMs: remainingOf(ticket, k) };
      const v = admitSchedulable(now, servers, this.remaining(now, k), candidate);
      return { ok: v.ok, predictedMs: Math.max(v.predictedMs, extraWaitMs * k + candidate.estimateMs) };
    };
    const raw = schedule(1);
    const k = this.inProgress.size === 0 ? 1 : this.calibration();
    const v = k === 1 ? raw : schedule(k);
    if (v.ok && v.predictedMs <= budgetMs - margin) return { predictedRawMs: raw.predictedMs };
    return { predictedMs: v.predictedMs, budgetMs, retryAfterS: retryAfterSeconds(this.predictedWaitMs()) };
  }
}

function remainingOf(r: Ticket, k: number): number {
  const work = r.estimateMs * k;
  return Math.max(work * 0.1, work - r.servedMs);
}

/** The levels of a kind, coarse to fine: `a@b@c` is `a`, `a@b`, `a@b@c`. */
export function kindLevels(kind: string | null): string[] {
  if (kind === null) return [];
  const parts = kind.split(KIND_LEVEL);
  return parts.map((_, i) => parts.slice(0, i + 1).join(KIND_LEVEL));
}

/** Joins the levels of a kind. */
export const KIND_LEVEL = '@';

export function isRefusal(r: Ticket | Refusal): r is Refusal {
  return 'retryAfterS' in r;
}

function record(byKind: Map<string, number[]>, recent: number[], kinds: string[], ms: number): void {
  push(recent, ms);
  for (const kind of kinds) {
    let list = byKind.get(kind);
    if (!list) {
      if (byKind.size >= 64) byKind.delete(byKind.keys().next().value!);
      byKind.set(kind, (list = []));
    }
    push(list, ms);
  }
}

function push(list: number[], ms: number): void {
  list.push(ms);
  if (list.length > WINDOW) list.shift();
}
