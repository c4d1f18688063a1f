/**
 * One inference worker: holds an onnxruntime-node session per manifest model and runs one batch at a time,
 * because session.run() blocks its thread for the whole run. A batch joins the inputs of its callers and splits
 * the outputs back, here rather than on the HTTP thread.
 */
import { parentPort, workerData } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';
import type { FromWorker, RuntimeTensor, SerializedError, TensorMap, ToWorker, WorkerInit } from './messages';
import { toOrtType, fromOrtType } from './ort-types';
import { joinBatch, reduceOutputs, splitBatch } from './batch-tensors';
import { INFERENCE_NICE, lowerPriority } from './thread-priority';

const init = workerData as WorkerInit;
// Below the HTTP thread (on Linux the priority is per thread, and onnxruntime's own threads inherit it), so that
// admission answers within milliseconds even while every core runs inference.
lowerPriority(INFERENCE_NICE);
const port = parentPort!;
const sessions = new Map<string, ort.InferenceSession>();

function serialize(e: unknown): SerializedError {
  return e instanceof Error ? { name: e.name, message: e.message } : { name: 'Error', message: String(e) };
}

function post(message: FromWorker, transfer: ArrayBuffer[] = []): void {
  port.postMessage(message, transfer);
}

async function load(): Promise<void> {
  const report: Extract<FromWorker, { type: 'loaded' }>['models'] = [];
  for (const m of init.models) {
    const t0 = performance.now();
    try {
      const session = await ort.InferenceSession.create(m.path, {
        intraOpNumThreads: init.intraOpThreads,
        interOpNumThreads: 1,
        executionMode: 'sequential',
        graphOptimizationLevel: 'all',
      });
      sessions.set(m.name, session);
      report.push({ name: m.name, ok: true, loadMs: performance.now() - t0 });
    } catch (e) {
      report.push({ name: m.name, ok: false, error: serialize(e) });
    }
  }
  post({ type: 'loaded', models: report });
}

async function run(msg: Extract<ToWorker, { type: 'run' }>): Promise<void> {
  const session = sessions.get(msg.model);
  if (!session) {
    post({ type: 'failed', id: msg.id, error: { name: 'ModelUnavailable', message: `model ${msg.model} is not loaded in this worker` } });
    return;
  }
  try {
    const feeds: Record<string, ort.Tensor> = {};
    for (const name of Object.keys(msg.parts[0])) {
      const t = joinBatch(
        msg.parts.map((p) => p[name]),
        msg.padLastAxis,
      );
      feeds[name] = new ort.Tensor(toOrtType(t.datatype), t.data, t.dims);
    }
    const t0 = performance.now();
    const results = msg.outputs ? await session.run(feeds, msg.outputs) : await session.run(feeds);
    const runMs = performance.now() - t0;
    const outputs: TensorMap = {};
    for (const [name, t] of Object.entries(results)) {
      outputs[name] = { datatype: fromOrtType(t.type), dims: [...t.dims], data: t.data as RuntimeTensor['data'] };
    }
    const parts = splitBatch(
      msg.reduce ? reduceOutputs(outputs, msg.reduce) : outputs,
      msg.parts.map((p) => Object.values(p)[0]?.dims[0] ?? 1),
    );
    const transfer = new Set<ArrayBuffer>();
    for (const part of parts) for (const t of Object.values(part)) if (t.data.buffer instanceof ArrayBuffer) transfer.add(t.data.buffer);
    post({ type: 'result', id: msg.id, parts, runMs }, [...transfer]);
  } catch (e) {
    post({ type: 'failed', id: msg.id, error: { name: 'InferenceFailed', message: serialize(e).message } });
  }
}

// Runs are strictly sequential: the pool sends one at a time, this chain keeps it so even if it did not.
let chain: Promise<void> = load();
port.on('message', (msg: ToWorker) => {
  if (msg.type === 'run') chain = chain.then(() => run(msg));
  else if (msg.type === 'crash') throw new Error('worker stopped on request (crash drill)');
});
