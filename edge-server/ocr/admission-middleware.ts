/**
 * Admission of POST /v1/ocr on arrival, before the body is read: a request with a budget is refused at once
 * (503 DeadlineUnmeetable) unless, with it, every admitted request still meets its deadline (request-admission.ts).
 * An admitted request counts as work in progress until its reply; its measured time (total minus the queue waits the
 * route reports through the typed context) teaches the estimates. The parsed budget and accept list travel to the route
 * the same way (OcrEnv).
 */
import type { MiddlewareHandler } from 'hono';
import { ACCEPT_QUERY, parseOcrAccept, type OcrAccept } from '../../core/protocol/accept';
import { ACCEPT_HEADER, BUDGET_HEADER, IMAGE_SIZE_HEADER, LATE_ANSWER_HEADER, LATE_ANSWER_WANTED, parseImageSize } from '../../core/protocol/headers';
import { shapeOf } from '../../core/placement/estimators/lines';
import { DeadlineError, ServerError } from '../http/errors';
import type { WeightedGate } from '../limits/weighted-gate';
import type { InferenceRunner } from '../runtime/scheduled-runner';
import { sizeBucket } from '../runtime/latency';
import { isRefusal, KIND_LEVEL, RequestAdmission } from './request-admission';

/** What the admission middleware hands the /v1/ocr route (Hono context variable `admission`). */
export interface OcrAdmitted {
  /** performance.now() on arrival; the budget counts from here. */
  t0: number;
  /** The budget header in milliseconds, null without one. */
  budgetMs: number | null;
  /** t0 + budget; Infinity without a budget. */
  deadline: number;
  /** The client still wants the answer past its deadline (LATE_ANSWER_HEADER): the request is finished, not dropped. */
  lateWanted: boolean;
  /** The accepted configurations, parsed once; null when the request lists none. */
  accept: OcrAccept | null;
  /** A malformed accept list, for the route to answer (after its own checks of the request). */
  acceptError: ServerError | null;
  /**
   * Once the image is decoded: refuses (DeadlineError) a request admitted on arrival whose image size costs clearly
   * more than it was admitted on. Returns whether the request went through arrival admission with a budget, so the
   * route need not test it again.
   */
  refine(width: number, height: number): boolean;
}

/** What the route tells the middleware once it has answered: the detector side that ran and its model runs' queueing. */
export interface OcrRan {
  maxSide: number;
  queueMs: number;
  /** Detection ran again at a larger side (ESCALATE_HEADER): its time is no sample of either side's. */
  escalated?: boolean;
}

