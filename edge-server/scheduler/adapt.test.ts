import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { adapt, paretoFront, planQueue, type AdaptConfig, type AdaptInput, type AdaptJob, type Candidate } from './adapt';
import { DeadlineQueue, type QueuedJob } from './deadline-queue';

const fp32: AdaptConfig = { execMs: 100, accuracy: 0.8 };
const int8: AdaptConfig = { execMs: 50, accuracy: 0.78 };
const job = (deadline: number, configs: AdaptConfig[], arrival = 0): AdaptJob => ({ arrival, deadline, configs });
const picks = (input: AdaptInput) => adapt(input).choices.map((c) => (c.refused ? 'refused' : c.config));

describe('collective adaptation', () => {
  const cases: Array<{ name: string; input: AdaptInput; expected: Array<number | 'refused'> }> = [
    { name: 'empty queue', input: { now: 0, workers: [0], jobs: [] }, expected: [] },
    {
      name: 'no load: the most accurate configuration runs',
      input: { now: 0, workers: [0, 0], jobs: [job(1000, [fp32, int8]), job(1000, [int8, fp32])] },
      expected: [0, 1],
    },
    {
      name: 'overload: one job is downgraded so both meet the deadline',
      input: { now: 0, workers: [0], jobs: [job(150, [fp32, int8]), job(150, [fp32, int8])] },
      expected: [1, 0],
    },
    {
      name: 'a job accepting only fp32 keeps it; the one accepting int8 makes room',
      input: { now: 0, workers: [0], jobs: [job(150, [fp32]), job(150, [fp32, int8])] },
      expected: [0, 1],
    },
    {
      name: 'heavier overload: both downgraded',
      input: { now: 0, workers: [0], jobs: [job(100, [fp32, int8]), job(100, [fp32, int8])] },
      expected: [1, 1],
    },
    {
      name: 'a job that cannot make its deadline at any configuration is refused; the rest keep their accuracy',
      input: { now: 0, workers: [0], jobs: [job(40, [fp32, int8]), job(1000, [fp32, int8])] },
      expected: ['refused', 0],
    },
    {
      name: 'refusal is decided in EDF order: the later deadline is refused, the earlier one served',
      input: { now: 0, workers: [0], jobs: [job(90, [fp32, int8]), job(60, [fp32, int8])] },
      expected: ['refused', 1],
    },
    {
      name: 'the job losing the least accuracy per millisecond saved is downgraded',
      input: {
        now: 0,
        workers: [0],
        jobs: [
          job(150, [
            { execMs: 100, accuracy: 0.9 },
            { execMs: 40, accuracy: 0.5 },
          ]),
          job(150, [
            { execMs: 100, accuracy: 0.9 },
            { execMs: 40, accuracy: 0.89 },
          ]),
        ],
      },
      expected: [0, 1],
    },
    {
      name: 'busy workers count: a worker free only at 100 forces the second job onto int8',
      input: { now: 0, workers: [100, 0], jobs: [job(100, [fp32]), job(150, [fp32, int8])] },
      expected: [0, 1],
    },
    {
      name: 'a dominated configuration (slower and less accurate) is never chosen; equal accuracy takes less compute',
      input: {
        now: 0,
        workers: [0],
        jobs: [job(1000, [{ execMs: 200, accuracy: 0.7 }, fp32, { execMs: 60, accuracy: 0.8 }])],
      },
      expected: [2],
    },
    {
      name: 'jobs without a budget keep the most accurate configuration behind budgeted ones',
      input: { now: 0, workers: [0], jobs: [job(Infinity, [fp32, int8]), job(150, [fp32, int8]), job(Infinity, [fp32, int8])] },
      expected: [0, 0, 0],
    },
    {
      name: 'a job cannot start before it arrives',
      input: { now: 0, workers: [0], jobs: [job(120, [fp32, int8], 50)] },
      expected: [1],
    },
  ];
  it.each(cases)('$name', ({ input, expected }) => {
    expect(picks(input)).toEqual(expected);
  });

  it('reports start, finish, totals and the served order', () => {
    const plan = adapt({ now: 10, workers: [0], jobs: [job(200, [fp32, int8]), job(170, [fp32, int8])] });
    expect(plan.order).toEqual([1, 0]);
    expect(plan.choices[1]).toEqual({ refused: false, config: 1, start: 10, finish: 60 });
    expect(plan.choices[0]).toEqual({ refused: false, config: 0, start: 60, finish: 160 });
    expect(plan.accuracy).toBeCloseTo(1.58);
    expect(plan.execMs).toBe(150);
    expect(plan.refused).toBe(0);
    const refused = adapt({ now: 0, workers: [0], jobs: [job(30, [int8])] });
    expect(refused.choices[0]).toEqual({ refused: true, earliestFinish: 50 });
  });

  it('the upgrade pass recovers accuracy the greedy downgrade gives away', () => {
    // Greedy picks the best ratio, the 0 ms configuration, although saving 10 ms was enough.
    const input: AdaptInput = {
      now: 0,
      workers: [0],
      jobs: [
        job(100, [
          { execMs: 100, accuracy: 1 },
          { execMs: 90, accuracy: 0.9 },
          { execMs: 0, accuracy: 0.899 },
        ]),
        job(100, [{ execMs: 10, accuracy: 0.5 }]),
      ],
    };
    expect(picks({ ...input, improve: false })).toEqual([2, 0]);
    expect(picks(input)).toEqual([1, 0]);
  });

  it('rejects malformed input with a message naming the field', () => {
    expect(() => adapt({ now: 0, workers: [], jobs: [] })).toThrow(/at least one worker/);
    expect(() => adapt({ now: 0, workers: [0], jobs: [job(10, [])] })).toThrow(/jobs\[0\] accepts no configuration/);
    expect(() => adapt({ now: 0, workers: [0], jobs: [job(10, [{ execMs: -1, accuracy: 1 }])] })).toThrow(/execMs/);
    expect(() => adapt({ now: 0, workers: [0], jobs: [job(NaN, [fp32])] })).toThrow(/deadline/);
    expect(() => adapt({ now: NaN, workers: [0], jobs: [] })).toThrow(/now/);
  });

  it('keeps the Pareto frontier of configurations, cheapest first', () => {
    expect(paretoFront([fp32, int8, { execMs: 120, accuracy: 0.79 }, { execMs: 50, accuracy: 0.7 }])).toEqual([1, 0]);
    expect(
      paretoFront([
        { execMs: 5, accuracy: 1 },
        { execMs: 5, accuracy: 1 },
      ]),
    ).toEqual([0]);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Properties against an independent reference: brute force over every assignment on small instances.

/** List scheduling in EDF order, written independently of the module under test. */
function reference(input: AdaptInput, config: (i: number) => number | null): Array<number | null> {
  const order = input.jobs
    .map((_, i) => i)
    .sort((a, b) => {
      const x = input.jobs[a];
      const y = input.jobs[b];
      if (x.deadline !== y.deadline) return x.deadline < y.deadline ? -1 : 1;
      return x.arrival - y.arrival || a - b;
    });
  const free = input.workers.map((t) => Math.max(t, input.now));
  const finish: Array<number | null> = input.jobs.map(() => null);
  for (const i of order) {
    const c = config(i);
    if (c === null) continue;
    const k = free.indexOf(Math.min(...free));
    const start = Math.max(free[k], input.jobs[i].arrival, input.now);
    free[k] = start + input.jobs[i].configs[c].execMs;
    finish[i] = free[k];
  }
  return finish;
}

/** Jobs that miss even with everything admitted ahead of them at the cheapest configuration. */
function mustRefuse(input: AdaptInput): Set<number> {
  const cheapest = input.jobs.map((j) => j.configs.reduce((b, c, k) => (c.execMs < j.configs[b].execMs ? k : b), 0));
  const refused = new Set<number>();
  for (;;) {
    const f = reference(input, (i) => (refused.has(i) ? null : cheapest[i]));
    // The earliest-deadline miss is certain; later misses may vanish once it is gone.
    const misses = input.jobs.map((_, i) => i).filter((i) => f[i] !== null && f[i]! > input.jobs[i].deadline);
    if (misses.length === 0) return refused;
    misses.sort((a, b) => input.jobs[a].deadline - input.jobs[b].deadline || input.jobs[a].arrival - input.jobs[b].arrival || a - b);
    refused.add(misses[0]);
  }
}

/** Best total accuracy (then least compute) over every assignment of the served jobs; null when none is feasible. */
function bruteForce(input: AdaptInput, served: number[]): { accuracy: number; execMs: number } | null {
  let best: { accuracy: number; execMs: number } | null = null;
  const pick = new Array<number>(input.jobs.length).fill(0);
  const walk = (k: number): void => {
    if (k === served.length) {
      const set = new Set(served);
      const f = reference(input, (i) => (set.has(i) ? pick[i] : null));
      if (served.some((i) => f[i]! > input.jobs[i].deadline)) return;
      let accuracy = 0;
      let execMs = 0;
      for (const i of served) {
        accuracy += input.jobs[i].configs[pick[i]].accuracy;
        execMs += input.jobs[i].configs[pick[i]].execMs;
      }
      if (!best || accuracy > best.accuracy + 1e-9 || (Math.abs(accuracy - best.accuracy) <= 1e-9 && execMs < best.execMs)) best = { accuracy, execMs };
      return;
    }
    const i = served[k];
    for (let c = 0; c < input.jobs[i].configs.length; c++) {
      pick[i] = c;
      walk(k + 1);
    }
  };
  walk(0);
  return best;
}

const configArb = fc.record({ execMs: fc.integer({ min: 0, max: 120 }), accuracy: fc.integer({ min: 0, max: 100 }).map((a) => a / 100) });
const instanceArb: fc.Arbitrary<AdaptInput> = fc.record({
  now: fc.integer({ min: 0, max: 20 }),
  workers: fc.array(fc.integer({ min: 0, max: 80 }), { minLength: 1, maxLength: 3 }),
  jobs: fc.array(
    fc.record({
      arrival: fc.integer({ min: 0, max: 30 }),
      deadline: fc.oneof({ weight: 5, arbitrary: fc.integer({ min: 0, max: 400 }) }, { weight: 1, arbitrary: fc.constant(Infinity) }),
      configs: fc.array(configArb, { minLength: 1, maxLength: 3 }),
    }),
    { maxLength: 6 },
  ),
});

describe('collective adaptation, properties', () => {
  it('refuses exactly the jobs no assignment can serve, and every other job meets its deadline', () => {
    fc.assert(
      fc.property(instanceArb, (input) => {
        const plan = adapt(input);
        const expectedRefused = mustRefuse(input);
        plan.choices.forEach((c, i) => expect(c.refused).toBe(expectedRefused.has(i)));
        const f = reference(input, (i) => {
          const c = plan.choices[i];
          return c.refused ? null : c.config;
        });
        plan.choices.forEach((c, i) => {
          if (c.refused) return;
          expect(c.config).toBeGreaterThanOrEqual(0);
          expect(c.config).toBeLessThan(input.jobs[i].configs.length);
          expect(c.finish).toBeCloseTo(f[i]!, 6);
          expect(f[i]!).toBeLessThanOrEqual(input.jobs[i].deadline);
        });
        // When some assignment serves everyone, nobody is refused.
        if (
          bruteForce(
            input,
            input.jobs.map((_, i) => i),
          ) !== null
        )
          expect(plan.refused).toBe(0);
      }),
      { numRuns: 400 },
    );
  });

  it('never beats the optimum, and the upgrade pass never loses to the greedy downgrade alone', () => {
    fc.assert(
      fc.property(instanceArb, (input) => {
        const plan = adapt(input);
        const greedy = adapt({ ...input, improve: false });
        const best = bruteForce(input, plan.order);
        expect(best).not.toBeNull();
        expect(plan.accuracy).toBeLessThanOrEqual(best!.accuracy + 1e-9);
        expect(plan.accuracy).toBeGreaterThanOrEqual(greedy.accuracy - 1e-9);
        expect(greedy.order).toEqual(plan.order);
      }),
      { numRuns: 400 },
    );
  });

  it('without contention every job runs its most accurate configuration, with the least compute among equals', () => {
    fc.assert(
      fc.property(instanceArb, (input) => {
        const free = { ...input, jobs: input.jobs.map((j) => ({ ...j, deadline: Infinity })) };
        adapt(free).choices.forEach((c, i) => {
          expect(c.refused).toBe(false);
          if (c.refused) return;
          const configs = input.jobs[i].configs;
          const top = Math.max(...configs.map((x) => x.accuracy));
          const cheapestTop = Math.min(...configs.filter((x) => x.accuracy === top).map((x) => x.execMs));
          expect(configs[c.config]).toMatchObject({ accuracy: top, execMs: cheapestTop });
        });
      }),
      { numRuns: 200 },
    );
  });

  it('matches the optimum on single-worker instances where one job can be downgraded', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 5 }),
        fc.array(configArb, { minLength: 2, maxLength: 4 }),
        fc.integer({ min: 0, max: 300 }),
        (fixedJobs, configs, deadline) => {
          const input: AdaptInput = {
            now: 0,
            workers: [0],
            jobs: [...Array.from({ length: fixedJobs }, () => job(deadline, [{ execMs: 10, accuracy: 0.5 }])), job(deadline, configs)],
          };
          const plan = adapt(input);
          const best = bruteForce(input, plan.order);
          if (best) expect(plan.accuracy).toBeCloseTo(best.accuracy, 9);
        },
      ),
      { numRuns: 200 },
    );
  });
});

