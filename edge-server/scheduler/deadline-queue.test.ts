import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { DeadlineError } from '../http/errors';
import { DeadlineQueue, type BatchPolicy, type QueuedJob } from './deadline-queue';

interface Job extends QueuedJob {
  name: string;
  key?: string | null;
  rows?: number;
  model?: string;
}

/** Executors are plain slots; a test finishes a run by calling `finish`. */
function harness(executors: number, policy?: BatchPolicy, unavailable: (j: Job) => Error | null = () => null) {
  let clock = 1000;
  const busy: Array<{ batch: Job[]; startedAt: number } | null> = new Array(executors).fill(null);
  const started: string[][] = [];
  const rejected: Array<[string, Error]> = [];
  const queue = new DeadlineQueue<Job, number>(
    {
      executors: () => executors,
      running: () => busy.flatMap((b) => (b ? [{ startedAt: b.startedAt, estimateMs: b.batch[0].estimateMs }] : [])),
      executorFor: (job) => unavailable(job) ?? (busy.findIndex((b) => b === null) === -1 ? null : busy.findIndex((b) => b === null)),
      start: (slot, batch, now) => {
        busy[slot] = { batch, startedAt: now };
        started.push(batch.map((j) => j.name));
      },
      reject: (job, error) => {
        rejected.push([job.name, error]);
      },
      batchKey: (job) => job.key ?? null,
      batchRows: (job) => job.rows ?? 1,
    },
    policy,
    () => clock,
  );
  const job = (name: string, estimateMs: number, budget = Infinity, extra: Partial<Job> = {}): Job => ({
    name,
    estimateMs,
    deadline: clock + budget,
    seq: queue.nextSeq(),
    enqueuedAt: clock,
    ...extra,
  });
  return {
    queue,
    started,
    rejected,
    job,
    advance(ms: number) {
      clock += ms;
      vi.advanceTimersByTime(ms);
    },
    finish(slot: number) {
      busy[slot] = null;
      queue.dispatch();
    },
  };
}

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
});
afterEach(() => {
  vi.useRealTimers();
});

