/**
 * Overload check of deadline-aware admission: the server as its own process on loopback, open-loop Poisson arrivals
 * of /v1/ocr (generated 1280x720 JPEG, 4 lines) at a multiple of measured capacity, each with the same budget.
 * "fifo" sends no budget header (plain FIFO, nothing refused); "scheduler" sends it. A reply counts as in budget
 * when the client has it within the budget; a refusal counts as fast when it arrives within 20 ms.
 *
 *   npx tsx edge-server/bench/deadline-bench.ts [--load 4] [--seconds 12] [--budget 2000]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { REPO_ROOT } from '../config';
import { percentile } from '../runtime/latency';
import { renderTextImage } from '../../test-support/text-image';

const { values: args } = parseArgs({
  options: {
    load: { type: 'string', default: '4' },
    seconds: { type: 'string', default: '12' },
    budget: { type: 'string', default: '2000' },
    port: { type: 'string', default: '18941' },
  },
});
const LOAD = Number(args.load);
const SECONDS = Number(args.seconds);
const BUDGET = Number(args.budget);
const BASE = `http://127.0.0.1:${args.port}`;

async function startServer(): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'edge-server/server.ts')], {
    cwd: REPO_ROOT,
    env: { ...process.env, PORT: args.port, HOST: '127.0.0.1', MODELS: 'ppocr-det,ppocr-cls,ppocr-rec', LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  for (const until = Date.now() + 60_000; Date.now() < until;) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}`);
    try { if ((await fetch(`${BASE}/v2/health/ready`)).ok) return child; } catch { /* not yet */ }
    await new Promise((r) => setTimeout(r, 200));
  }
  child.kill('SIGTERM');
  throw new Error('server not ready in 60 s');
}

async function stopServer(child: ChildProcess): Promise<void> {
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGINT');
  child.kill('SIGINT'); // second signal: exit now, do not drain the backlog
  await exited;
}

type Outcome = { kind: 'ok' | 'refused' | 'late' | 'error'; ms: number };

async function send(jpeg: Uint8Array, budget: number | null): Promise<Outcome> {
  const t = performance.now();
  try {
    const res = await fetch(`${BASE}/v1/ocr`, {
      method: 'POST', body: jpeg as Uint8Array<ArrayBuffer>,
      headers: { 'content-type': 'image/jpeg', ...(budget === null ? {} : { 'x-tandem-budget-ms': String(budget) }) },
      // The phone gives up at its budget (plus slack), whatever the server does.
      signal: AbortSignal.timeout(BUDGET + 1000),
    });
    await res.arrayBuffer();
    const ms = performance.now() - t;
    if (res.status === 503) return { kind: 'refused', ms };
    if (!res.ok) return { kind: 'error', ms };
    return { kind: ms <= BUDGET ? 'ok' : 'late', ms };
  } catch {
    return { kind: 'late', ms: performance.now() - t };
  }
}

async function capacity(jpeg: Uint8Array): Promise<number> {
  for (let i = 0; i < 3; i++) await send(jpeg, null); // warm-up, also gives the server its first measurements
  let done = 0;
  const until = performance.now() + 8000;
  await Promise.all([0, 1].map(async () => { while (performance.now() < until) { await send(jpeg, null); done++; } }));
  return done / 8;
}

async function scenario(jpeg: Uint8Array, rate: number, withBudget: boolean) {
  const pending: Promise<Outcome>[] = [];
  const until = performance.now() + SECONDS * 1000;
  while (performance.now() < until) {
    pending.push(send(jpeg, withBudget ? BUDGET : null));
    await new Promise((r) => setTimeout(r, -Math.log(1 - Math.random()) * 1000 / rate));
  }
  const all = await Promise.all(pending);
  const share = (f: (o: Outcome) => boolean) => all.filter(f).length / all.length;
  const refusals = all.filter((o) => o.kind === 'refused').map((o) => o.ms);
  const served = all.filter((o) => o.kind === 'ok' || o.kind === 'late').map((o) => o.ms);
  return {
    requests: all.length,
    in_budget: share((o) => o.kind === 'ok'),
    refused: share((o) => o.kind === 'refused'),
    refused_fast: share((o) => o.kind === 'refused' && o.ms <= 20),
    answered_or_refused_fast: share((o) => o.kind === 'ok' || (o.kind === 'refused' && o.ms <= 20)),
    refusal_p50_ms: round(percentile(refusals, 0.5)), refusal_p99_ms: round(percentile(refusals, 0.99)),
    p50_ms: round(percentile(served, 0.5)), p99_ms: round(percentile(served, 0.99)),
    errors: all.filter((o) => o.kind === 'error').length,
  };
}

const round = (x: number) => Math.round(x * 10) / 10;

const { jpeg } = await renderTextImage({
  lines: ['Tandem edge benchmark', 'Invoice 4711 due 2026-12-01', 'Total 93.50 EUR incl. VAT', 'Thank you for your order'],
  width: 1280, height: 720,
});
const results: Record<string, unknown> = {};
let server = await startServer();
const cap = await capacity(jpeg);
const rate = cap * LOAD;
console.log(`capacity ${cap.toFixed(2)} req/s (2 closed-loop clients); offering ${rate.toFixed(2)} req/s (${LOAD}x) for ${SECONDS} s, budget ${BUDGET} ms`);
results.fifo = await scenario(jpeg, rate, false);
await stopServer(server);
server = await startServer();
await capacity(jpeg); // same warm state as before the FIFO run
results.scheduler = await scenario(jpeg, rate, true);
await stopServer(server);
console.log(JSON.stringify({ capacity_rps: round(cap), load: LOAD, budget_ms: BUDGET, ...results }, null, 2));
