/**
 * The edge server as deployed (its own process on loopback) against bare onnxruntime-node on the same inputs and
 * threads, and under open-loop overload:
 *  1. per-request overhead: one client, sequential OIP runs (detector 544x960, one recognition crop) vs session.run(),
 *     with tensors in the HTTP body and with tensors in system shared memory (as Triton's perf_analyzer measures a
 *     server: the transport of megabytes over loopback TCP is the client's choice, not the server's work);
 *  2. served throughput vs bare: closed-loop clients vs one bare session per worker thread, same pool shape, both
 *     transports;
 *  3. recognition batching gain: single-crop recognition runs from 8 clients, batching on vs BATCH_MAX_SIZE=1, next to
 *     what bare onnxruntime-node gains from the same batch on this CPU (the ceiling any server could reach);
 *  4. whole requests: /v1/ocr on a fixed sample of the labelled dev photos against the bare core/ocr pipeline (same
 *     decoder, models, worker threads and intra-op threads, in one process, no HTTP): added latency at one client and
 *     photos per second at saturation, with the CPU time of the load generator and of the server per photo;
 *  5. overload: Poisson arrivals of /v1/ocr at 1x, 2x, 4x the measured capacity with mixed budgets, sent by the
 *     PWA's own edge client; FIFO (no budget header) vs the deadline scheduler, a fresh server for each.
 * Prints a Markdown table (and JSON with --out), each figure with the 1-minute load average.
 *
 *   npm run bench:server [-- --out FILE] [--quick] [--workers 2 --threads 1] [--batch 8 --delay 0]
 */
import http from 'node:http';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { getPriority, loadavg, setPriority } from 'node:os';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import type { BareOcrInit, FromBareOcr, ToBareOcr } from './bare-ocr-worker';
import { sharedEvalDir } from '../../test-support/shared-set';
import { decodeImage } from '../../edge-server/ocr/image-decode';
import {
  HEADER_LENGTH_HEADER,
  SHARED_MEMORY_BYTE_SIZE,
  type InferenceRequestJson,
  type InferenceResponseJson,
  type ModelMetadataResponse,
} from '../../core/protocol/oip';
import { encodeInferenceRequest } from '../../core/protocol/oip-codec';
import { renderTextImage } from '../../test-support/text-image';
import { sleep, startEdgeProcess, stopEdgeProcess, type EdgeProcess } from '../../test-support/edge-process';
import { edgeOcr, type EdgeError } from '../../web/edge-client';
import { SERVER_TIMING_HEADER, TIMING, parseServerTiming } from '../../core/protocol/server-timing';
import { REPO_ROOT } from '../../edge-server/config';
import { percentile } from '../../edge-server/runtime/latency';
import { SharedMemoryRegion } from '../../edge-server/oip/shared-memory-client';

const { values: args } = parseArgs({
  options: {
    out: { type: 'string' },
    quick: { type: 'boolean', default: false },
    workers: { type: 'string', default: '2' },
    threads: { type: 'string', default: '1' },
    batch: { type: 'string' },
    delay: { type: 'string' },
    loads: { type: 'string', default: '1,2,4' },
    skip: { type: 'string', default: '' },
    photos: { type: 'string' },
  },
});
const QUICK = args.quick!;
const SKIP = new Set(args.skip!.split(',').filter(Boolean));
const POOL = { POOL_WORKERS: args.workers!, ORT_INTRA_OP_THREADS: args.threads! };
const BATCH = { ...(args.batch ? { BATCH_MAX_SIZE: args.batch } : {}), ...(args.delay ? { BATCH_MAX_DELAY_MS: args.delay } : {}) };
const T = QUICK
  ? { overheadDet: 4, overheadRec: 10, throughputS: 4, batchS: 5, capacityS: 5, overloadS: 8, photos: 6, ocrRounds: 1, ocrS: 12, ocrSlices: 2 }
  : { overheadDet: 12, overheadRec: 40, throughputS: 10, batchS: 10, capacityS: 10, overloadS: 20, photos: 12, ocrRounds: 3, ocrS: 40, ocrSlices: 4 };
const DET = { model: 'ppocr-det', dims: [1, 3, 544, 960] };
const REC = { model: 'ppocr-rec', dims: [1, 3, 48, 320] };
/** One recognition width bucket (264..320 px pads to 320), so that batching has to pad. */
const REC_WIDTHS = [264, 280, 296, 312, 320];
const load1 = () => Math.round(loadavg()[0] * 100) / 100;
const round = (x: number, d = 1) => Math.round(x * 10 ** d) / 10 ** d;
const median = (xs: number[]) => percentile(xs, 0.5);

// ---------------------------------------------------------------------------------------------------------------------
// Server process

type Server = EdgeProcess;

/** The server under test, with the bench's pool and batching settings and both transports enabled. */
function startServer(env: Record<string, string> = {}): Promise<Server> {
  return startEdgeProcess({ ...POOL, ...BATCH, EDGE_SHARED_MEMORY: 'loopback', ...env, MODELS: 'ppocr-det,ppocr-cls,ppocr-rec' });
}

