/**
 * Collective adaptation after Jellyfish: every queued job lists the configurations it accepts (model variant, input
 * size), each with a predicted execution time and an expected accuracy. Across the whole queue, served
 * earliest-deadline-first on the given workers, pick one configuration per job so that every job meets its deadline
 * when any assignment can, at the highest total accuracy (ties: less compute). Jobs that cannot finish in time even
 * with every job ahead of them at its cheapest configuration are marked for refusal.
 *
 * Method: start every job at its most accurate configuration; while some job misses its deadline, downgrade the job
 * among it and those ahead of it whose downgrade loses the least accuracy per millisecond saved (Jellyfish's greedy);
 * then upgrade greedily (most accuracy per millisecond added) wherever the schedule still holds. The second pass only
 * ever adds accuracy, so the result is never worse than the greedy downgrade alone.
 *
 * Why it is sound: with the order fixed (EDF), list scheduling is monotone and 1-Lipschitz in the execution times —
 * shortening any job never delays a later one, lengthening one by d delays every later finish by at most d. So the
 * all-cheapest schedule gives every job its earliest possible finish (the refusal test), the downgrade loop always
 * reaches a feasible schedule, and an upgrade by d is safe whenever d fits in the smallest slack from that job on.
 *
 * Pure and clock-free: times are milliseconds on one clock, `now` is passed in.
 */

export interface AdaptConfig {
  /** Predicted execution time in milliseconds (≥ 0). */
  execMs: number;
  /** Expected accuracy; only differences matter (e.g. word recall 0..1). */
  accuracy: number;
}

export interface AdaptJob {
  /** When the job arrived; it cannot start earlier. Also the EDF tie-break. */
  arrival: number;
  /** Absolute time by which the job must have finished; Infinity = no budget. */
  deadline: number;
  /** The configurations the job accepts; at least one. */
  configs: readonly AdaptConfig[];
}

export interface AdaptInput {
  now: number;
  /** When each worker is free (absolute times; earlier than `now` means free now). At least one. */
  workers: readonly number[];
  jobs: readonly AdaptJob[];
  /** Run the upgrade pass after the greedy downgrade (default true; false gives Jellyfish's greedy alone). */
  improve?: boolean;
}

export type AdaptChoice =
  | { refused: false; /** Index into the job's `configs`. */ config: number; start: number; finish: number }
  | { refused: true; /** Finish with every job ahead at its cheapest configuration: the best this job could do. */ earliestFinish: number };

export interface AdaptPlan {
  /** One per input job, in input order. */
  choices: AdaptChoice[];
  /** Input indices in the order they are served (EDF), refused jobs left out. */
  order: number[];
  /** Total expected accuracy and execution time of the jobs served. */
  accuracy: number;
  execMs: number;
  refused: number;
}

/** Slack below which an upgrade is re-simulated rather than accepted on the Lipschitz bound (floating-point margin). */
const EPS = 1e-6;

