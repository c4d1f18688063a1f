/** Open Inference Protocol v2 (KServe/Triton REST): health, metadata, readiness and inference for manifest models. */
import { Hono, type Context } from 'hono';
import type { ManifestModel } from '../../core/models/manifest';
import {
  BINARY_TENSOR_EXTENSION,
  CTC_STEPS_PARAMETER,
  HEADER_LENGTH_HEADER,
  SHARED_MEMORY_EXTENSION,
  type InferenceResponse,
  type ModelMetadataResponse,
  type ModelReadyResponse,
  type ServerMetadataResponse,
  type Tensor,
} from '../../core/protocol/oip';
import { binaryOutputSelector, decodeInferenceRequest, encodeInferenceResponse, type SharedMemoryResolver } from '../../core/protocol/oip-codec';
import { OIP_ACCEPT_PARAMETER } from '../../core/protocol/accept';
import { SERVER_TIMING_HEADER, formatServerTiming } from '../../core/protocol/server-timing';
import { defaultOcrConfig, inferenceAccept } from '../ocr/accept';
import { ServerError, throwIfClientGone } from '../http/errors';
import type { WeightedGate } from '../limits/weighted-gate';
import { checkAfterRun, checkBeforeRun } from '../oip/limits';
import { errorReply, limitBody, mediaType, readAlignedBody, unlessClientGone } from '../http/requests';
import { validateInferenceRequest } from '../oip/validate';
import { sharedMemoryFor } from './v2-shared-memory';
import { checkOutputRegions, writeOutputRegions } from './v2-shared-memory-outputs';
import type { AppDeps } from '../app';

const PLATFORM = 'onnxruntime_onnx';
const JSON_TYPES = new Set(['', 'application/json']);
const BINARY_TYPES = new Set(['application/octet-stream', 'application/vnd.sagemaker-triton.binary+json']);