const stopServer = stopEdgeProcess;

// ---------------------------------------------------------------------------------------------------------------------
// OIP runs and the bare baseline

/** Encoded once, so timed sends measure the server, not the client's encoding. */
function oipBody(dims: number[]): { body: Uint8Array; headerLength: number } {
  const wire = encodeInferenceRequest(
    {
      inputs: [{ name: 'x', datatype: 'FP32', shape: dims, data: new Float32Array(dims.reduce((a, b) => a * b, 1)).fill(0.25) }],
      parameters: { binary_data_output: true },
    },
    { binaryInputs: true },
  );
  return { body: wire.body as Uint8Array, headerLength: wire.headerLength! };
}

/**
 * Plain node:http with keep-alive and the reply read into one buffer of its Content-Length: the client's own cost
 * stays small (undici's fetch added about 9 ms per detector round trip here, on the same two cores as the server),
 * so the round trip is the server's plus the loopback transfer of the bytes. Returns the round trip and the
 * server's own time from Server-Timing (total, and the inference run inside it).
 */
async function oipRun(base: string, model: string, req: { body: Uint8Array; headerLength: number }): Promise<number> {
  return (await oipTimed(base, model, req)).ms;
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });

function oipTimed(base: string, model: string, req: { body: Uint8Array; headerLength: number }): Promise<{ ms: number; serverMs: number; inferMs: number }> {
  const t = performance.now();
  return new Promise((resolve, reject) => {
    const r = http.request(
      `${base}/v2/models/${model}/infer`,
      {
        method: 'POST',
        agent,
        headers: {
          'content-type': 'application/octet-stream',
          'content-length': String(req.body.byteLength),
          [HEADER_LENGTH_HEADER]: String(req.headerLength),
        },
      },
      (res) => {
        const declared = Number(res.headers['content-length']);
        const chunks: Buffer[] = [];
        const body = Number.isFinite(declared) ? Buffer.allocUnsafe(declared) : null;
        let at = 0;
        res.on('data', (c: Buffer) => {
          if (body && at + c.length <= body.length) c.copy(body, at);
          else chunks.push(c);
          at += c.length;
        });
        res.on('error', reject);
        res.on('end', () => {
          const ms = performance.now() - t;
          if (res.statusCode !== 200) {
            reject(new Error(`${model} answered ${res.statusCode}`));
            return;
          }
          resolve({ ms, ...serverTimes(res.headers) });
        });
      },
    );
    r.on('error', reject);
    r.end(req.body);
  });
}

/**
 * A client on the same host passing tensors in system shared memory: the input is written into its region once (as
 * the bare side builds its input tensor outside the timing), and every timed run includes reading the output back.
 */
interface ShmClient {
  run(): Promise<{ ms: number; serverMs: number; inferMs: number }>;
  dispose(): Promise<void>;
}

let shmClients = 0;
async function shmClient(base: string, model: string, dims: number[]): Promise<ShmClient> {
  const meta = (await (await fetch(`${base}/v2/models/${model}`)).json()) as ModelMetadataResponse;
  const inBytes = dims.reduce((a, b) => a * b, 1) * 4;
  const id = `${process.pid}-${shmClients++}`;
  const input = await SharedMemoryRegion.create(base, `in-${id}`, inBytes);
  const output = await SharedMemoryRegion.create(base, `out-${id}`, 16 << 20);
  input.write(0, new Float32Array(inBytes / 4).fill(0.25));
  const request: InferenceRequestJson = {
    inputs: [{ name: 'x', datatype: 'FP32', shape: dims, parameters: input.parameters(0, inBytes) }],
    outputs: [{ name: meta.outputs[0].name, parameters: output.parameters(0, output.byteSize) }],
  };
  const body = Buffer.from(JSON.stringify(request));
  // As a client on the same host would, the output is read into a buffer kept from run to run.
  const outputBuffer = new Uint8Array(output.byteSize);
  return {
    run: async () => {
      const t = performance.now();
      const res = await post(`${base}/v2/models/${model}/infer`, 'application/json', body);
      if (res.status !== 200) throw new Error(`${model} answered ${res.status}: ${res.body}`);
      const reply = JSON.parse(res.body.toString()) as InferenceResponseJson;
      output.read(0, Number(reply.outputs[0].parameters![SHARED_MEMORY_BYTE_SIZE]), outputBuffer);
      const ms = performance.now() - t;
      return { ms, ...serverTimes(res.headers) };
    },
    dispose: async () => {
      await input.dispose();
      await output.dispose();
    },
  };
}

/** The server's own time for a reply (Server-Timing total) and the model run inside it. */
function serverTimes(headers: http.IncomingHttpHeaders): { serverMs: number; inferMs: number } {
  const t = parseServerTiming(String(headers[SERVER_TIMING_HEADER.toLowerCase()] ?? ''));
  return { serverMs: t[TIMING.total] ?? NaN, inferMs: t[TIMING.infer] ?? NaN };
}

