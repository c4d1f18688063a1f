/**
 * Measures the edge server as deployed (a separate `tsx edge-server/server.ts` process on loopback):
 *  1. /v1/ocr latency per stage (Server-Timing) for three images, one client, medians, per pool shape;
 *  2. throughput with 2 concurrent clients for several pool shapes (workers × intra-op threads).
 * Writes bench/out/edge-pool.json and prints Markdown tables.
 *
 *   npx tsx bench/pool/pool-bench.ts [--seconds 25] [--rounds 2] [--shapes 1x2,2x1]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { SERVER_TIMING_HEADER, parseServerTiming } from '../../core/protocol/server-timing';
import { percentile } from '../../edge-server/runtime/latency';
import { REPO_ROOT } from '../../edge-server/config';
import { renderTextImage } from '../../test-support/text-image';
import { sharedEvalDir } from '../../test-support/shared-set';

const { values: args } = parseArgs({
  options: {
    seconds: { type: 'string', default: '25' },
    rounds: { type: 'string', default: '2' },
    shapes: { type: 'string', default: '1x2,2x1' },
    repeats: { type: 'string', default: '5' },
    port: { type: 'string', default: '18931' },
  },
});
const SECONDS = Number(args.seconds);
const ROUNDS = Number(args.rounds);
const REPEATS = Number(args.repeats);
const PORT = Number(args.port);
const SHAPES = args.shapes!.split(',').map((s) => {
  const [w, t] = s.split('x').map(Number);
  return { workers: w, threads: t };
});
const BASE = `http://127.0.0.1:${PORT}`;

interface BenchImage {
  name: string;
  bytes: Uint8Array;
  type: string;
}

async function images(): Promise<BenchImage[]> {
  const gen = await renderTextImage({
    lines: ['Tandem edge benchmark', 'Invoice 4711 due 2026-12-01', 'Total 93.50 EUR incl. VAT', 'Thank you for your order'],
    width: 1280,
    height: 720,
  });
  const list: BenchImage[] = [{ name: 'generated 1280x720 (4 lines, JPEG)', bytes: gen.jpeg, type: 'image/jpeg' }];
  const dir = sharedEvalDir();
  for (const [file, label] of [
    ['images/icdar2015/img_9.jpg', 'icdar2015 img_9 (scene)'],
    ['images/sroie/031.jpg', 'sroie 031 (receipt)'],
  ] as const) {
    if (dir && existsSync(join(dir, file))) {
      const bytes = new Uint8Array(readFileSync(join(dir, file)));
      list.push({ name: label, bytes, type: 'image/jpeg' });
    }
  }
  return list;
}

async function startServer(workers: number, threads: number): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'edge-server/server.ts')], {
    cwd: REPO_ROOT,
    env: { ...process.env, PORT: String(PORT), HOST: '127.0.0.1', POOL_WORKERS: String(workers), ORT_INTRA_OP_THREADS: String(threads), LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}`);
    try {
      if ((await fetch(`${BASE}/v2/health/ready`)).ok) return child;
    } catch {
      /* not listening yet */
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  child.kill('SIGTERM');
  throw new Error('server did not become ready in 60 s');
}

async function stopServer(child: ChildProcess): Promise<void> {
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}

async function ocr(img: BenchImage): Promise<{ ms: number; timing: Record<string, number>; lines: number }> {
  const t0 = performance.now();
  const res = await fetch(`${BASE}/v1/ocr`, { method: 'POST', body: img.bytes as Uint8Array<ArrayBuffer>, headers: { 'content-type': img.type } });
  const body = (await res.json()) as { lines?: unknown[]; error?: string };
  if (!res.ok) throw new Error(`${img.name}: ${res.status} ${body.error}`);
  return { ms: performance.now() - t0, timing: parseServerTiming(res.headers.get(SERVER_TIMING_HEADER)), lines: body.lines!.length };
}

const median = (xs: number[]) => percentile(xs, 0.5);
const fmt = (x: number) => x.toFixed(0);

async function stageLatency(list: BenchImage[]) {
  const rows = [];
  for (const img of list) {
    await ocr(img); // warm-up: first runs at a new size pay allocation costs
    const runs = [];
    for (let i = 0; i < REPEATS; i++) runs.push(await ocr(img));
    const stages = ['decode', 'preprocess', 'det', 'postprocess', 'cls', 'rec', 'total'];
    const row: Record<string, string | number> = { image: img.name, lines: runs[0].lines };
    for (const s of stages) row[s] = median(runs.map((r) => r.timing[s] ?? 0));
    row.clientMs = median(runs.map((r) => r.ms));
    rows.push(row);
  }
  return rows;
}