// ---------------------------------------------------------------------------------------------------------------
// The deadline queue planning accepted configurations across everything queued (real queue, runner hooks in memory).

describe('planning a deadline queue', () => {
  const fp32c: Candidate = { estimateMs: 100, accuracy: 0.8 };
  const int8c: Candidate = { estimateMs: 50, accuracy: 0.78 };
  const q = (deadline: number, candidates?: Candidate[], estimateMs = 100) => ({ deadline, enqueuedAt: 0, estimateMs, candidates });

  it('chooses for jobs with candidates around fixed jobs and running work, and judges the incoming job', () => {
    const fixed = q(250);
    const flexible = q(380, [fp32c, int8c]);
    // One worker busy until 100: fixed ends at 200, flexible at 300 on fp32, within its 380.
    let plan = planQueue([fixed, flexible], null, 0, 1, [{ startedAt: 0, estimateMs: 100 }]);
    expect(plan.chosen.get(flexible)).toBe(0);
    expect(plan.chosen.has(fixed)).toBe(false);
    // A newcomer with an earlier deadline (ends at 300) fits only if the flexible job drops to int8 (ends at 350).
    const incoming = q(350, [fp32c]);
    plan = planQueue([fixed, flexible], incoming, 0, 1, [{ startedAt: 0, estimateMs: 100 }]);
    expect(plan.incoming).toMatchObject({ refused: false });
    expect(plan.chosen.get(flexible)).toBe(1);
    // One that cannot fit at all (int8 from 100 ends at 150) is refused, and nothing is downgraded for it.
    plan = planQueue([fixed, flexible], q(140, [fp32c, int8c]), 0, 1, [{ startedAt: 0, estimateMs: 100 }]);
    expect(plan.incoming).toMatchObject({ refused: true });
    expect(plan.chosen.get(flexible)).toBe(0);
  });

  describe('DeadlineQueue with accepted configurations', () => {
    beforeEach(() => {
      vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    });
    afterEach(() => {
      vi.useRealTimers();
    });

    interface Job extends QueuedJob {
      name: string;
      model: string;
      models?: string[];
    }

    function harness(executors: number) {
      let clock = 0;
      const busy: Array<{ job: Job; startedAt: number } | null> = new Array(executors).fill(null);
      const started: string[] = [];
      const rejected: string[] = [];
      const queue = new DeadlineQueue<Job, number>(
        {
          executors: () => executors,
          running: () => busy.flatMap((b) => (b ? [{ startedAt: b.startedAt, estimateMs: b.job.estimateMs }] : [])),
          executorFor: () => {
            const i = busy.indexOf(null);
            return i < 0 ? null : i;
          },
          start: (slot, batch, now) => {
            busy[slot] = { job: batch[0], startedAt: now };
            started.push(`${batch[0].name}:${batch[0].model}`);
          },
          reject: (job) => {
            rejected.push(job.name);
          },
          choose: (job, index) => {
            job.model = job.models![index];
          },
        },
        undefined,
        () => clock,
      );
      const job = (name: string, budget: number, models: Record<string, Candidate>): Job => {
        const names = Object.keys(models);
        const candidates = names.length > 1 ? Object.values(models) : undefined;
        return {
          name,
          model: names[0],
          models: names,
          candidates,
          estimateMs: models[names[0]].estimateMs,
          deadline: clock + budget,
          seq: queue.nextSeq(),
          enqueuedAt: clock,
        };
      };
      return {
        queue,
        started,
        rejected,
        job,
        /** The run on `slot` ends after its estimate plus `overrunMs`. */
        finish(slot: number, overrunMs = 0) {
          clock = busy[slot]!.startedAt + busy[slot]!.job.estimateMs + overrunMs;
          busy[slot] = null;
          queue.dispatch();
        },
      };
    }

    it('with no load the most accurate model runs', () => {
      const h = harness(1);
      expect(h.queue.offer(h.job('a', 1000, { fp32: fp32c, int8: int8c }))).toBeNull();
      expect(h.started).toEqual(['a:fp32']);
    });

    it('under load, jobs that accept int8 get it so every deadline holds, and fp32-only jobs keep fp32', () => {
      const h = harness(1);
      h.queue.offer(h.job('busy', 10_000, { fp32: fp32c }));
      expect(h.queue.offer(h.job('only-fp32', 260, { fp32: fp32c }))).toBeNull();
      expect(h.queue.offer(h.job('flex-1', 300, { fp32: fp32c, int8: int8c }))).toBeNull();
      expect(h.queue.offer(h.job('flex-2', 350, { fp32: fp32c, int8: int8c }))).toBeNull();
      // At fp32 everything: busy 100, only-fp32 200, flex-1 300, flex-2 400 > 350 → one flexible job downgraded.
      // A second fp32-only job with the same budget cannot be admitted: nothing left to downgrade.
      expect(h.queue.offer(h.job('only-fp32-late', 300, { fp32: fp32c }))).toMatchObject({ ok: false });
      for (let i = 0; i < 4; i++) h.finish(0);
      expect(h.started.slice(0, 2)).toEqual(['busy:fp32', 'only-fp32:fp32']);
      expect(h.started.slice(2).filter((s) => s.endsWith(':int8'))).toHaveLength(1);
      expect(h.rejected).toEqual([]);
    });

    it('a queued job that falls behind is switched to its cheaper model at dispatch instead of being dropped', () => {
      const h = harness(1);
      h.queue.offer(h.job('busy', 10_000, { fp32: fp32c }));
      h.queue.offer(h.job('flex', 220, { fp32: fp32c, int8: int8c }));
      expect(h.queue.queued[0].chosen).toBe(0);
      // The running job overruns its estimate by 60 ms: at fp32 flex would end at 260 > 220, at int8 at 210.
      h.finish(0, 60);
      expect(h.started).toEqual(['busy:fp32', 'flex:int8']);
      expect(h.rejected).toEqual([]);
    });
  });
});