function modelPath(model: string): string {
  return join(REPO_ROOT, 'models/repository', model, '1', 'model.onnx');
}

/** Bare sessions in worker threads: `count` of them, `threads` intra-op threads each, running `dims` for `seconds`. */
async function bareRuns(model: string, dims: number[], count: number, threads: number, seconds: number): Promise<number> {
  const workers = Array.from(
    { length: count },
    () =>
      new Worker(new URL('./bare-ort-worker.mjs', import.meta.url), {
        workerData: { modelPath: modelPath(model), dims, seconds, intraOpThreads: threads },
      }),
  );
  await Promise.all(workers.map((w) => new Promise((r) => w.once('message', r))));
  const done = workers.map((w) => new Promise<number>((r) => w.once('message', (m: { runs: number }) => r(m.runs))));
  for (const w of workers) w.postMessage('go');
  const runs = (await Promise.all(done)).reduce((a, b) => a + b, 0);
  await Promise.all(workers.map((w) => w.terminate()));
  return runs;
}

/** One bare session on this thread, for sequential per-run timing. */
async function bareSession(model: string) {
  const ort = await import('onnxruntime-node');
  const session = await ort.InferenceSession.create(modelPath(model), {
    intraOpNumThreads: Number(POOL.ORT_INTRA_OP_THREADS),
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  });
  return async (dims: number[]) => {
    const x = new ort.Tensor('float32', new Float32Array(dims.reduce((a, b) => a * b, 1)).fill(0.25), dims);
    const t = performance.now();
    await session.run({ x });
    return performance.now() - t;
  };
}

async function overhead(s: Server) {
  const rows = [];
  for (const [spec, n] of [
    [DET, T.overheadDet],
    [REC, T.overheadRec],
  ] as const) {
    const bare = await bareSession(spec.model);
    const req = oipBody(spec.dims);
    const shm = await shmClient(s.base, spec.model, spec.dims);
    try {
      const transports = { http: () => oipTimed(s.base, spec.model, req), shm: () => shm.run() };
      await bare(spec.dims);
      await transports.http();
      await transports.shm(); // warm-up
      const runs = {
        http: [] as Array<{ ms: number; serverMs: number; inferMs: number }>,
        shm: [] as Array<{ ms: number; serverMs: number; inferMs: number }>,
      };
      const alone: number[] = [];
      // CPU time per run: the server process's (all its threads) against the bare run's, robust to other jobs' load.
      const cpu = { http: 0, shm: 0, bare: 0 };
      const pid = s.child.pid!;
      // Interleaved, so all three see the same background load.
      for (let i = 0; i < n; i++) {
        let c0 = processCpuMs(pid);
        runs.http.push(await transports.http());
        cpu.http += processCpuMs(pid) - c0;
        c0 = ownCpuMs();
        alone.push(await bare(spec.dims));
        cpu.bare += ownCpuMs() - c0;
        c0 = processCpuMs(pid);
        runs.shm.push(await transports.shm());
        cpu.shm += processCpuMs(pid) - c0;
      }
      for (const transport of ['shm', 'http'] as const) {
        const served = runs[transport];
        const ms = median(served.map((r) => r.ms)) - median(alone);
        rows.push({
          model: spec.model,
          dims: spec.dims.join('x'),
          transport,
          served_ms: round(median(served.map((r) => r.ms))),
          bare_ms: round(median(alone)),
          overhead_ms: round(ms, 2),
          overhead_pct: round((100 * ms) / median(alone)),
          // Where the round trip goes: the server's own work around the run (body or region read included), the run in its worker.
          server_ms: round(median(served.map((r) => r.serverMs - r.inferMs)), 2),
          worker_run_ms: round(median(served.map((r) => r.inferMs))),
          server_cpu_ms_per_run: round(cpu[transport] / n, 2),
          bare_cpu_ms_per_run: round(cpu.bare / n, 2),
          cpu_overhead_ms: round((cpu[transport] - cpu.bare) / n, 2),
          load1: load1(),
        });
      }
    } finally {
      await shm.dispose();
    }
  }
  return rows;
}

async function closedLoop(clients: number, seconds: number, send: (i: number) => Promise<unknown>): Promise<number> {
  let done = 0;
  const until = performance.now() + seconds * 1000;
  await Promise.all(
    Array.from({ length: clients }, async (_, c) => {
      while (performance.now() < until) {
        await send(c);
        done++;
      }
    }),
  );
  return done / seconds;
}

