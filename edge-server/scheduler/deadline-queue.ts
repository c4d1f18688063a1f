/**
 * The one earliest-deadline-first queue that both model runners (local worker pool, remote OIP backend) put their runs
 * in: admission against the predicted finish, a timer that drops queued jobs the moment they can no longer finish in
 * time, and dispatch of the EDF head (plus compatible jobs, when the runner batches) to a free executor.
 * What an executor is, how a batch runs and how a job is answered stay with the runner (hooks).
 */
import { DeadlineError } from '../http/errors';
import { clampDelay } from './timers';
import { planQueue, type Candidate } from './adapt';
import { admit, edfInsert, isLate, nextLateAt, predictWait, retryAfterSeconds, type Admission, type Running, type Scheduled } from './edf';

const HOLD_MARGIN_MS = 5;

export interface QueuedJob extends Scheduled {
  /** performance.now() when the job entered the queue. */
  enqueuedAt: number;
  /**
   * Part of a request already admitted as a whole (multi-stage requests are admitted on arrival against all
   * admitted work): queued without a second admission test, and dropped only once it is late.
   */
  admitted?: boolean;
  /**
   * Its caller still wants the result once it is late (a request whose client asked for a late answer): then it is
   * not dropped but waits, as a job without a deadline, behind every job still in time.
   */
  keepLate?: boolean;
  /**
   * Model configurations the caller accepts, and the index of the one chosen to run. While any queued job has
   * candidates, admission and every dispatch pass re-plan them across the whole queue (scheduler/adapt.ts) and set
   * `chosen` and `estimateMs`; the runner hears of each change through `choose`.
   */
  candidates?: readonly Candidate[];
  chosen?: number;
}

export interface DeadlineQueueHooks<J extends QueuedJob, E> {
  /** How many jobs (or batches) can run at once: live workers, backend concurrency. */
  executors(): number;
  /** Runs in progress, for the wait prediction. */
  running(): Iterable<Running>;
  /** A free executor for `job`; null when none is free now; an Error when the job can never run (it is rejected). */
  executorFor(job: J): E | null | Error;
  /** Starts `batch` (already removed from the queue, head first) on `executor`. */
  start(executor: E, batch: J[], now: number): void;
  /** Answers a job the queue removed: a DeadlineError when it became late, or the executorFor error. */
  reject(job: J, error: Error): void;
  /** Jobs with the same key may share one run; null = always alone. Absent = no batching. */
  batchKey?(job: J): string | null;
  /** Rows a job adds to a batch (its leading dimension). Default 1. */
  batchRows?(job: J): number;
  /** The planner switched `job` to `candidates[index]` (already set as `chosen`, with its `estimateMs`). */
  choose?(job: J, index: number): void;
}

export interface BatchPolicy {
  /** Most rows in one run; 1 = no batching. */
  maxBatch: number;
  /** How long a batch that is not full may wait for more jobs while an executor is free. */
  maxDelayMs: number;
}

export interface Offer extends Admission {
  /** Seconds after which a retry should find the backlog cleared (for Retry-After). */
  retryAfterS: number;
}

export class DeadlineQueue<J extends QueuedJob, E = unknown> {
  private readonly jobs: J[] = [];
  private timer: NodeJS.Timeout | null = null;
  private timerAt = Infinity;
  private seq = 0;
  private dispatching = false;
  private again = false;
  private readonly now: () => number;

  constructor(
    private readonly hooks: DeadlineQueueHooks<J, E>,
    private readonly policy: BatchPolicy = { maxBatch: 1, maxDelayMs: 0 },
    now: () => number = () => performance.now(),
  ) {
    this.now = now;
  }

  get length(): number {
    return this.jobs.length;
  }

  /** Queued jobs in EDF order (read-only view, e.g. for a planner choosing configurations across the queue). */
  get queued(): readonly J[] {
    return this.jobs;
  }

  /** Next arrival number: the EDF tie-break. */
  nextSeq(): number {
    return this.seq++;
  }