export function adapt(input: AdaptInput): AdaptPlan {
  const { now, jobs } = input;
  validate(input);
  const w = input.workers.length;
  const n = jobs.length;

  // Per job, the Pareto frontier of its configurations: execution strictly increasing, accuracy strictly increasing.
  // A configuration that is slower without being more accurate can never help, and on equal accuracy less compute wins.
  const fronts: number[][] = jobs.map((j) => paretoFront(j.configs));

  const edf = Array.from({ length: n }, (_, i) => i).sort((a, b) => cmpEdf(jobs, a, b));

  const choices: AdaptChoice[] = new Array(n);
  const initial = Array.from(input.workers, (t) => Math.max(t, now)).sort((a, b) => a - b);

  // Refusal: a job that misses its deadline with every admitted job ahead of it at the cheapest configuration
  // cannot meet it under any assignment; leaving it out only helps the jobs after it.
  const served: number[] = [];
  {
    const free = initial.slice();
    for (const j of edf) {
      const job = jobs[j];
      const start = Math.max(free[0], job.arrival, now);
      const finish = start + job.configs[fronts[j][0]].execMs;
      if (finish > job.deadline) {
        choices[j] = { refused: true, earliestFinish: finish };
        continue;
      }
      free[0] = finish;
      siftFirst(free);
      served.push(j);
    }
  }

  const m = served.length;
  const level = new Int32Array(m);
  const execOf = (p: number, l = level[p]) => jobs[served[p]].configs[fronts[served[p]][l]].execMs;
  const accOf = (p: number, l = level[p]) => jobs[served[p]].configs[fronts[served[p]][l]].accuracy;
  for (let p = 0; p < m; p++) level[p] = fronts[served[p]].length - 1;

  // states[p*w .. p*w+w) = sorted worker free times before position p is placed; finish[p] = its finish.
  const states = new Float64Array((m + 1) * w);
  const finish = new Float64Array(m);
  states.set(initial, 0);
  const scratch = new Float64Array(w);

  /** Re-simulates from position `from` (states up to `from` must be valid); stops at and returns the first miss, or -1. */
  const simulate = (from: number): number => {
    for (let p = from; p < m; p++) {
      const base = p * w;
      const job = jobs[served[p]];
      const start = Math.max(states[base], job.arrival, now);
      const f = start + execOf(p);
      finish[p] = f;
      const next = base + w;
      states[next] = f;
      for (let k = 1; k < w; k++) states[next + k] = states[base + k];
      siftFirstAt(states, next, w);
      if (f > job.deadline) return p;
    }
    return -1;
  };

  /** Whether the schedule holds with position `at` at level `l` instead, without touching the committed state. */
  const holdsWith = (at: number, l: number): boolean => {
    for (let k = 0; k < w; k++) scratch[k] = states[at * w + k];
    for (let p = at; p < m; p++) {
      const job = jobs[served[p]];
      const start = Math.max(scratch[0], job.arrival, now);
      const f = start + (p === at ? execOf(p, l) : execOf(p));
      if (f > job.deadline) return false;
      scratch[0] = f;
      siftFirstAt(scratch, 0, w);
    }
    return true;
  };

  // Greedy downgrade: the first miss can only be fixed by shortening it or a job ahead of it. Each position's best
  // downgrade (least accuracy lost per millisecond saved) is cached and recomputed only when its level changes.
  const downRatio = new Float64Array(m);
  const downSaved = new Float64Array(m);
  const downLevel = new Int32Array(m);
  const bestDowngrade = (p: number): void => {
    downRatio[p] = Infinity;
    downSaved[p] = 0;
    downLevel[p] = -1;
    const e = execOf(p);
    const a = accOf(p);
    for (let l = 0; l < level[p]; l++) {
      const saved = e - execOf(p, l);
      const ratio = (a - accOf(p, l)) / saved;
      if (ratio < downRatio[p] || (ratio === downRatio[p] && saved > downSaved[p])) {
        downRatio[p] = ratio;
        downSaved[p] = saved;
        downLevel[p] = l;
      }
    }
  };
  for (let p = 0; p < m; p++) bestDowngrade(p);
  let miss = simulate(0);
  while (miss >= 0) {
    let bestP = -1;
    for (let p = 0; p <= miss; p++) {
      if (downLevel[p] < 0) continue;
      if (bestP < 0 || downRatio[p] < downRatio[bestP] || (downRatio[p] === downRatio[bestP] && downSaved[p] > downSaved[bestP])) bestP = p;
    }
    if (bestP < 0) {
      // Unreachable by monotonicity (the refusal pass proved the all-cheapest prefix meets this deadline); kept so
      // rounding can never loop forever: refuse the job that misses and serve the rest at their cheapest.
      const j = served[miss];
      choices[j] = { refused: true, earliestFinish: finish[miss] };
      const rest = served.filter((x) => x !== j);
      return finishPlan(jobs, fronts, choices, rest, new Int32Array(rest.length), now, initial);
    }
    level[bestP] = downLevel[bestP];
    bestDowngrade(bestP);
    miss = simulate(bestP);
  }

  if (input.improve !== false && m > 0) {
    // Suffix minimum of slack: an upgrade at p adding d ms is safe when d ≤ slackFrom[p] (1-Lipschitz bound), and
    // certainly unsafe when d exceeds p's own slack (its start does not move).
    const slackFrom = new Float64Array(m + 1);
    const refreshSlack = () => {
      slackFrom[m] = Infinity;
      for (let p = m - 1; p >= 0; p--) slackFrom[p] = Math.min(slackFrom[p + 1], jobs[served[p]].deadline - finish[p]);
    };
    refreshSlack();
    const candidates: Array<{ p: number; l: number; ratio: number; cost: number }> = [];
    for (let p = 0; p < m; p++) {
      const top = fronts[served[p]].length - 1;
      for (let l = level[p] + 1; l <= top; l++) {
        const cost = execOf(p, l) - execOf(p);
        candidates.push({ p, l, cost, ratio: (accOf(p, l) - accOf(p)) / cost });
      }
    }
    candidates.sort((a, b) => b.ratio - a.ratio || a.cost - b.cost);
    // One pass is enough: accepted upgrades only lengthen jobs, so an upgrade that fails once fails for good
    // (and so does every larger one at the same position).
    const failedAt = new Int32Array(m).fill(0x7fffffff);
    for (const c of candidates) {
      if (c.l <= level[c.p] || c.l >= failedAt[c.p]) continue;
      const delta = execOf(c.p, c.l) - execOf(c.p);
      const own = jobs[served[c.p]].deadline - finish[c.p];
      if (delta < slackFrom[c.p] - EPS || (delta <= own && holdsWith(c.p, c.l))) {
        level[c.p] = c.l;
        simulate(c.p);
        refreshSlack();
      } else failedAt[c.p] = c.l;
    }
  }

  return finishPlan(jobs, fronts, choices, served, level, now, initial);
}