async function throughput(s: Server) {
  const workers = Number(POOL.POOL_WORKERS);
  const threads = Number(POOL.ORT_INTRA_OP_THREADS);
  const clients = workers * 2;
  const rows = [];
  for (const spec of [DET, REC]) {
    const req = oipBody(spec.dims);
    const shm = await Promise.all(Array.from({ length: clients }, () => shmClient(s.base, spec.model, spec.dims)));
    try {
      const http = await closedLoop(clients, T.throughputS, () => oipRun(s.base, spec.model, req));
      const viaShm = await closedLoop(clients, T.throughputS, (c) => shm[c].run());
      const bare = (await bareRuns(spec.model, spec.dims, workers, threads, T.throughputS)) / T.throughputS;
      for (const [transport, served] of [
        ['shm', viaShm],
        ['http', http],
      ] as const) {
        rows.push({
          model: spec.model,
          dims: spec.dims.join('x'),
          transport,
          served_rps: round(served, 2),
          bare_rps: round(bare, 2),
          ratio: round(served / bare, 3),
          load1: load1(),
        });
      }
    } finally {
      await Promise.all(shm.map((c) => c.dispose()));
    }
  }
  return rows;
}

async function recBatching() {
  const bodies = REC_WIDTHS.map((w) => oipBody([1, 3, 48, w]));
  const rate = async (env: Record<string, string>) => {
    const s = await startServer(env);
    try {
      await closedLoop(8, 1, (c) => oipRun(s.base, REC.model, bodies[c % bodies.length]));
      return await closedLoop(8, T.batchS, (c) => oipRun(s.base, REC.model, bodies[(c + Math.floor(Math.random() * 5)) % bodies.length]));
    } finally {
      await stopServer(s);
    }
  };
  const single = await rate({ BATCH_MAX_SIZE: '1' });
  const batched = await rate({});
  // The ceiling: crops per second of bare sessions (one per worker, same threads) at the server's batch size vs 1.
  const workers = Number(POOL.POOL_WORKERS);
  const threads = Number(POOL.ORT_INTRA_OP_THREADS);
  const batch = Number(BATCH.BATCH_MAX_SIZE ?? 4);
  const bare1 = (await bareRuns(REC.model, REC.dims, workers, threads, T.batchS)) / T.batchS;
  const bareN = (batch * (await bareRuns(REC.model, [batch, ...REC.dims.slice(1)], workers, threads, T.batchS))) / T.batchS;
  return {
    clients: 8,
    widths: REC_WIDTHS,
    batch1_rps: round(single, 2),
    batched_rps: round(batched, 2),
    gain: round(batched / single, 3),
    bare_batch: batch,
    bare_batch1_crops_per_s: round(bare1, 2),
    bare_batched_crops_per_s: round(bareN, 2),
    bare_gain: round(bareN / bare1, 3),
    load1: load1(),
  };
}

// ---------------------------------------------------------------------------------------------------------------------
// Whole requests: /v1/ocr against the bare pipeline

/** A fixed sample of the labelled dev photos, spread evenly over det.jsonl in its order; null when the set is absent. */
function devPhotos(count: number): string[] | null {
  const dir = sharedEvalDir();
  if (!dir) return null;
  const all = readFileSync(join(dir, 'det.jsonl'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => (JSON.parse(l) as { image: string }).image);
  const step = all.length / count;
  return Array.from({ length: Math.min(count, all.length) }, (_, i) => join(dir, all[Math.floor(i * step)]));
}

/** A POST with plain node:http and keep-alive (as oipTimed), its reply read whole. */
function post(url: string, type: string, body: Uint8Array): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const r = http.request(url, { method: 'POST', agent, headers: { 'content-type': type, 'content-length': String(body.byteLength) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    r.on('error', reject);
    r.end(body);
  });
}

/** One /v1/ocr request: round trip and line count. */
async function ocrTimed(base: string, bytes: Uint8Array): Promise<{ ms: number; lines: number }> {
  const t = performance.now();
  const res = await post(`${base}/v1/ocr`, 'image/jpeg', bytes);
  const ms = performance.now() - t;
  if (res.status !== 200) throw new Error(`/v1/ocr answered ${res.status}: ${res.body.toString().slice(0, 200)}`);
  return { ms, lines: (JSON.parse(res.body.toString()) as { lines: unknown[] }).lines.length };
}

/** CPU milliseconds (user + system) a process has used so far, from /proc (Linux); NaN elsewhere. */
function processCpuMs(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // utime, stime in clock ticks (USER_HZ = 100)
  } catch {
    return NaN;
  }
}

/** This process's CPU milliseconds so far (all its threads). */
const ownCpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

interface BareOcr {
  one(index: number): Promise<{ ms: number; lines: number }>;
  /** Every worker runs photos back to back for `seconds`; photos per second over all of them. */
  loop(seconds: number, clients: number): Promise<{ photos: number; seconds: number }>;
  close(): Promise<void>;
}