export interface OcrEnv {
  /** `bodyReadMs`: from the request's arrival to its body's last byte (set by the route once the body is in). */
  Variables: { admission: OcrAdmitted; ran: OcrRan; bodyReadMs: number };
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

function parseLateAnswer(raw: string | undefined): boolean {
  if (raw === undefined) return false;
  if (raw.trim().toLowerCase() === LATE_ANSWER_WANTED) return true;
  throw new ServerError('BadRequest', `${LATE_ANSWER_HEADER}: ${JSON.stringify(raw)} must be "${LATE_ANSWER_WANTED}" (or left out)`);
}

/**
 * `unbudgeted` bounds the requests without a budget in progress at once: they queue behind every budgeted one and
 * nothing else limits how many pile up (past it: 503 Overloaded with Retry-After).
 */
export function wholeRequestAdmission(pool: InferenceRunner, unbudgeted: WeightedGate): { middleware: MiddlewareHandler<OcrEnv>; admission: RequestAdmission } {
  const admission = new RequestAdmission({ servers: () => Math.max(1, pool.status().pool.workers) });
  const middleware: MiddlewareHandler<OcrEnv> = async (c, next) => {
    const t0 = performance.now();
    const budgetMs = parseBudget(c.req.header(BUDGET_HEADER));
    const lateWanted = parseLateAnswer(c.req.header(LATE_ANSWER_HEADER));
    const deadline = budgetMs === null ? Infinity : t0 + budgetMs;
    const leave = deadline === Infinity ? await unbudgeted.acquire(1) : null;
    try {
      await admitAndRun(budgetMs, deadline, lateWanted, t0, c, next);
    } finally {
      leave?.();
    }
  };
  const admitAndRun = async (
    budgetMs: number | null,
    deadline: number,
    lateWanted: boolean,
    t0: number,
    c: Parameters<MiddlewareHandler<OcrEnv>>[0],
    next: () => Promise<void>,
  ) => {
    const { accept, acceptError } = parseAccept(c.req.header(ACCEPT_HEADER) ?? c.req.query(ACCEPT_QUERY));
    // Requests differ in cost by their options; the image size is not known before decoding.
    // A request accepting several detector sides is judged on the smallest (the route picks among them after decoding)
    // and teaches the estimate of the side that ran.
    const sides = accept?.maxSide ?? null;
    const cls = c.req.query('cls') ?? '-';
    const options = `${sides ? Math.min(...sides) : (c.req.query('maxSide') ?? '-')}/${cls}`;
    const declared = parseImageSize(c.req.header(IMAGE_SIZE_HEADER));
    if (declared === undefined) throw new ServerError('BadRequest', `${IMAGE_SIZE_HEADER} must be WIDTHxHEIGHT in pixels (e.g. 1280x720)`);
    const kind = declared ? [options, shapeKind(declared.width, declared.height)].join(KIND_LEVEL) : options;
    const extraWait = deadline === Infinity ? 0 : pool.predictedWaitFor(deadline, t0);
    const ticket = admission.admit(deadline, kind, extraWait, true);
    if (isRefusal(ticket)) throw new DeadlineError(ticket.predictedMs, ticket.budgetMs, ticket.retryAfterS);
    // Refusals once the image size was known are not counted in calibration.
    let refusedOnSize = false;
    c.set('admission', {
      t0,
      budgetMs,
      deadline,
      lateWanted,
      accept,
      acceptError,
      refine(width, height) {
        const exact = [options, shapeKind(width, height), sizeBucket([height, width])].join(KIND_LEVEL);
        const refusal = admission.refine(ticket, exact, ticket.deadline === Infinity ? 0 : pool.predictedWaitFor(ticket.deadline));
        if (ticket.deadline === Infinity) return false;
        if (refusal) {
          refusedOnSize = true;
          throw new DeadlineError(refusal.predictedMs, refusal.budgetMs, refusal.retryAfterS);
        }
        return true;
      },
    });
    let executionMs: number | undefined;
    let responseMs: number | undefined;
    try {
      await next();
      const ran = c.get('ran');
      // Measured from the body's end: its arrival is the client's link (and a refusal before it arrived has none).
      const since = t0 + (c.get('bodyReadMs') ?? 0);
      if (c.res.status === 200 && ran && !ran.escalated) {
        if (sides && ticket.kind !== null) ticket.kind = [`${ran.maxSide}/${cls}`, ...ticket.kind.split(KIND_LEVEL).slice(1)].join(KIND_LEVEL);
        executionMs = performance.now() - since - ran.queueMs;
        responseMs = performance.now() - since;
      } else if (c.error?.name === 'DeadlineUnmeetable' && !refusedOnSize) {
        // Ran out of time after admission (dropped from a queue, or still in the pipeline at its deadline): at least
        // this long, which is what calibration needs to learn.
        responseMs = performance.now() - since;
      }
    } finally {
      admission.release(ticket, executionMs, responseMs);
    }
  };
  return { middleware, admission };
}

/** The accept list parsed once; a malformed one is kept as the error the route answers with. */
function parseAccept(raw: string | undefined): { accept: OcrAccept | null; acceptError: ServerError | null } {
  if (raw === undefined) return { accept: null, acceptError: null };
  try {
    return { accept: parseOcrAccept(raw), acceptError: null };
  } catch (e) {
    return { accept: null, acceptError: new ServerError('BadRequest', (e as Error).message) };
  }
}

/** The shape level of a request kind: a portrait receipt or page, a landscape scene, or neither. */
function shapeKind(width: number, height: number): string {
  return shapeOf(width, height) ?? 'square';
}
