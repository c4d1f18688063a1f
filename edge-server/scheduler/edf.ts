/**
 * Earliest-deadline-first scheduling and admission, as pure functions of the queue state and an injected `now`.
 * Times are milliseconds on one monotonic clock; a job without a budget has deadline Infinity and keeps FIFO order
 * among its peers, after every job that has a deadline.
 */

export interface Scheduled {
  /** Absolute time by which the job must have finished; Infinity = no budget. */
  deadline: number;
  /** Predicted execution time (0 when nothing has been measured yet). */
  estimateMs: number;
  /** Arrival order, the tie-break. */
  seq: number;
}

export interface Running {
  startedAt: number;
  estimateMs: number;
}

/** EDF order: earlier deadline first, then earlier arrival. */
export function edfCompare(a: Scheduled, b: Scheduled): number {
  if (a.deadline !== b.deadline) return a.deadline < b.deadline ? -1 : 1;
  return a.seq - b.seq;
}

/** Inserts `job` into an EDF-sorted array, keeping it sorted (stable for equal keys). */
export function edfInsert<T extends Scheduled>(queue: T[], job: T): void {
  let lo = 0;
  let hi = queue.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (edfCompare(queue[mid], job) <= 0) lo = mid + 1;
    else hi = mid;
  }
  queue.splice(lo, 0, job);
}

/**
 * Predicted wait before a job with `deadline` would start: list scheduling of the work ahead of it (running jobs'
 * remaining time, then queued jobs that EDF serves first) onto `workers` workers, each job to the first free worker.
 */
export function predictWait(now: number, workers: number, running: readonly Running[], queue: readonly Scheduled[], deadline: number): number {
  if (workers < 1) return Infinity;
  const free = running.map((r) => Math.max(0, r.startedAt + r.estimateMs - now));
  while (free.length < workers) free.push(0);
  free.sort((a, b) => a - b);
  for (const job of queue) {
    // Jobs with an equal deadline arrived earlier, so they are ahead too.
    if (job.deadline > deadline) break;
    free[0] += job.estimateMs;
    free.sort((a, b) => a - b);
  }
  return free[0];
}

/**
 * Wait for a multi-stage request with `deadline`: the remaining estimated work of requests in progress that EDF serves
 * first (estimate minus time since they started, at least 0), list-scheduled onto the workers.
 */
export function predictInProgressWait(now: number, workers: number, inProgress: Iterable<Scheduled & { startedAt: number }>, deadline: number): number {
  const ahead: Scheduled[] = [];
  for (const r of inProgress) {
    if (r.deadline <= deadline) edfInsert(ahead, { deadline: r.deadline, seq: r.seq, estimateMs: Math.max(0, r.estimateMs - (now - r.startedAt)) });
  }
  return predictWait(now, workers, [], ahead, deadline);
}

export interface Admission {
  ok: boolean;
  /** Predicted time from now until the job finishes. */
  predictedMs: number;
  /** Budget left from now. */
  budgetMs: number;
}

/** A job is admitted when its predicted finish (wait + execution) is within its deadline. */
export function admit(now: number, deadline: number, waitMs: number, estimateMs: number): Admission {
  const predictedMs = waitMs + estimateMs;
  const budgetMs = deadline - now;
  return { ok: budgetMs > 0 && predictedMs <= budgetMs, predictedMs, budgetMs };
}

/** A queued job is late when, started now, it would still finish after its deadline. */
export function isLate(now: number, job: Scheduled): boolean {
  return now + job.estimateMs > job.deadline;
}

/** When the next queued job becomes late (Infinity when none can), so the queue can be swept without polling. */
export function nextLateAt(queue: readonly Scheduled[]): number {
  let at = Infinity;
  for (const job of queue) if (job.deadline !== Infinity) at = Math.min(at, job.deadline - job.estimateMs);
  return at;
}

/**
 * Execution estimate for an input size from measured sizes: the exact bucket if seen, otherwise the nearest measured
 * size scaled by element count (runtime is about linear in pixels for these models); null when nothing is measured.
 */
export function estimateFor(measured: ReadonlyMap<string, number>, bucket: string): number | null {
  const exact = measured.get(bucket);
  if (exact !== undefined) return exact;
  const size = elements(bucket);
  let best: { ms: number; ratio: number } | null = null;
  for (const [b, ms] of measured) {
    const ratio = size / elements(b);
    if (!Number.isFinite(ratio) || ratio <= 0) continue;
    const distance = Math.abs(Math.log(ratio));
    if (!best || distance < Math.abs(Math.log(best.ratio))) best = { ms, ratio };
  }
  return best ? best.ms * best.ratio : null;
}

function elements(bucket: string): number {
  return bucket.split('x').reduce((a, d) => a * Number(d), 1);
}

/** Retry-After seconds for a refusal: when the predicted backlog should have cleared, at least 1. */
export function retryAfterSeconds(waitMs: number): number {
  return Math.max(1, Math.ceil(waitMs / 1000));
}

export interface InProgress extends Scheduled {
  startedAt: number;
}

export interface Schedulability {
  ok: boolean;
  /** Predicted time from now until the candidate finishes. */
  predictedMs: number;
  /** Admitted requests the candidate would make late (0 when it is refused for its own deadline or admitted). */
  wouldDelay: number;
}

/**
 * EDF admission test for multi-stage requests: list-schedules the remaining work of every request in progress plus
 * the candidate onto `servers`, in EDF order, and admits the candidate only if it finishes by its deadline and no
 * request that would have finished in time without it becomes late because of it (under EDF a newcomer with an
 * earlier deadline runs first, so admitting it on its own wait alone breaks earlier promises).
 * A request already past its estimate keeps `floor` of it as remaining work: it has not finished yet.
 */
export function admitSchedulable(now: number, servers: number, inProgress: Iterable<InProgress>, candidate: Scheduled, floor = 0.1): Schedulability {
  const ahead: Scheduled[] = [];
  for (const r of inProgress) {
    edfInsert(ahead, { deadline: r.deadline, seq: r.seq, estimateMs: Math.max(r.estimateMs * floor, r.estimateMs - (now - r.startedAt)) });
  }
  const lateWithout = lateSet(now, servers, ahead);
  const withCandidate = [...ahead];
  edfInsert(withCandidate, candidate);
  const finish = finishTimes(now, servers, withCandidate);
  const predictedMs = finish.get(candidate.seq)! - now;
  if (candidate.deadline !== Infinity && now + predictedMs > candidate.deadline) return { ok: false, predictedMs, wouldDelay: 0 };
  let wouldDelay = 0;
  for (const r of withCandidate) {
    if (r.seq !== candidate.seq && finish.get(r.seq)! > r.deadline && !lateWithout.has(r.seq)) wouldDelay++;
  }
  return { ok: wouldDelay === 0, predictedMs, wouldDelay };
}

function finishTimes(now: number, servers: number, ordered: readonly Scheduled[]): Map<number, number> {
  const free = new Array(Math.max(1, servers)).fill(now) as number[];
  const out = new Map<number, number>();
  for (const r of ordered) {
    free.sort((a, b) => a - b);
    free[0] += r.estimateMs;
    out.set(r.seq, free[0]);
  }
  return out;
}

function lateSet(now: number, servers: number, ordered: readonly Scheduled[]): Set<number> {
  const finish = finishTimes(now, servers, ordered);
  return new Set(ordered.filter((r) => finish.get(r.seq)! > r.deadline).map((r) => r.seq));
}