describe('DeadlineQueue', () => {
  it('starts at once on a free executor and serves the rest earliest deadline first', () => {
    const h = harness(1);
    expect(h.queue.offer(h.job('running', 100))).toBeNull();
    h.queue.offer(h.job('no-budget', 100));
    h.queue.offer(h.job('late-deadline', 100, 5000));
    h.queue.offer(h.job('early-deadline', 100, 1000));
    expect(h.queue.length).toBe(3);
    h.finish(0);
    h.finish(0);
    h.finish(0);
    expect(h.started).toEqual([['running'], ['early-deadline'], ['late-deadline'], ['no-budget']]);
  });

  it('refuses a job predicted to finish late without queueing it, with the predicted wait', () => {
    const h = harness(1);
    h.queue.offer(h.job('a', 300));
    const refusal = h.queue.offer(h.job('b', 300, 500));
    expect(refusal).toMatchObject({ ok: false, predictedMs: 600, budgetMs: 500, retryAfterS: 1 });
    expect(h.queue.length).toBe(0);
    expect(h.queue.offer(h.job('c', 300, 600))).toBeNull();
  });

  it('drops a queued job when it becomes late, by timer, without running it', () => {
    const h = harness(1);
    h.queue.offer(h.job('blocker', 100));
    h.queue.offer(h.job('waiter', 100, 400)); // admitted: 100 wait + 100 run <= 400, late after 300 ms
    h.advance(299);
    expect(h.rejected).toEqual([]);
    h.advance(3);
    expect(h.rejected.map(([n, e]) => [n, e instanceof DeadlineError])).toEqual([['waiter', true]]);
    expect(h.rejected[0][1].message).toMatch(/dropped after 30\d ms in the queue/);
    h.finish(0);
    expect(h.started).toEqual([['blocker']]);
  });

  it('keeps a late job whose caller still wants it, behind every job still in time', () => {
    const h = harness(1);
    h.queue.offer(h.job('blocker', 100));
    h.queue.offer(h.job('wanted-late', 100, 400, { keepLate: true }));
    h.queue.offer(h.job('in-time', 100, 5000));
    h.advance(302);
    expect(h.rejected).toEqual([]);
    h.queue.offer(h.job('no-budget', 100));
    h.finish(0);
    h.finish(0);
    h.finish(0);
    // Past its deadline it ranks as a job without one: after the job still in time, before a later job without one.
    expect(h.started).toEqual([['blocker'], ['in-time'], ['wanted-late'], ['no-budget']]);
  });

  it("rejects a job the runner can never run with the runner's error", () => {
    const h = harness(1, undefined, (j) => (j.model === 'gone' ? new Error('gone') : null));
    h.queue.offer(h.job('x', 10, Infinity, { model: 'gone' }));
    expect(h.rejected.map(([n, e]) => [n, e.message])).toEqual([['x', 'gone']]);
  });

  it('predicts the wait by list scheduling the work ahead onto the executors', () => {
    const h = harness(2);
    h.queue.offer(h.job('a', 100));
    h.queue.offer(h.job('b', 200));
    h.queue.offer(h.job('c', 50));
    expect(h.queue.predictedWait(Infinity)).toBe(150);
    h.advance(40);
    expect(h.queue.predictedWait(Infinity)).toBe(110);
  });

  it('batches jobs with the same key up to maxBatch rows, in EDF order', () => {
    const h = harness(1, { maxBatch: 4, maxDelayMs: 0 });
    h.queue.offer(h.job('busy', 10));
    h.queue.offer(h.job('a', 10, Infinity, { key: 'w128', rows: 2 }));
    h.queue.offer(h.job('other', 10, Infinity, { key: 'w256' }));
    h.queue.offer(h.job('b', 10, Infinity, { key: 'w128', rows: 3 }));
    h.queue.offer(h.job('c', 10, Infinity, { key: 'w128', rows: 2 }));
    h.queue.offer(h.job('alone', 10, Infinity, { key: null }));
    h.finish(0);
    h.finish(0);
    h.finish(0);
    h.finish(0);
    expect(h.started).toEqual([['busy'], ['a', 'c'], ['other'], ['b'], ['alone']]);
  });

  it('gives a free executor only its share of the compatible queue, so the others get work too', () => {
    const h = harness(2, { maxBatch: 4, maxDelayMs: 0 });
    h.queue.offer(h.job('busy0', 10));
    h.queue.offer(h.job('busy1', 10));
    for (const name of ['a', 'b', 'c', 'd']) h.queue.offer(h.job(name, 10, Infinity, { key: 'k' }));
    h.finish(0);
    expect(h.started.at(-1)).toEqual(['a', 'b']);
    h.finish(1);
    expect(h.started.at(-1)).toEqual(['c']); // two left for two executors: one each
    h.finish(1);
    expect(h.started.at(-1)).toEqual(['d']);
  });

  it("holds a batch that is not full for maxDelayMs, but not past a member's deadline", () => {
    const h = harness(1, { maxBatch: 4, maxDelayMs: 20 });
    h.queue.offer(h.job('a', 10, Infinity, { key: 'k' }));
    expect(h.started).toEqual([]);
    h.advance(5);
    h.queue.offer(h.job('b', 10, Infinity, { key: 'k' }));
    h.advance(16);
    expect(h.started).toEqual([['a', 'b']]);
    h.finish(0);
    h.queue.offer(h.job('c', 10, 30, { key: 'k' })); // late 20 ms from now: released 5 ms before
    h.advance(14);
    expect(h.started.length).toBe(1);
    h.advance(1);
    expect(h.started).toEqual([['a', 'b'], ['c']]);
    expect(h.rejected).toEqual([]);
  });

  it('starts a full batch at once', () => {
    const h = harness(1, { maxBatch: 2, maxDelayMs: 1000 });
    h.queue.offer(h.job('a', 10, Infinity, { key: 'k' }));
    h.queue.offer(h.job('b', 10, Infinity, { key: 'k' }));
    expect(h.started).toEqual([['a', 'b']]);
  });

  it('drains every queued job', () => {
    const h = harness(1);
    h.queue.offer(h.job('a', 10));
    h.queue.offer(h.job('b', 10, 1000));
    expect(h.queue.drain().map((j) => j.name)).toEqual(['b']);
    expect(h.queue.length).toBe(0);
  });

  it('withdraws a queued job when its caller aborts, and leaves a running one alone', () => {
    const h = harness(1);
    const running = new AbortController();
    const waiting = new AbortController();
    const withdrawn: string[] = [];
    const a = h.job('running', 100);
    const b = h.job('waiting', 100);
    h.queue.offer(a);
    h.queue.withdrawOn(a, running.signal, (j) => withdrawn.push(j.name));
    h.queue.offer(b);
    h.queue.withdrawOn(b, waiting.signal, (j) => withdrawn.push(j.name));
    running.abort();
    waiting.abort();
    expect(withdrawn).toEqual(['waiting']);
    expect(h.queue.length).toBe(0);
    h.finish(0);
    expect(h.started).toEqual([['running']]);
  });

  it('does not drop a job whose deadline lies beyond the longest timer (2^31 ms)', () => {
    const h = harness(1);
    h.queue.offer(h.job('running', 100));
    h.queue.offer(h.job('far', 100, 3e9));
    h.advance(10_000);
    expect(h.rejected).toEqual([]);
    h.finish(0);
    expect(h.started).toEqual([['running'], ['far']]);
  });
});