/** EDF: earlier deadline first, then earlier arrival, then input order. */
function cmpEdf(jobs: readonly AdaptJob[], a: number, b: number): number {
  const da = jobs[a].deadline;
  const db = jobs[b].deadline;
  if (da !== db) return da < db ? -1 : 1;
  const aa = jobs[a].arrival;
  const ab = jobs[b].arrival;
  if (aa !== ab) return aa < ab ? -1 : 1;
  return a - b;
}

/** Indices of the configurations worth considering, cheapest first; each more accurate than the one before. */
export function paretoFront(configs: readonly AdaptConfig[]): number[] {
  const byExec = configs.map((_, i) => i).sort((a, b) => configs[a].execMs - configs[b].execMs || configs[b].accuracy - configs[a].accuracy || a - b);
  const front: number[] = [];
  for (const i of byExec) {
    if (front.length === 0 || configs[i].accuracy > configs[front[front.length - 1]].accuracy) front.push(i);
  }
  return front;
}

/**
 * Finish times when `order` (input indices) is served EDF-style in that order, each job to the first free worker,
 * with `configOf(i)` as job i's configuration index. Exported so callers and tests check plans with the same model.
 */
export function simulateSchedule(
  now: number,
  workers: readonly number[],
  jobs: readonly AdaptJob[],
  order: readonly number[],
  configOf: (i: number) => number,
): Map<number, { start: number; finish: number }> {
  const free = Array.from(workers, (t) => Math.max(t, now)).sort((a, b) => a - b);
  const out = new Map<number, { start: number; finish: number }>();
  for (const i of order) {
    const start = Math.max(free[0], jobs[i].arrival, now);
    const finish = start + jobs[i].configs[configOf(i)].execMs;
    out.set(i, { start, finish });
    free[0] = finish;
    siftFirst(free);
  }
  return out;
}

function finishPlan(
  jobs: readonly AdaptJob[],
  fronts: number[][],
  choices: AdaptChoice[],
  served: number[],
  level: Int32Array,
  now: number,
  initial: readonly number[],
): AdaptPlan {
  const configOf = new Map<number, number>();
  served.forEach((j, p) => configOf.set(j, fronts[j][level[p]]));
  const times = simulateSchedule(now, initial, jobs, served, (i) => configOf.get(i)!);
  let accuracy = 0;
  let execMs = 0;
  for (const j of served) {
    const config = configOf.get(j)!;
    const t = times.get(j)!;
    choices[j] = { refused: false, config, start: t.start, finish: t.finish };
    accuracy += jobs[j].configs[config].accuracy;
    execMs += jobs[j].configs[config].execMs;
  }
  return { choices, order: served, accuracy, execMs, refused: jobs.length - served.length };
}

/** Restores ascending order after free[0] grew (one insertion step). */
function siftFirst(free: number[]): void {
  const v = free[0];
  let k = 1;
  while (k < free.length && free[k] < v) {
    free[k - 1] = free[k];
    k++;
  }
  free[k - 1] = v;
}