async function throughput(list: BenchImage[], seconds: number) {
  const latencies: number[] = [];
  let done = 0;
  const end = performance.now() + seconds * 1000;
  const client = async (offset: number) => {
    for (let i = offset; performance.now() < end; i++) {
      const r = await ocr(list[i % list.length]);
      latencies.push(r.ms);
      done++;
    }
  };
  const t0 = performance.now();
  await Promise.all([client(0), client(1)]);
  const elapsed = (performance.now() - t0) / 1000;
  return { requests: done, seconds: elapsed, rps: done / elapsed, p50: median(latencies), p90: percentile(latencies, 0.9) };
}

const list = await images();
console.log(
  `images: ${list.map((i) => i.name).join('; ')}; load average before: ${loadavg()
    .map((x) => x.toFixed(2))
    .join(' ')}`,
);

// 1. Per-stage latency, one client, for every shape.
let server: ChildProcess;
const stagesByShape: Record<string, Awaited<ReturnType<typeof stageLatency>>> = {};
for (const shape of SHAPES) {
  server = await startServer(shape.workers, shape.threads);
  stagesByShape[`${shape.workers}x${shape.threads}`] = await stageLatency(list);
  await stopServer(server);
}

// 2. Throughput, shapes interleaved over rounds so drift in machine load hits each alike.
const results: Record<string, Array<Awaited<ReturnType<typeof throughput>>>> = {};
for (let round = 0; round < ROUNDS; round++) {
  for (const shape of SHAPES) {
    const key = `${shape.workers}x${shape.threads}`;
    server = await startServer(shape.workers, shape.threads);
    for (const img of list) await ocr(img); // warm-up every worker size class once
    await Promise.all([ocr(list[0]), ocr(list[0])]);
    const r = await throughput(list, SECONDS);
    (results[key] ??= []).push(r);
    console.log(
      `round ${round + 1} ${key}: ${r.requests} req in ${r.seconds.toFixed(1)} s = ${r.rps.toFixed(2)} req/s, p50 ${fmt(r.p50)} ms, p90 ${fmt(r.p90)} ms (load ${loadavg()[0].toFixed(2)})`,
    );
    await stopServer(server);
  }
}

const stageTable = [
  `| pool | image | lines | decode | preprocess | det | postprocess | cls | rec | server total | client total |`,
  `|---|---|---|---|---|---|---|---|---|---|---|`,
  ...Object.entries(stagesByShape).flatMap(([k, rows]) =>
    rows.map(
      (r) =>
        `| ${k.replace('x', ' × ')} | ${r.image} | ${r.lines} | ${[r.decode, r.preprocess, r.det, r.postprocess, r.cls, r.rec, r.total, r.clientMs].map((x) => fmt(x as number)).join(' | ')} |`,
    ),
  ),
].join('\n');
const tpTable = [
  `| pool (workers × intra-op threads) | rounds | requests | req/s (mean of rounds) | p50 ms | p90 ms |`,
  `|---|---|---|---|---|---|`,
  ...Object.entries(results).map(([k, rs]) => {
    const rps = rs.reduce((a, r) => a + r.rps, 0) / rs.length;
    return `| ${k.replace('x', ' × ')} | ${rs.length} | ${rs.reduce((a, r) => a + r.requests, 0)} | ${rps.toFixed(2)} (${rs.map((r) => r.rps.toFixed(2)).join(', ')}) | ${rs.map((r) => fmt(r.p50)).join(', ')} | ${rs.map((r) => fmt(r.p90)).join(', ')} |`;
  }),
].join('\n');
console.log(`\n/v1/ocr per-stage medians (ms), one client, ${REPEATS} runs after warm-up:\n\n${stageTable}\n`);
console.log(`Throughput, 2 concurrent clients cycling the images, ${SECONDS} s per round:\n\n${tpTable}\n`);

const outDir = join(REPO_ROOT, 'bench', 'out');
mkdirSync(outDir, { recursive: true });
writeFileSync(
  join(outDir, 'edge-pool.json'),
  JSON.stringify(
    {
      measuredAt: new Date().toISOString(),
      images: list.map((i) => i.name),
      stages: stagesByShape,
      throughput: results,
      settings: { seconds: SECONDS, rounds: ROUNDS, repeats: REPEATS, shapes: SHAPES },
    },
    null,
    2,
  ),
);
console.log(`wrote ${join(outDir, 'edge-pool.json')}`);
