/**
 * Planner micro-benchmark: wall time of decide() over the page's plan space (executableProfiles() with the page's
 * default variant, as web/placement/page-planner.ts and the simulator build it), for a rotating set of realistic
 * requests (image sizes, links, budgets, cold and warm models, Save-Data, cellular), after a warm-up.
 *
 *   npm run bench:planner [-- --out FILE] [--profiles profiles.json] [--iterations N]
 *
 * Prints a Markdown table; --out writes {"decide_p50_ms", "decide_p99_ms", ...} for the Tandem policy on the
 * given profiles (models/repository/profiles.json when present, else the built-in example profiles); rows for
 * the whole profiled space and a synthetic larger zoo show how time grows with the space. Beside wall
 * time it gives the process CPU time per call, which a busy shared machine inflates less, and the load average.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { parseProfiles, type Profiles } from '../../core/profiles';
import {
  createEstimatorState,
  createPolicy,
  decide,
  EXAMPLE_PROFILES,
  executableProfiles,
  POLICY_NAMES,
  type KnownPolicy,
  type Observation,
} from '../../core/placement';
import { buildObservation, linkSamples } from '../../core/placement/observation-builder';
import { mulberry32 } from '../../test-support/random';

interface Result {
  profiles: string;
  policy: KnownPolicy;
  plans: number;
  iterations: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
  cpuP50: number;
  cpuP99: number;
}

const { values } = parseArgs({
  options: {
    out: { type: 'string' },
    profiles: { type: 'string' },
    iterations: { type: 'string', default: '20000' },
    warmup: { type: 'string', default: '3000' },
    variant: { type: 'string' },
  },
});
const iterations = positiveInt(values.iterations!, '--iterations');
const warmup = positiveInt(values.warmup!, '--warmup');
const DEFAULT_PROFILES = 'models/repository/profiles.json';
const profilesPath = values.profiles ?? (existsSync(DEFAULT_PROFILES) ? DEFAULT_PROFILES : undefined);
const profiles = profilesPath !== undefined ? loadProfiles(profilesPath) : EXAMPLE_PROFILES;
const profilesName = profilesPath !== undefined ? `${profilesPath} (${profiles.source.kind})` : `example (${profiles.source.kind})`;

function requests(p: Profiles, count: number): Observation[] {
  const rnd = mulberry32(42);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(rnd() * xs.length)];
  const out: Observation[] = [];
  for (let k = 0; k < count; k++) {
    const width = pick([640, 1280, 1600, 3024, 4000]);
    const height = Math.round(width * pick([0.5625, 0.75, 1.333]));
    const upKbps = Math.round(Math.exp(Math.log(200) + rnd() * Math.log(100_000 / 200)));
    const rttMs = Math.round(5 + rnd() * 300);
    const warm = rnd() < 0.7;
    const nowMs = 1_000_000 + k * 1000;
    out.push(
      buildObservation({
        nowMs,
        connection: pick(['wifi', 'wifi', 'cellular', 'unknown'] as const),
        netInfo: rnd() < 0.5 ? { effectiveType: '4g', downlinkMbps: 10, rttMs: 100 } : undefined,
        ...linkSamples({ atMs: nowMs, rttMs, upKbps, downKbps: upKbps * 3, count: 8 }),
        device: { models: warm ? p.models.map((m) => ({ model: m.id, state: 'warm' as const })) : [{ model: p.defaults.det, state: 'cached' }] },
        request: { width, height, bytes: Math.round(width * height * (0.15 + rnd() * 0.5)), budgetMs: pick([300, 500, 1000, 2000, 4000]) },
        preferences: { costWeight: rnd(), saveData: rnd() < 0.1, offloadOnCellular: rnd() < 0.8 },
      }),
    );
  }
  return out;
}

/** A bigger zoo (fp16 twin of every detector, more input sides and re-encodes) to show how time grows with the space. */
function largerZoo(p: Profiles): Profiles {
  const twin = (id: string) => id.replace('@', '@fp16-');
  const dets = p.models.filter((m) => m.role === 'det');
  const sides = [320, 480, 640, 800, 960, 1280];
  return {
    ...p,
    models: [...p.models, ...dets.map((m) => ({ ...m, id: twin(m.id), variant: `fp16-${m.variant}` }))],
    runtimes: p.runtimes.map((r) => ({
      ...r,
      stages: [...r.stages, ...r.stages.filter((s) => dets.some((d) => d.id === s.model)).map((s) => ({ ...s, model: twin(s.model!) }))],
    })),
    accuracy: [...dets.map((d) => d.id), ...dets.map((d) => twin(d.id))].flatMap((det) =>
      sides.map((maxSide) => ({ det, maxSide, rec: p.defaults.rec, wordRecall: 0.5 + (0.3 * maxSide) / 1280 })),
    ),
    reencode: [640, 960, 1280, 1600, 2048].flatMap((maxSide) =>
      [0.7, 0.85].map((quality) => ({ maxSide, quality, bitsPerPixel: 2 * quality, recallFactor: 0.9 + maxSide / 20480 })),
    ),
  };
}