function siftFirstAt(a: Float64Array, base: number, w: number): void {
  const v = a[base];
  let k = 1;
  while (k < w && a[base + k] < v) {
    a[base + k - 1] = a[base + k];
    k++;
  }
  a[base + k - 1] = v;
}

function validate(input: AdaptInput): void {
  if (!Number.isFinite(input.now)) throw new RangeError(`adapt: now must be a finite time, got ${input.now}`);
  if (input.workers.length < 1) throw new RangeError('adapt: at least one worker is needed');
  input.workers.forEach((t, k) => {
    if (!Number.isFinite(t)) throw new RangeError(`adapt: workers[${k}] must be a finite time, got ${t}`);
  });
  input.jobs.forEach((j, i) => {
    if (!Number.isFinite(j.arrival)) throw new RangeError(`adapt: jobs[${i}].arrival must be a finite time, got ${j.arrival}`);
    if (Number.isNaN(j.deadline) || j.deadline === -Infinity) throw new RangeError(`adapt: jobs[${i}].deadline must be a time or Infinity, got ${j.deadline}`);
    if (j.configs.length === 0) throw new RangeError(`adapt: jobs[${i}] accepts no configuration`);
    j.configs.forEach((c, k) => {
      if (!Number.isFinite(c.execMs) || c.execMs < 0) throw new RangeError(`adapt: jobs[${i}].configs[${k}].execMs must be ≥ 0, got ${c.execMs}`);
      if (!Number.isFinite(c.accuracy)) throw new RangeError(`adapt: jobs[${i}].configs[${k}].accuracy must be finite, got ${c.accuracy}`);
    });
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Planning a deadline queue: the queue's jobs (EDF-sorted) with the configurations they accept.

/** One configuration a queued job accepts, with its predicted execution and expected accuracy. */
export interface Candidate {
  estimateMs: number;
  accuracy: number;
}

export interface PlannableJob {
  deadline: number;
  enqueuedAt: number;
  /** Predicted execution of the configuration currently chosen (or the only one). */
  estimateMs: number;
  /** Accepted configurations; absent = only the job's own. */
  candidates?: readonly Candidate[];
  /** Index into `candidates` of the configuration that will run. */
  chosen?: number;
}

export interface QueuePlan<T extends PlannableJob> {
  /** Configuration index per queued job with candidates (refused ones get their cheapest, so lateness is judged on it). */
  chosen: Map<T, number>;
  /** The incoming job's verdict, when one was given. */
  incoming: AdaptChoice | null;
}

/**
 * Plans the configurations of everything queued (and of `incoming`, a job asking to be admitted) on `executors`
 * workers, given the runs in progress. Jobs without candidates keep their own estimate and count as one fixed
 * configuration of zero accuracy, so they are planned around, never changed.
 */
export function planQueue<T extends PlannableJob>(
  queued: readonly T[],
  incoming: T | null,
  now: number,
  executors: number,
  running: Iterable<{ startedAt: number; estimateMs: number }>,
): QueuePlan<T> {
  const workers: number[] = [];
  for (const r of running) if (workers.length < executors) workers.push(Math.max(now, r.startedAt + r.estimateMs));
  while (workers.length < Math.max(1, executors)) workers.push(now);
  const all = incoming ? [...queued, incoming] : queued;
  const jobs: AdaptJob[] = all.map((j) => {
    const own = j.candidates && j.candidates.length > 0 ? j.candidates : [{ estimateMs: j.estimateMs, accuracy: 0 }];
    return {
      arrival: Math.min(j.enqueuedAt, now),
      deadline: j.deadline,
      configs: own.map((c) => ({ execMs: Math.max(0, c.estimateMs), accuracy: c.accuracy })),
    };
  });
  const plan = adapt({ now, workers, jobs });
  const chosen = new Map<T, number>();
  all.forEach((j, i) => {
    if (!j.candidates || j.candidates.length === 0) return;
    const c = plan.choices[i];
    chosen.set(j, c.refused ? paretoFront(jobs[i].configs)[0] : c.config);
  });
  return { chosen, incoming: incoming ? plan.choices[all.length - 1] : null };
}
