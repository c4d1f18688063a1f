/**
 * Admission of POST /v1/ocr on arrival, before the body is read: a request with a budget is refused at once
 * (503 DeadlineUnmeetable) unless, with it, every admitted request still meets its deadline (request-admission.ts).
 * An admitted request counts as work in progress until its reply; its measured time (total minus queue waits, from
 * its own Server-Timing) teaches the estimates.
 */
import type { MiddlewareHandler } from 'hono';
import { ACCEPT_HEADER, ACCEPT_QUERY, CONFIG_HEADER, parseOcrConfig, parseOcrAccept } from '../../core/protocol/accept';
import { BUDGET_HEADER } from '../../core/protocol/v1';
import { DeadlineError, ServerError } from '../errors';
import type { WeightedGate } from '../limits/weighted-gate';
import type { InferenceRunner } from '../runtime/scheduled-runner';
import { isRefusal, RequestAdmission, type Ticket } from './request-admission';

/** Admitted requests by their Request object, so the route can refine the admission once it knows the image size. */
const tickets = new WeakMap<Request, { admission: RequestAdmission; ticket: Ticket; pool: InferenceRunner }>();

/**
 * Once the image is decoded: refuses (DeadlineError) a request admitted on arrival whose image size costs clearly
 * more than it was admitted on. Returns whether the request went through arrival admission with a budget, so the
 * route need not test it again.
 */
export function refineAdmission(request: Request, size: string): boolean {
  const entry = tickets.get(request);
  if (!entry || entry.ticket.deadline === Infinity) return false;
  const { admission, ticket, pool } = entry;
  const refusal = admission.refine(ticket, `${ticket.baseKind}@${size}`, pool.predictedWaitFor(ticket.deadline));
  if (refusal) {
    tickets.delete(request);
    throw new DeadlineError(refusal.predictedMs, refusal.budgetMs, refusal.retryAfterS);
  }
  return true;
}

/** Plain decimal milliseconds (exponent allowed: 3e9); "12abc", hex, signs, Infinity and NaN are refused. */
const BUDGET_SYNTAX = /^\d+(?:\.\d+)?(?:[eE]\+?\d+)?$/;

/** The budget header in milliseconds, null when absent; anything but a finite non-negative number is 400. */
export function parseBudget(raw: string | undefined): number | null {
  if (raw === undefined) return null;
  const ms = Number(raw.trim());
  if (!BUDGET_SYNTAX.test(raw.trim()) || !Number.isFinite(ms)) {
    throw new ServerError('BadRequest', `${BUDGET_HEADER}: ${JSON.stringify(raw)} must be a non-negative number of milliseconds`);
  }
  return ms;
}

/**
 * `unbudgeted` bounds the requests without a budget in progress at once: they queue behind every budgeted one and
 * nothing else limits how many pile up (past it: 503 Overloaded with Retry-After).
 */
export function wholeRequestAdmission(pool: InferenceRunner, unbudgeted: WeightedGate): { middleware: MiddlewareHandler; admission: RequestAdmission } {
  const admission = new RequestAdmission({ servers: () => Math.max(1, pool.status().pool.workers) });
  const middleware: MiddlewareHandler = async (c, next) => {
    if (c.req.method !== 'POST') return next();
    const t0 = performance.now();
    const budget = parseBudget(c.req.header(BUDGET_HEADER));
    const deadline = budget === null ? Infinity : t0 + budget;
    const leave = deadline === Infinity ? await unbudgeted.acquire(1) : null;
    try {
      await admitAndRun(deadline, t0, c, next);
    } finally {
      leave?.();
    }
  };
  const admitAndRun = async (deadline: number, t0: number, c: Parameters<MiddlewareHandler>[0], next: () => Promise<void>) => {
    // Requests differ in cost by their options; the image size is not known before decoding.
    // A request accepting several detector sides is judged on the smallest (the route picks among them after decoding)
    // and teaches the estimate of the side that ran.
    const sides = acceptedSides(c.req.header(ACCEPT_HEADER) ?? c.req.query(ACCEPT_QUERY));
    const kind = `${sides ? Math.min(...sides) : c.req.query('maxSide') ?? '-'}/${c.req.query('cls') ?? '-'}`;
    const extraWait = deadline === Infinity ? 0 : pool.predictedWaitFor(deadline, t0);
    const ticket = admission.admit(deadline, kind, extraWait);
    if (isRefusal(ticket)) throw new DeadlineError(ticket.predictedMs, ticket.budgetMs, ticket.retryAfterS);
    tickets.set(c.req.raw, { admission, ticket, pool });
    let executionMs: number | undefined;
    let responseMs: number | undefined;
    try {
      await next();
      if (c.res.status === 200) {
        const ran = c.res.headers.get(CONFIG_HEADER);
        if (sides && ran) ticket.kind = `${parseOcrConfig(ran).maxSide}/${c.req.query('cls') ?? '-'}`;
        const queue = Number(/queue;dur=([\d.]+)/.exec(c.res.headers.get('Server-Timing') ?? '')?.[1] ?? 0);
        executionMs = performance.now() - t0 - queue;
        responseMs = performance.now() - t0;
      } else if (c.error?.name === 'DeadlineUnmeetable' && tickets.has(c.req.raw)) {
        // Ran out of time after admission (dropped from a queue, or still in the pipeline at its deadline): at least
        // this long, which is what calibration needs to learn. Refusals once the image size was known are not counted.
        responseMs = performance.now() - t0;
      }
    } finally {
      tickets.delete(c.req.raw);
      admission.release(ticket, executionMs, responseMs);
    }
  };
  return { middleware, admission };
}

/** The detector sides an accept list names (malformed lists are the route's to reject). */
function acceptedSides(raw: string | undefined): number[] | null {
  if (raw === undefined) return null;
  try {
    return parseOcrAccept(raw).maxSide ?? null;
  } catch {
    return null;
  }
}