async function bareOcr(photos: string[], workers: number, threads: number): Promise<BareOcr> {
  const init: BareOcrInit = {
    modelDir: join(REPO_ROOT, 'models/repository'),
    models: ['ppocr-det', 'ppocr-cls', 'ppocr-rec'],
    workers,
    intraOpThreads: threads,
    maxPixels: 40_000_000,
    photos,
  };
  const w = new Worker(new URL('./bare-ocr-worker.mjs', import.meta.url), { workerData: init });
  let failed: ((e: Error) => void) | null = null;
  w.on('error', (e) => failed?.(e));
  const next = () =>
    new Promise<FromBareOcr>((resolve, reject) => {
      failed = reject;
      w.once('message', resolve);
    });
  await next();
  const ask = async (msg: ToBareOcr) => {
    const reply = next();
    w.postMessage(msg);
    return reply;
  };
  return {
    one: async (index) => (await ask({ type: 'one', index })) as { ms: number; lines: number },
    loop: async (seconds, clients) => {
      const r = await ask({ type: 'loop', seconds, clients });
      if (r.type !== 'loop') throw new Error(`bare pipeline answered ${r.type}`);
      return r;
    },
    close: async () => {
      await w.terminate();
    },
  };
}

async function wholeRequests() {
  const files = args.photos ? args.photos.split(',') : devPhotos(T.photos);
  if (!files) return null;
  const photos = files.map((f) => new Uint8Array(readFileSync(f)));
  const workers = Number(POOL.POOL_WORKERS);
  const threads = Number(POOL.ORT_INTRA_OP_THREADS);
  // libuv's thread pool (where sharp decodes) takes the priority of the thread that starts it: start it here, as the
  // server's main thread does, rather than from the bare pipeline's lowered-priority thread.
  await decodeImage(photos[0], 40_000_000);
  const bare = await bareOcr(files, workers, threads);
  const s = await startServer();
  try {
    for (const p of photos) await ocrTimed(s.base, p); // warm-up on every photo, as the bare side does
    // Latency at one client: each photo served then bare, interleaved so both see the same background load.
    const pairs: Array<{ served: number; bare: number }> = [];
    let clientCpu = 0;
    let serverCpu = 0;
    let servedWall = 0;
    for (let round = 0; round < T.ocrRounds; round++) {
      for (let i = 0; i < photos.length; i++) {
        const c0 = ownCpuMs();
        const s0 = processCpuMs(s.child.pid!);
        const w0 = performance.now();
        const served = await ocrTimed(s.base, photos[i]);
        clientCpu += ownCpuMs() - c0;
        serverCpu += processCpuMs(s.child.pid!) - s0;
        servedWall += performance.now() - w0;
        const alone = await bare.one(i);
        if (served.lines !== alone.lines) throw new Error(`${files[i]}: served ${served.lines} lines, bare ${alone.lines}`);
        pairs.push({ served: served.ms, bare: alone.ms });
      }
    }
    const added = pairs.map((p) => p.served - p.bare);
    const addedPct = pairs.map((p) => (100 * (p.served - p.bare)) / p.bare);
    console.error(`ocr latency done (load ${load1()})`);
    // Saturation: closed-loop clients, two per worker, each walking the photos in the same order from its own offset;
    // served and bare alternate in slices so that both see the same background load on a shared machine.
    const clients = workers * 2;
    let done = 0;
    let wall = 0;
    let satClientCpu = 0;
    let satServerCpu = 0;
    let barePhotos = 0;
    let bareWall = 0;
    let bareCpu = 0;
    const slices = T.ocrSlices;
    for (let slice = 0; slice < slices; slice++) {
      const c0 = ownCpuMs();
      const s0 = processCpuMs(s.child.pid!);
      const w0 = performance.now();
      const until = w0 + (T.ocrS / slices) * 1000;
      await Promise.all(
        Array.from({ length: clients }, async (_, c) => {
          for (let k = 0; performance.now() < until; k++) {
            await ocrTimed(s.base, photos[(c * 3 + k) % photos.length]);
            done++;
          }
        }),
      );
      wall += performance.now() - w0;
      satClientCpu += ownCpuMs() - c0;
      satServerCpu += processCpuMs(s.child.pid!) - s0;
      const b0 = ownCpuMs();
      const r = await bare.loop(T.ocrS / slices, clients);
      barePhotos += r.photos;
      bareWall += r.seconds * 1000;
      bareCpu += ownCpuMs() - b0;
    }
    const served = (done * 1000) / wall;
    const bareRate = (barePhotos * 1000) / bareWall;
    return {
      photos: files.map((f) => f.slice(f.lastIndexOf('images/'))),
      rounds: T.ocrRounds,
      seconds: T.ocrS,
      clients,
      served_ms_p50: round(median(pairs.map((p) => p.served))),
      bare_ms_p50: round(median(pairs.map((p) => p.bare))),
      added_ms_p50: round(median(added)),
      added_pct_p50: round(median(addedPct)),
      added_ms_p90: round(percentile(added, 0.9)),
      served_photos_per_s: round(served, 3),
      bare_photos_per_s: round(bareRate, 3),
      throughput_ratio: round(served / bareRate, 3),
      // CPU per photo: the load generator's own (its share of the machine is visible beside the server's) and the server's.
      client_cpu_ms_per_photo_1client: round(clientCpu / pairs.length),
      client_cores_1client: round(clientCpu / servedWall, 3),
      server_cpu_ms_per_photo_1client: round(serverCpu / pairs.length),
      client_cpu_ms_per_photo_saturated: round(satClientCpu / done),
      client_cores_saturated: round(satClientCpu / wall, 3),
      server_cpu_ms_per_photo_saturated: round(satServerCpu / done),
      bare_cpu_ms_per_photo_saturated: round(bareCpu / barePhotos),
      load1: load1(),
    };
  } finally {
    await stopServer(s);
    await bare.close();
  }
}