  /** Predicted wait before a job with `deadline` would start (Infinity = behind everything). */
  predictedWait(deadline: number, now = this.now()): number {
    return predictWait(now, this.hooks.executors(), [...this.hooks.running()], this.jobs, deadline);
  }

  /** Whether a job with this deadline and estimate would be admitted now, without queueing it. */
  check(deadline: number, estimateMs: number, now = this.now()): Offer {
    const verdict = admit(now, deadline, this.predictedWait(deadline, now), estimateMs);
    return { ...verdict, retryAfterS: retryAfterSeconds(this.predictedWait(Infinity, now)) };
  }

  /**
   * Queues `job` unless it has a deadline it is predicted to miss; then returns the refusal and queues nothing.
   * A job without a deadline (Infinity) is always queued.
   */
  offer(job: J): Offer | null {
    const now = this.now();
    if (job.candidates?.length || this.jobs.some((j) => j.candidates?.length)) {
      // Admitted when some choice of configurations across the queue lets it finish in time.
      const plan = planQueue(this.jobs, job, now, this.hooks.executors(), this.hooks.running());
      const verdict = plan.incoming;
      if (verdict?.refused && job.deadline !== Infinity && !job.admitted) {
        const predictedMs = verdict.earliestFinish - now;
        return { ok: false, predictedMs, budgetMs: job.deadline - now, retryAfterS: retryAfterSeconds(this.predictedWait(Infinity, now)) };
      }
      this.apply(plan.chosen);
    } else if (job.deadline !== Infinity && !job.admitted) {
      const verdict = this.check(job.deadline, job.estimateMs, now);
      if (!verdict.ok) return verdict;
    }
    edfInsert(this.jobs, job);
    this.dispatch();
    return null;
  }

  /** Takes a queued job out (its caller is gone); false when it is not queued (running or answered). */
  remove(job: J): boolean {
    const i = this.jobs.indexOf(job);
    if (i < 0) return false;
    this.jobs.splice(i, 1);
    this.dispatch();
    return true;
  }