/** `unbudgeted` bounds the inference requests without a deadline in progress (shared with whole-image OCR). */
export function v2Routes(deps: AppDeps, unbudgeted: WeightedGate): Hono {
  const { repo, pool } = deps;
  const app = new Hono();

  const model = (c: Context): ManifestModel => {
    const name = c.req.param('name') ?? '';
    const m = repo.models.get(name);
    if (!m) {
      throw new ServerError('UnknownModel', `unknown model ${JSON.stringify(name)}; this server has ${[...repo.models.keys()].join(', ')}`);
    }
    const version = c.req.param('version');
    if (version !== undefined && version !== m.version) {
      throw new ServerError('UnknownVersion', `model ${m.name} has no version ${JSON.stringify(version)}; available: ${m.version}`);
    }
    return m;
  };

  app.get('/health/live', (c) => c.json({ live: true }));
  app.get('/health/ready', (c) => {
    if (pool.isReady()) return c.json({ ready: true });
    const waiting = pool
      .status()
      .models.filter((m) => m.state !== 'ready')
      .map((m) => `${m.name} ${m.state}`);
    return errorReply(c, new ServerError('NotReady', `not ready: ${waiting.join(', ') || 'shutting down'}`));
  });
  const extensions = deps.sharedMemory ? [BINARY_TENSOR_EXTENSION, SHARED_MEMORY_EXTENSION] : [BINARY_TENSOR_EXTENSION];
  app.get('/', (c) => c.json<ServerMetadataResponse>({ name: 'tandem-edge', version: deps.version, extensions }));

  const metadata = (c: Context) => {
    const m = model(c);
    return c.json<ModelMetadataResponse>({
      name: m.name,
      versions: [m.version],
      platform: PLATFORM,
      inputs: m.inputs.map(({ name, datatype, shape }) => ({ name, datatype, shape })),
      outputs: m.outputs.map(({ name, datatype, shape }) => ({ name, datatype, shape })),
    });
  };
  const ready = (c: Context) => {
    const m = model(c);
    const isReady = pool.isModelReady(m.name);
    if (!isReady) return errorReply(c, new ServerError('NotReady', `model ${m.name} is not ready`));
    return c.json<ModelReadyResponse>({ name: m.name, ready: true });
  };
  const infer = async (c: Context) => {
    const t0 = performance.now();
    const m = model(c);
    const headerLength = c.req.header(HEADER_LENGTH_HEADER);
    const type = mediaType(c);
    if (!JSON_TYPES.has(type) && !BINARY_TYPES.has(type)) {
      throw new ServerError(
        'UnsupportedMediaType',
        `Content-Type ${type} is not accepted; send application/json, or application/octet-stream with ${HEADER_LENGTH_HEADER}`,
      );
    }
    let h: number | null = null;
    if (headerLength !== undefined) {
      h = Number(headerLength);
      if (!/^\d+$/.test(headerLength.trim())) {
        throw new ServerError('BadRequest', `${HEADER_LENGTH_HEADER} must be a byte count, got ${JSON.stringify(headerLength)}`);
      }
    }
    // Inputs in shared memory are read into fresh buffers, aligned and transferable like the body's tensors.
    const resolve: SharedMemoryResolver = (ref, where) => sharedMemoryFor(c, deps.sharedMemory).read(ref.region, ref.offset, ref.byteSize, where);
    // Pure JSON is decoded as text natively; with binary data the header is split off the bytes, and the bytes after
    // it land 8-byte aligned so that tensors are views into the body (transferred to the worker as they are).
    const signal = c.req.raw.signal;
    const request =
      h === null
        ? decodeInferenceRequest(await unlessClientGone(c.req.text(), signal, 'while its request was uploading'), null, resolve)
        : decodeInferenceRequest(await unlessClientGone(readAlignedBody(c, h), signal, 'while its request was uploading'), h, resolve);
    const read = performance.now() - t0;
    const { inputs, outputs, outputRegions } = validateInferenceRequest(m, request);
    if (outputRegions.size > 0) checkOutputRegions(sharedMemoryFor(c, deps.sharedMemory), m, outputRegions);
    const budget = request.parameters?.deadline_ms;
    if (budget !== undefined && (typeof budget !== 'number' || !Number.isFinite(budget) || budget < 0)) {
      throw new ServerError('OipMalformed', `parameters.deadline_ms must be a non-negative number of milliseconds, got ${JSON.stringify(budget)}`);
    }
    const steps = request.parameters?.[CTC_STEPS_PARAMETER];
    if (steps !== undefined && typeof steps !== 'boolean') {
      throw new ServerError('OipMalformed', `parameters.${CTC_STEPS_PARAMETER} must be true or false, got ${JSON.stringify(steps)}`);
    }
    const reduce = steps ? { kind: 'ctc-steps' as const, spaceIndex: deps.ocr.config.charset.lastIndexOf(' ') } : undefined;
    const binary = binaryOutputSelector(request);
    const wantsBinary = (name: string) => binary(name) || outputRegions.has(name);
    checkBeforeRun(m, inputs, outputs, wantsBinary, deps.config);
    const accept = inferenceAccept(repo, m, request.parameters?.[OIP_ACCEPT_PARAMETER], defaultOcrConfig(deps.ocr.config));
    const leave = budget === undefined ? await unbudgeted.acquire(1) : null;
    let run;
    try {
      run = await pool.run(m.name, inputs, { outputs, deadline: budget === undefined ? undefined : t0 + budget, accept, signal, reduce });
    } finally {
      leave?.();
    }
    // Nobody to encode the outputs for.
    throwIfClientGone(signal, 'before its reply');
    checkAfterRun(m.name, run.outputs, wantsBinary, deps.config);
    // With accepted alternatives the model that ran may differ from the one in the URL; the reply names it.
    const ran = repo.models.get(run.model ?? m.name) ?? m;
    const response: InferenceResponse = {
      model_name: ran.name,
      model_version: ran.version,
      outputs: outputs.map((name): Tensor => {
        const t = run.outputs[name];
        return { name, datatype: t.datatype, shape: t.dims, data: t.data };
      }),
    };
    if (outputRegions.size > 0) writeOutputRegions(sharedMemoryFor(c, deps.sharedMemory), outputRegions, response.outputs);
    if (request.id !== undefined) response.id = request.id;
    if (accept) response.parameters = { model_name: ran.name, model_version: ran.version };
    const wire = encodeInferenceResponse(response, { binaryOutputs: binary });
    const headers: Record<string, string> = {
      'Content-Type': wire.contentType,
      [SERVER_TIMING_HEADER]: formatServerTiming(
        [
          ['read', read],
          ['queue', run.queueMs],
          ['infer', run.runMs],
          ['total', performance.now() - t0],
        ],
        [['batch', run.batch]],
      ),
    };
    if (wire.headerLength !== undefined) headers[HEADER_LENGTH_HEADER] = String(wire.headerLength);
    return c.body(wire.body as string, 200, headers);
  };

  for (const prefix of ['/models/:name', '/models/:name/versions/:version']) {
    app.get(prefix, metadata);
    app.get(`${prefix}/ready`, ready);
    app.post(`${prefix}/infer`, limitBody(deps.config.maxBodyBytes), infer);
  }
  return app;
}
