/**
 * The bare whole-request baseline for the server bench, in the server's own thread layout without the server: this
 * thread decodes each photo as the server does and runs the shared core/ocr pipeline (at the pipeline thread's
 * priority); every model run goes straight to an idle session thread (the server's own session-worker, same models,
 * intra-op threads and priority) and back. No HTTP, no admission, no deadline queue, no hop through another thread.
 */
import { readFileSync } from 'node:fs';
import { Worker, parentPort, workerData } from 'node:worker_threads';
import { createOcrPipeline, pipelineConfigFromManifest } from '../../core/ocr';
import type { InferFn, OcrRole } from '../../core/ocr/types';
import { decodeImage } from '../../edge-server/ocr/image-decode';
import { loadRepository, selectModels, workerModels } from '../../edge-server/model-repository';
import type { FromWorker, ToWorker, WorkerInit } from '../../edge-server/runtime/messages';
import { PIPELINE_NICE, lowerPriority } from '../../edge-server/runtime/thread-priority';

export interface BareOcrInit {
  modelDir: string;
  models: string[];
  /** Session threads, as POOL_WORKERS. */
  workers: number;
  intraOpThreads: number;
  maxPixels: number;
  /** Photo files, in the bench's order. */
  photos: string[];
}

export type ToBareOcr = { type: 'one'; index: number } | { type: 'loop'; seconds: number; clients: number };
export type FromBareOcr = { type: 'ready' } | { type: 'one'; ms: number; lines: number } | { type: 'loop'; photos: number; seconds: number };

const init = workerData as BareOcrInit;
lowerPriority(PIPELINE_NICE);
const port = parentPort!;
const repo = selectModels(loadRepository(init.modelDir), init.models);
const recName = repo.manifest.models.find((m) => m.task === 'text-recognition' && m.assets.dictionary)!.name;
const dictionary = repo.files.get(repo.models.get(recName)!.assets.dictionary!.path)!.absolutePath;
// The server's own pipeline settings: recognition batches on every session thread at once.
const config = pipelineConfigFromManifest(repo.manifest, readFileSync(dictionary, 'utf8'), { models: { rec: recName }, recParallel: init.workers });
const io = {} as Record<OcrRole, { input: string; output: string }>;
for (const role of ['det', 'cls', 'rec'] as const) {
  const m = repo.models.get(config.models[role])!;
  io[role] = { input: m.inputs[0].name, output: m.outputs[0].name };
}

const SESSION_WORKER = new URL('../../edge-server/runtime/session-worker.mjs', import.meta.url);
const idle: Worker[] = [];
const waiting: Array<(w: Worker) => void> = [];
const pending = new Map<number, (msg: FromWorker) => void>();
let nextId = 1;
await Promise.all(
  Array.from(
    { length: init.workers },
    (_, index) =>
      new Promise<void>((loaded) => {
        const w = new Worker(SESSION_WORKER, { workerData: { index, models: workerModels(repo), intraOpThreads: init.intraOpThreads } satisfies WorkerInit });
        w.on('message', (msg: FromWorker) => {
          if (msg.type === 'loaded') {
            idle.push(w);
            loaded();
            return;
          }
          const done = pending.get(msg.id)!;
          pending.delete(msg.id);
          const next = waiting.shift();
          if (next) next(w);
          else idle.push(w);
          done(msg);
        });
      }),
  ),
);
const slot = () =>
  new Promise<Worker>((resolve) => {
    const w = idle.pop();
    if (w) resolve(w);
    else waiting.push(resolve);
  });

const infer: InferFn = async (role, tensor) => {
  const { input, output } = io[role];
  const w = await slot();
  const id = nextId++;
  const reply = new Promise<FromWorker>((resolve) => pending.set(id, resolve));
  w.postMessage(
    {
      type: 'run',
      id,
      model: config.models[role],
      parts: [{ [input]: { datatype: 'FP32', dims: tensor.dims, data: tensor.data } }],
      outputs: [output],
    } satisfies ToWorker,
    [tensor.data.buffer as ArrayBuffer],
  );
  const msg = await reply;
  if (msg.type !== 'result') throw new Error(`${role} failed: ${msg.type === 'failed' ? msg.error.message : msg.type}`);
  const out = msg.parts[0][output];
  return { data: out.data as Float32Array, dims: out.dims };
};
const pipeline = createOcrPipeline(config, infer, () => performance.now());
const photos = init.photos.map((p) => new Uint8Array(readFileSync(p)));

async function runOne(index: number): Promise<{ ms: number; lines: number }> {
  const t = performance.now();
  const { rgba } = await decodeImage(photos[index % photos.length], init.maxPixels);
  const result = await pipeline.run(rgba);
  return { ms: performance.now() - t, lines: result.lines.length };
}

// Warm-up on every photo, as the server has run its models before being measured.
for (let i = 0; i < photos.length; i++) await runOne(i);
port.postMessage({ type: 'ready' } satisfies FromBareOcr);
port.on('message', async (msg: ToBareOcr) => {
  if (msg.type === 'one') {
    port.postMessage({ type: 'one', ...(await runOne(msg.index)) } satisfies FromBareOcr);
    return;
  }
  // As many photos in flight as the served side has clients, each walking the photos from its own offset.
  const started = performance.now();
  const until = started + msg.seconds * 1000;
  let done = 0;
  await Promise.all(
    Array.from({ length: msg.clients }, async (_, c) => {
      for (let k = 0; performance.now() < until; k++) {
        await runOne(c * 3 + k);
        done++;
      }
    }),
  );
  port.postMessage({ type: 'loop', photos: done, seconds: (performance.now() - started) / 1000 } satisfies FromBareOcr);
});
