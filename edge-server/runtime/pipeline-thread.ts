/**
 * The OCR pipeline's own CPU work (detector preprocessing, box extraction, crops, recognition preprocessing, CTC
 * decoding) runs in this thread, so the HTTP thread stays free to admit and refuse requests within milliseconds.
 * Each model run is handed back to the HTTP thread, which queues it in the deadline queue like any other run.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { createOcrPipeline } from '../../core/ocr';
import type { FloatTensor, InferFn } from '../../core/ocr/types';
import type { FromPipeline, PipelineThreadInit, ToPipeline } from './pipeline-messages';
import { PIPELINE_NICE, lowerPriority } from './thread-priority';

const { config } = workerData as PipelineThreadInit;
lowerPriority(PIPELINE_NICE);
const port = parentPort!;
const calls = new Map<number, { resolve: (t: FloatTensor) => void; reject: (e: Error) => void }>();
let nextCall = 1;

function post(message: FromPipeline, transfer: ArrayBuffer[] = []): void {
  port.postMessage(message, transfer);
}

const inferFor =
  (id: number): InferFn =>
  (role, tensor) =>
    new Promise<FloatTensor>((resolve, reject) => {
      const call = nextCall++;
      calls.set(call, { resolve, reject });
      post({ type: 'infer', id, call, role, tensor }, tensor.data.buffer instanceof ArrayBuffer ? [tensor.data.buffer] : []);
    });

port.on('message', (msg: ToPipeline) => {
  if (msg.type === 'inferred' || msg.type === 'inferFailed') {
    const pending = calls.get(msg.call);
    calls.delete(msg.call);
    if (!pending) return;
    if (msg.type === 'inferred') pending.resolve(msg.tensor);
    else pending.reject(Object.assign(new Error(msg.error.message), { name: msg.error.name }));
    return;
  }
  const pipeline = createOcrPipeline(config, inferFor(msg.id), () => performance.now());
  pipeline.run(msg.image, msg.options).then(
    (result) => post({ type: 'done', id: msg.id, result }),
    (e: unknown) => {
      const err = e instanceof Error ? e : new Error(String(e));
      post({ type: 'failed', id: msg.id, error: { name: err.name, message: err.message, code: (err as { code?: string }).code } });
    },
  );
});