function run(p: Profiles, name: string, policyName: KnownPolicy): Result {
  const state = createEstimatorState(p);
  const policy = createPolicy(policyName);
  const obs = requests(p, 256);
  for (let k = 0; k < warmup; k++) decide(obs[k % obs.length], p, policy, state);
  const times = new Float64Array(iterations);
  const cpu = new Float64Array(iterations);
  let sink = 0;
  for (let k = 0; k < iterations; k++) {
    const o = obs[k % obs.length];
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    const d = decide(o, p, policy, state);
    times[k] = performance.now() - t0;
    const c = process.cpuUsage(c0);
    cpu[k] = (c.user + c.system) / 1000;
    sink += d.plan.index;
  }
  if (sink < 0) console.log(sink);
  const sorted = Array.from(times).sort((a, b) => a - b);
  const q = (f: number) => sorted[Math.min(sorted.length - 1, Math.ceil(f * sorted.length) - 1)];
  const cpuSorted = Array.from(cpu).sort((a, b) => a - b);
  const qc = (f: number) => cpuSorted[Math.min(cpuSorted.length - 1, Math.ceil(f * cpuSorted.length) - 1)];
  return {
    profiles: name,
    policy: policyName,
    plans: state.space.plans.length,
    iterations,
    p50: q(0.5),
    p90: q(0.9),
    p99: q(0.99),
    max: sorted[sorted.length - 1],
    mean: sorted.reduce((a, b) => a + b, 0) / sorted.length,
    cpuP50: qc(0.5),
    cpuP99: qc(0.99),
  };
}

function loadProfiles(path: string): Profiles {
  try {
    return parseProfiles(readFileSync(path, 'utf8'));
  } catch (e) {
    const err = e as Error & { code?: string };
    console.error(err.code === 'ENOENT' ? `--profiles: no file at ${path}` : `--profiles ${path}: ${err.message}`);
    process.exit(2);
  }
}

function positiveInt(v: string, flag: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) {
    console.error(`${flag}: expected a positive integer, got "${v}"`);
    process.exit(2);
  }
  return n;
}

const loadBefore = loadavg();
const results: Result[] = [];
const pageProfiles = executableProfiles(profiles, values.variant ?? null);
for (const policy of POLICY_NAMES) results.push(run(pageProfiles, `${profilesName}, page plan space (${values.variant ?? 'every variant set'})`, policy));
results.push(run(profiles, `${profilesName}, whole profiled space`, 'tandem'));
results.push(run(largerZoo(profiles), 'larger zoo (synthetic, scaling only)', 'tandem'));

const ms = (x: number) => x.toFixed(4);
const load = [loadBefore, loadavg()].map((l) => l.map((x) => x.toFixed(2)).join('/'));
console.log(`decide() wall time, ${iterations} requests after ${warmup} warm-up, Node ${process.version}; load average ${load[0]} before, ${load[1]} after\n`);
console.log('| profiles | policy | plans | p50 ms | p90 ms | p99 ms | max ms | mean ms | CPU p50 ms | CPU p99 ms |');
console.log('|---|---|---|---|---|---|---|---|---|---|');
for (const r of results) {
  console.log(
    `| ${r.profiles} | ${r.policy} | ${r.plans} | ${ms(r.p50)} | ${ms(r.p90)} | ${ms(r.p99)} | ${ms(r.max)} | ${ms(r.mean)} | ${ms(r.cpuP50)} | ${ms(r.cpuP99)} |`,
  );
}

const main = results[0];
console.log(
  `\nTandem over ${main.plans} plans: p50 ${ms(main.p50)} ms, p99 ${ms(main.p99)} ms (goal p99 ≤ 0.2 ms: ${main.p99 <= 0.2 ? 'met' : 'NOT met'}); CPU time p99 ${ms(main.cpuP99)} ms; load average ${load[1]}`,
);
if (values.out) {
  const json = {
    decide_p50_ms: main.p50,
    decide_p99_ms: main.p99,
    plans: main.plans,
    iterations,
    profiles: profilesName,
    node: process.version,
    decide_cpu_p99_ms: main.cpuP99,
    load_average: { before: loadBefore, after: loadavg() },
    results,
  };
  writeFileSync(values.out, `${JSON.stringify(json, null, 2)}\n`);
  console.log(`wrote ${values.out}`);
}