// ---------------------------------------------------------------------------------------------------------------------
// Overload with the PWA's edge client

/** How a refusal came: on arrival (or once the image size was known), dropped from a model queue, or mid-pipeline at the deadline. */
type RefusalWhen = 'admission' | 'dropped' | 'deadline';
type Outcome = { kind: 'ok' | 'late' | 'refused' | 'error'; ms: number; budget: number; when?: RefusalWhen };

async function phone(base: string, image: Blob, budget: number, sendBudget: boolean): Promise<Outcome> {
  const t = performance.now();
  try {
    // The phone gives up a second after its budget, whatever the server does.
    await edgeOcr(image, { baseUrl: base, budgetMs: sendBudget ? budget : undefined, timeoutMs: budget + 1000 });
    const ms = performance.now() - t;
    return { kind: ms <= budget ? 'ok' : 'late', ms, budget };
  } catch (e) {
    const ms = performance.now() - t;
    const status = (e as EdgeError).status;
    // A run dropped from the queue says so; any other 503 is a refusal at admission (on arrival or at a stage).
    if (status === 503) {
      const message = (e as Error).message;
      return { kind: 'refused', ms, budget, when: /dropped after/.test(message) ? 'dropped' : /at the deadline/.test(message) ? 'deadline' : 'admission' };
    }
    if ((e as Error).name === 'EdgeTimeout') return { kind: 'late', ms, budget };
    return { kind: 'error', ms, budget };
  }
}

async function warm(base: string, image: Blob): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t = performance.now();
    await edgeOcr(image, { baseUrl: base });
    times.push(performance.now() - t);
  }
  // Then concurrent ones, so the server's estimates include the contention it will see under load.
  await closedLoop(Number(POOL.POOL_WORKERS), QUICK ? 3 : 5, () => edgeOcr(image, { baseUrl: base }));
  return times;
}

async function scenario(image: Blob, rate: number, budgets: number[], withBudget: boolean) {
  const s = await startServer();
  try {
    await warm(s.base, image);
    // The phones' own event loop: a refusal can only be seen as fast as this process gets to read it.
    const lag = monitorEventLoopDelay({ resolution: 1 });
    lag.enable();
    const pending: Promise<Outcome>[] = [];
    const until = performance.now() + T.overloadS * 1000;
    while (performance.now() < until) {
      const budget = budgets[Math.floor(Math.random() * budgets.length)];
      pending.push(phone(s.base, image, budget, withBudget));
      await sleep((-Math.log(1 - Math.random()) * 1000) / rate);
    }
    const all = await Promise.all(pending);
    lag.disable();
    const serverSide = await serverRefusalTimes(s.base);
    const share = (f: (o: Outcome) => boolean) => round(all.filter(f).length / all.length, 3);
    const refusals = all.filter((o) => o.kind === 'refused').map((o) => o.ms);
    const served = all.filter((o) => o.kind === 'ok' || o.kind === 'late').map((o) => o.ms);
    return {
      requests: all.length,
      in_budget: share((o) => o.kind === 'ok'),
      refused: share((o) => o.kind === 'refused'),
      refused_fast: share((o) => o.kind === 'refused' && o.ms <= 20),
      in_budget_or_refused_fast: share((o) => o.kind === 'ok' || (o.kind === 'refused' && o.ms <= 20)),
      refusal_p50_ms: round(percentile(refusals, 0.5)),
      refusal_p99_ms: round(percentile(refusals, 0.99)),
      p50_ms: round(percentile(served, 0.5)),
      p99_ms: round(percentile(served, 0.99)),
      errors: all.filter((o) => o.kind === 'error').length,
      slow_refusals: {
        dropped_queued: all.filter((o) => o.kind === 'refused' && o.ms > 20 && o.when === 'dropped').length,
        at_deadline: all.filter((o) => o.kind === 'refused' && o.ms > 20 && o.when === 'deadline').length,
        at_admission: all.filter((o) => o.kind === 'refused' && o.ms > 20 && o.when === 'admission').length,
      },
      late: all.filter((o) => o.kind === 'late').length,
      // The server's own time for its refusals (from /metrics), to tell its delays from the client's and the network's.
      server_refusals_within_10ms: serverSide.within10,
      server_refusals_within_25ms: serverSide.within25,
      client_event_loop_delay_p99_ms: round(lag.percentile(99) / 1e6),
      client_event_loop_delay_max_ms: round(lag.max / 1e6),
      load1: load1(),
    };
  } finally {
    await stopServer(s);
  }
}

