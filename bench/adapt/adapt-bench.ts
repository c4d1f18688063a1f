/**
 * Speed and quality of the collective adaptation (scheduler/adapt.ts) on generated queues:
 * - time per call for 100 queued jobs with 6 configurations each on 2 workers, at no load and at 2x, 4x and 16x the
 *   work the workers can finish at fp32 before the deadlines (the cheapest configuration is 8x cheaper, so 16x refuses);
 * - total accuracy against the exact optimum (brute force) on small queues, with and without the upgrade pass.
 *
 *   npx tsx bench/adapt/adapt-bench.ts [--calls 300] [--out FILE]
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { mulberry32 as rng } from '../../test-support/random';
import { adapt, simulateSchedule, type AdaptConfig, type AdaptInput } from '../../edge-server/scheduler/adapt';

const args = process.argv.slice(2);
const opt = (name: string) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const calls = Number(opt('--calls') ?? 300);
const out = opt('--out');

/** Configurations shaped like the detector ladder: fp32/int8 × three input sizes. */
function configs(r: () => number): AdaptConfig[] {
  const base = 80 + 160 * r();
  const list: AdaptConfig[] = [];
  for (const [variant, speed, acc] of [
    ['fp32', 1, 0],
    ['int8', 0.5, 0.01],
  ] as const) {
    for (const [side, area, loss] of [
      [960, 1, 0],
      [640, 0.45, 0.05],
      [480, 0.25, 0.12],
    ] as const) {
      void variant;
      void side;
      list.push({ execMs: base * speed * area, accuracy: 0.8 - acc - loss + 0.01 * r() });
    }
  }
  return list;
}

/** `load`: offered work over what 2 workers can do at fp32 before the deadlines (0 = no deadlines). */
function queue(r: () => number, n: number, load: number, configsPerJob = 6): AdaptInput {
  const jobs = Array.from({ length: n }, (_, i) => {
    const c = configs(r).slice(0, configsPerJob);
    const work = (n * 160) / 2;
    const deadline = load === 0 ? Infinity : (work / load) * (0.3 + 0.7 * r()) + 200;
    return { arrival: -i, deadline, configs: c };
  });
  return { now: 0, workers: [0, 30 * r()], jobs };
}

function timePerCall(load: number): { p50: number; p99: number; refused: number } {
  const r = rng(7 + load);
  const inputs = Array.from({ length: calls }, () => queue(r, 100, load));
  for (const input of inputs.slice(0, 100)) adapt(input); // warm-up (JIT)
  const ms: number[] = [];
  let refused = 0;
  for (const input of inputs) {
    const t0 = performance.now();
    const plan = adapt(input);
    ms.push(performance.now() - t0);
    refused += plan.refused;
  }
  ms.sort((a, b) => a - b);
  return { p50: ms[Math.floor(ms.length / 2)], p99: ms[Math.floor(ms.length * 0.99)], refused: refused / inputs.length };
}

function optimum(input: AdaptInput, served: number[]): number {
  let best = -Infinity;
  const pick = new Array<number>(input.jobs.length).fill(0);
  const walk = (k: number): void => {
    if (k === served.length) {
      const t = simulateSchedule(input.now, input.workers, input.jobs, served, (i) => pick[i]);
      if (served.some((i) => t.get(i)!.finish > input.jobs[i].deadline)) return;
      best = Math.max(
        best,
        served.reduce((a, i) => a + input.jobs[i].configs[pick[i]].accuracy, 0),
      );
      return;
    }
    for (let c = 0; c < input.jobs[served[k]].configs.length; c++) {
      pick[served[k]] = c;
      walk(k + 1);
    }
  };
  walk(0);
  return best;
}

function quality(instances: number): { improved: { mean: number; worst: number; optimal: number }; greedy: { mean: number; worst: number; optimal: number } } {
  const r = rng(42);
  const gaps = { improved: [] as number[], greedy: [] as number[] };
  for (let k = 0; k < instances; k++) {
    const input = queue(r, 7, 2 + 3 * r(), 6);
    const plan = adapt(input);
    if (plan.order.length === 0) continue;
    const best = optimum(input, plan.order);
    gaps.improved.push((best - plan.accuracy) / best);
    gaps.greedy.push((best - adapt({ ...input, improve: false }).accuracy) / best);
  }
  const sum = (g: number[]) => ({
    mean: g.reduce((a, b) => a + b, 0) / g.length,
    worst: Math.max(...g),
    optimal: g.filter((x) => x < 1e-9).length / g.length,
  });
  return { improved: sum(gaps.improved), greedy: sum(gaps.greedy) };
}

const loadavg = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
timePerCall(4); // warm-up of the whole path
const speed = { none: timePerCall(0), '2x': timePerCall(2), '4x': timePerCall(4), '16x': timePerCall(16) };
const q = quality(300);

console.log(`adapt: 100 queued jobs × 6 configurations, 2 workers, ${calls} queues per load (load average ${loadavg})`);
console.log('| load | p50 ms/call | p99 ms/call | jobs refused per queue |');
console.log('|---|---|---|---|');
for (const [k, v] of Object.entries(speed)) console.log(`| ${k} | ${v.p50.toFixed(3)} | ${v.p99.toFixed(3)} | ${v.refused.toFixed(1)} |`);
console.log('\nTotal accuracy below the exact optimum (7 jobs × 6 configurations, 2x–5x overload, 300 queues):');
console.log('| method | mean gap | worst gap | optimal share |');
console.log('|---|---|---|---|');
for (const [k, v] of Object.entries(q)) {
  console.log(
    `| ${k === 'greedy' ? 'greedy downgrade (Jellyfish)' : 'greedy + upgrade pass'} | ${(v.mean * 100).toFixed(2)} % | ${(v.worst * 100).toFixed(2)} % | ${(v.optimal * 100).toFixed(0)} % |`,
  );
}
if (out) {
  writeFileSync(out, `${JSON.stringify({ loadavg, calls, msPerCall: speed, optimumGap: q }, null, 2)}\n`);
  console.log(`\nwrote ${out}`);
}