  /**
   * Withdraws `job` from the queue when `signal` fires while it still waits (the request it belongs to was abandoned),
   * and tells `withdrawn`. A job already running is left to finish. Returns the function that stops listening.
   */
  withdrawOn(job: J, signal: AbortSignal | undefined, withdrawn: (job: J) => void): () => void {
    if (!signal) return () => {};
    const onAbort = () => {
      if (this.remove(job)) withdrawn(job);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    return () => signal.removeEventListener('abort', onAbort);
  }

  /** Removes and returns every queued job (shutdown, or no executor left). */
  drain(): J[] {
    this.clearTimer();
    return this.jobs.splice(0);
  }

  /** Starts what can start now, drops late jobs, and arms the timer for the next drop or batch release. */
  dispatch(): void {
    // Hooks may answer jobs, and answering may dispatch again: run once more after this pass instead of nesting.
    if (this.dispatching) {
      this.again = true;
      return;
    }
    this.dispatching = true;
    try {
      do {
        this.again = false;
        this.pass();
      } while (this.again);
    } finally {
      this.dispatching = false;
    }
  }

  private pass(): void {
    const now = this.now();
    let wakeAt = Infinity;
    if (this.jobs.some((j) => j.candidates?.length)) {
      this.apply(planQueue(this.jobs, null, now, this.hooks.executors(), this.hooks.running()).chosen);
    }
    for (let i = 0; i < this.jobs.length;) {
      const job = this.jobs[i];
      if (isLate(now, job)) {
        this.jobs.splice(i, 1);
        if (job.keepLate) {
          // Behind every finite deadline, so at or after i: the loop meets it again, no longer late.
          job.deadline = Infinity;
          edfInsert(this.jobs, job);
        } else this.dropLate(job, now);
        continue;
      }
      const executor = this.hooks.executorFor(job);
      if (executor instanceof Error) {
        this.jobs.splice(i, 1);
        this.hooks.reject(job, executor);
        continue;
      }
      if (executor === null) {
        i++;
        continue;
      }
      const batch = this.collect(i);
      const holdUntil = this.holdUntil(batch, now);
      if (holdUntil > now) {
        wakeAt = Math.min(wakeAt, holdUntil);
        i += 1;
        continue;
      }
      for (const member of batch) this.jobs.splice(this.jobs.indexOf(member), 1);
      this.hooks.start(executor, batch, now);
    }
    // +1 ms: a job is late strictly after its instant.
    this.arm(Math.min(wakeAt, nextLateAt(this.jobs) + 1), now);
  }

  /**
   * The head at `index` and the later queued jobs that may share its run, in EDF order, up to maxBatch rows and up to
   * this executor's share of the compatible queue (its rows over all executors, rounded up). A run does not get
   * cheaper per row on a CPU that is busy at batch 1 already, so one worker taking everything queued while the
   * others finish and then sit idle only delays the later members (measured: served recognition throughput 0.80 of
   * bare with whole-queue batches, 0.94 with batching off).
   */
  private collect(index: number): J[] {
    const head = this.jobs[index];
    const key = this.policy.maxBatch > 1 && this.hooks.batchKey ? this.hooks.batchKey(head) : null;
    if (key === null) return [head];
    const rowsOf = (j: J) => this.hooks.batchRows?.(j) ?? 1;
    const compatible = this.jobs.slice(index).filter((j, k) => k === 0 || this.hooks.batchKey!(j) === key);
    const queuedRows = compatible.reduce((s, j) => s + rowsOf(j), 0);
    const limit = Math.min(this.policy.maxBatch, Math.ceil(queuedRows / Math.max(1, this.hooks.executors())));
    const batch = [head];
    let rows = rowsOf(head);
    for (let k = 1; k < compatible.length && rows < limit; k++) {
      const job = compatible[k];
      const r = rowsOf(job);
      if (rows + r > limit) continue;
      batch.push(job);
      rows += r;
    }
    return batch;
  }

  /**
   * A batch that is not full waits for company up to maxDelayMs after its head arrived, but is released
   * HOLD_MARGIN_MS before any member would become late (timers fire late on a busy event loop).
   */
  private holdUntil(batch: J[], now: number): number {
    if (this.policy.maxDelayMs <= 0 || !this.hooks.batchKey || this.hooks.batchKey(batch[0]) === null) return now;
    const rows = batch.reduce((s, j) => s + (this.hooks.batchRows?.(j) ?? 1), 0);
    if (rows >= this.policy.maxBatch) return now;
    let until = batch[0].enqueuedAt + this.policy.maxDelayMs;
    for (const j of batch) until = Math.min(until, j.deadline - j.estimateMs - HOLD_MARGIN_MS);
    return until;
  }

  private apply(chosen: ReadonlyMap<J, number>): void {
    for (const [job, index] of chosen) {
      if (job.chosen === index) continue;
      job.chosen = index;
      job.estimateMs = job.candidates![index].estimateMs;
      this.hooks.choose?.(job, index);
    }
  }

  private dropLate(job: J, now: number): void {
    const predicted = this.predictedWait(job.deadline, now) + job.estimateMs;
    this.hooks.reject(
      job,
      new DeadlineError(
        predicted,
        job.deadline - now,
        retryAfterSeconds(this.predictedWait(Infinity, now)),
        ` (dropped after ${Math.round(now - job.enqueuedAt)} ms in the queue, before running)`,
      ),
    );
  }

  private arm(at: number, now: number): void {
    if (at === this.timerAt && this.timer) return;
    this.clearTimer();
    if (at === Infinity) return;
    // A deadline weeks ahead gets a clamped timer; when it fires early the pass finds nothing late and re-arms.
    this.timerAt = at;
    this.timer = setTimeout(
      () => {
        this.timer = null;
        this.timerAt = Infinity;
        this.dispatch();
      },
      clampDelay(at - now),
    );
    this.timer.unref();
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.timerAt = Infinity;
  }
}