/** Shares of /v1/ocr refusals the server answered within 10 and 25 ms, from its request duration histogram. */
async function serverRefusalTimes(base: string): Promise<{ within10: number | null; within25: number | null }> {
  const text = await (await fetch(`${base}/metrics`)).text();
  const buckets = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line.startsWith('tandem_http_request_duration_seconds_bucket{') || !line.includes('route="/v1/ocr"') || !line.includes('outcome="DeadlineUnmeetable"'))
      continue;
    const le = /le="([^"]+)"/.exec(line)?.[1];
    if (le) buckets.set(le, Number(line.slice(line.lastIndexOf(' ') + 1)));
  }
  const bucket = (le: string) => buckets.get(le) ?? NaN;
  const total = bucket('+Inf');
  if (!(total > 0)) return { within10: null, within25: null };
  return { within10: round(bucket('0.01') / total, 3), within25: round(bucket('0.025') / total, 3) };
}

async function overload() {
  const { jpeg } = await renderTextImage({
    lines: ['Tandem edge benchmark', 'Invoice 4711 due 2026-12-01', 'Total 93.50 EUR incl. VAT', 'Thank you for your order'],
    width: 1280,
    height: 720,
  });
  const image = new Blob([jpeg as Uint8Array<ArrayBuffer>], { type: 'image/jpeg' });
  const s = await startServer();
  let single: number[];
  let capacity: number;
  try {
    single = await warm(s.base, image);
    capacity = await closedLoop(Number(POOL.POOL_WORKERS) + 1, T.capacityS, () => edgeOcr(image, { baseUrl: s.base }));
  } finally {
    await stopServer(s);
  }
  const alone = median(single);
  // Budgets a phone might give: a little, some and plenty of room over an unloaded round trip.
  const budgets = [1.5, 2.5, 4].map((f) => Math.round(f * alone));
  const levels: Record<string, unknown> = {};
  for (const load of args.loads!.split(',').filter(Boolean).map(Number)) {
    const rate = capacity * load;
    const fifo = await scenario(image, rate, budgets, false);
    const scheduler = await scenario(image, rate, budgets, true);
    levels[`${load}x`] = { rate_rps: round(rate, 2), fifo, scheduler };
    console.error(
      `overload ${load}x: fifo ${fifo.in_budget} in budget; scheduler ${scheduler.in_budget_or_refused_fast} in budget or refused fast (load ${load1()})`,
    );
  }
  return { single_ms: round(alone), capacity_rps: round(capacity, 2), budgets_ms: budgets, seconds: T.overloadS, levels, load1: load1() };
}

// ---------------------------------------------------------------------------------------------------------------------

const started = performance.now();
const result: Record<string, unknown> = {
  when: new Date().toISOString(),
  quick: QUICK,
  pool: `${POOL.POOL_WORKERS}x${POOL.ORT_INTRA_OP_THREADS}`,
  batch: BATCH,
  load1_start: load1(),
};
if (!SKIP.has('overhead') || !SKIP.has('throughput')) {
  const s = await startServer();
  try {
    if (!SKIP.has('overhead')) {
      const rows = await overhead(s);
      result.overhead = rows;
      // The server's own overhead is measured with tensors in shared memory; the HTTP figures add moving the bytes.
      const worst = (transport: string) => rows.filter((r) => r.transport === transport).reduce((a, b) => (b.overhead_pct > a.overhead_pct ? b : a));
      result.overhead_ms = worst('shm').overhead_ms;
      result.overhead_pct = worst('shm').overhead_pct;
      result.overhead_http_ms = worst('http').overhead_ms;
      result.overhead_http_pct = worst('http').overhead_pct;
      console.error(`overhead done (load ${load1()})`);
    }
    if (!SKIP.has('throughput')) {
      const rows = await throughput(s);
      result.throughput = rows;
      result.throughput_ratio = Math.min(...rows.filter((r) => r.transport === 'shm').map((r) => r.ratio));
      result.throughput_ratio_http = Math.min(...rows.filter((r) => r.transport === 'http').map((r) => r.ratio));
      console.error(`throughput done (load ${load1()})`);
    }
  } finally {
    await stopServer(s);
  }
}
if (!SKIP.has('batching')) {
  const b = await recBatching();
  result.rec_batching = b;
  result.rec_batch_gain = b.gain;
  console.error(`batching done (load ${load1()})`);
}
if (!SKIP.has('ocr')) {
  const o = await wholeRequests();
  if (o) {
    result.ocr = o;
    console.error(`whole requests done (load ${load1()})`);
  } else console.error('whole-request bench skipped: ../shared/ocr-eval/dev is not on this machine (or pass --photos A,B,...)');
}
if (!SKIP.has('overload')) {
  // The phones stand for other machines: where allowed, the load generator takes a core before the server's threads
  // and other processes on this host, so that what it measures is the server's delay, not its own wait for a core.
  // Only here: the bare sessions above must run at the priority a server's own would have.
  result.client_nice = raisePriority(-10);
  const o = await overload();
  result.overload_detail = o;
  result.overload = o.levels;
}
result.seconds = round((performance.now() - started) / 1000, 0);
result.load1_end = load1();

