// Bare onnxruntime-node baseline for the server bench: one session (same options as the server's workers) running
// one input back to back for a fixed time, no HTTP, no queue. Reports how many runs finished.
import { parentPort, workerData } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';

const { modelPath, dims, seconds, intraOpThreads } = workerData;
const session = await ort.InferenceSession.create(modelPath, {
  intraOpNumThreads: intraOpThreads,
  interOpNumThreads: 1,
  executionMode: 'sequential',
  graphOptimizationLevel: 'all',
});
const input = () => new ort.Tensor('float32', new Float32Array(dims.reduce((a, b) => a * b, 1)).fill(0.25), dims);
await session.run({ x: input() }); // warm-up, as the server has run its models before being measured
parentPort.postMessage({ type: 'ready' });
parentPort.once('message', async () => {
  let runs = 0;
  const until = performance.now() + seconds * 1000;
  while (performance.now() < until) {
    await session.run({ x: input() });
    runs++;
  }
  parentPort.postMessage({ type: 'done', runs });
});