console.log(markdown(result));
if (args.out) {
  mkdirSync(dirname(args.out), { recursive: true });
  writeFileSync(args.out, `${JSON.stringify(result, null, 2)}\n`);
  console.log(`\nwrote ${args.out}`);
}

function markdown(r: Record<string, unknown>): string {
  const out: string[] = [`Edge server bench ${r.when} — pool ${r.pool}, ${r.seconds} s, load average ${r.load1_start} → ${r.load1_end}`, ''];
  out.push('| figure | measured | goal | load avg |', '|---|---|---|---|');
  for (const o of (r.overhead as Array<Record<string, number | string>>) ?? []) {
    out.push(
      `| overhead ${o.model} ${o.dims} via ${o.transport} | ${o.overhead_ms} ms (${o.overhead_pct} %): served ${o.served_ms} ms vs bare ${o.bare_ms} ms (in the server ${o.server_ms} ms around a ${o.worker_run_ms} ms run); CPU ${o.server_cpu_ms_per_run} vs ${o.bare_cpu_ms_per_run} ms per run | ≤ 1 ms or 3 % | ${o.load1} |`,
    );
  }
  for (const t of (r.throughput as Array<Record<string, number | string>>) ?? []) {
    out.push(`| throughput ${t.model} ${t.dims} via ${t.transport} | ${t.ratio} (served ${t.served_rps} vs bare ${t.bare_rps} runs/s) | ≥ 0.95 | ${t.load1} |`);
  }
  const b = r.rec_batching as Record<string, number> | undefined;
  if (b) {
    out.push(`| recognition batching gain | ${b.gain}x (${b.batched_rps} vs ${b.batch1_rps} runs/s at batch 1) | ≥ 2x | ${b.load1} |`);
    out.push(
      `| bare onnxruntime-node, batch ${b.bare_batch} vs 1 | ${b.bare_gain}x (${b.bare_batched_crops_per_s} vs ${b.bare_batch1_crops_per_s} crops/s) | (ceiling) | ${b.load1} |`,
    );
  }
  const w = r.ocr as Record<string, number | string[]> | undefined;
  if (w) {
    out.push(
      `| /v1/ocr added latency at 1 client, ${(w.photos as string[]).length} dev photos | +${w.added_ms_p50} ms (${w.added_pct_p50} %) at p50: served ${w.served_ms_p50} ms vs bare ${w.bare_ms_p50} ms; p90 +${w.added_ms_p90} ms | ≤ 3 % | ${w.load1} |`,
    );
    out.push(
      `| /v1/ocr throughput at saturation (${w.clients} clients) | ${w.throughput_ratio} (served ${w.served_photos_per_s} vs bare ${w.bare_photos_per_s} photos/s) | ≥ 0.9 | ${w.load1} |`,
    );
    out.push(
      `| CPU per photo at saturation | server ${w.server_cpu_ms_per_photo_saturated} ms vs bare ${w.bare_cpu_ms_per_photo_saturated} ms; load generator ${w.client_cpu_ms_per_photo_saturated} ms (${w.client_cores_saturated} cores) | | ${w.load1} |`,
    );
  }
  const o = r.overload_detail as
    | {
        single_ms: number;
        capacity_rps: number;
        budgets_ms: number[];
        levels: Record<string, { rate_rps: number; fifo: Record<string, number>; scheduler: Record<string, number> }>;
      }
    | undefined;
  if (o) {
    out.push(
      '',
      `Overload: /v1/ocr 1280x720 JPEG (4 lines), unloaded round trip ${o.single_ms} ms, capacity ${o.capacity_rps} req/s, budgets ${o.budgets_ms.join('/')} ms`,
      '',
    );
    out.push(
      '| load | mode | requests | in budget | refused | refused ≤ 20 ms | in budget or refused ≤ 20 ms | refusal p50/p99 ms | served p50/p99 ms | load avg |',
      '|---|---|---|---|---|---|---|---|---|---|',
    );
    for (const [level, v] of Object.entries(o.levels)) {
      for (const mode of ['fifo', 'scheduler'] as const) {
        const m = v[mode];
        out.push(
          `| ${level} (${v.rate_rps} req/s) | ${mode} | ${m.requests} | ${pct(m.in_budget)} | ${pct(m.refused)} | ${pct(m.refused_fast)} | ${pct(m.in_budget_or_refused_fast)} | ${m.refusal_p50_ms}/${m.refusal_p99_ms} | ${m.p50_ms}/${m.p99_ms} | ${m.load1} |`,
        );
      }
    }
  }
  return out.join('\n');
}

/** Sets this thread's nice value when the system allows it; returns the value in effect. */
function raisePriority(nice: number): number {
  try {
    setPriority(0, nice);
  } catch {
    /* not allowed: keep the default */
  }
  return getPriority(0);
}

function pct(x: number): string {
  return `${Math.round(x * 1000) / 10} %`;
}
