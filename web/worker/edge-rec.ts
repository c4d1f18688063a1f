/**
 * Recognition model runs sent to the edge over the Open Inference Protocol (binary tensors), as an InferFn the
 * shared pipeline can use in place of local sessions: the same preprocessing and CTC decoding on both sides.
 */
import type { FloatTensor, InferFn } from '../../core/ocr/types';
import { toCompactCrops, type LineNormalisation } from '../../core/ocr/compact-crops';
import { CTC_STEPS_PARAMETER, HEADER_LENGTH_HEADER, type Tensor } from '../../core/protocol/oip';
import { SERVER_TIMING_HEADER, TIMING, parseServerTiming } from '../../core/protocol/server-timing';
import { decodeInferenceResponse, encodeInferenceRequest } from '../../core/protocol/oip-codec';
import { codedError, messageOf } from '../coded-error';
import { replyError, type EdgeError } from '../edge-client/ocr';

export interface EdgeRecStats {
  requests: number;
  elapsedMs: number;
  uploadBytes: number;
  downloadBytes: number;
  /** The server's queue + inference time from Server-Timing. */
  serverMs: number;
  queueMs: number;
}

export interface EdgeModel {
  name: string;
  /** The float32 crop input, or with `compact` the luma and chroma inputs of 8-bit crops (core/ocr/compact-crops). */
  inputs: string[];
  output: string;
  /** The normalisation the pipeline's crop tensors carry, undone into 8-bit crops for a compact recogniser. */
  compact?: LineNormalisation;
}

/** Below this, a deadline says nothing the edge could act on except a refusal. */
const MIN_DEADLINE_MS = 50;

/** An InferFn for the recogniser that runs on the edge; every request adds to `stats`. `deadline` is performance.now() based. */
export function edgeRecInfer(baseUrl: string, model: EdgeModel, deadline: number, signal: AbortSignal, stats: EdgeRecStats): InferFn {
  const url = new URL(`v2/models/${encodeURIComponent(model.name)}/infer`, baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`);
  return async (_role, tensor: FloatTensor): Promise<FloatTensor> => {
    const budget = Math.round(deadline - performance.now());
    // The compact recogniser takes 8-bit YCbCr 4:2:0 crops (1.5 bytes per pixel instead of 12) and ends in the steps.
    const compact = model.compact ? toCompactCrops(tensor, model.compact) : null;
    const inputs: Tensor[] = compact
      ? [
          { name: model.inputs[0]!, datatype: 'UINT8', shape: compact.luma.dims, data: compact.luma.data },
          { name: model.inputs[1]!, datatype: 'UINT8', shape: compact.chroma.dims, data: compact.chroma.data },
        ]
      : [{ name: model.inputs[0]!, datatype: 'FP32', shape: tensor.dims, data: tensor.data }];
    const wire = encodeInferenceRequest(
      {
        inputs,
        outputs: [{ name: model.output, parameters: { binary_data: true } }],
        // A budget already spent would only get the run refused; the answer is then wanted as soon as possible.
        // The steps the pipeline decodes, not the probabilities: a few hundred bytes per line instead of about 1 MB.
        parameters: {
          ...(compact ? {} : { [CTC_STEPS_PARAMETER]: true }),
          ...(Number.isFinite(budget) && budget >= MIN_DEADLINE_MS ? { deadline_ms: budget } : {}),
        },
      },
      { binaryInputs: true },
    );
    const headers: Record<string, string> = { 'content-type': wire.contentType };
    if (wire.headerLength !== undefined) headers[HEADER_LENGTH_HEADER] = String(wire.headerLength);
    const body = typeof wire.body === 'string' ? new TextEncoder().encode(wire.body) : wire.body;
    const started = performance.now();
    let res: Response;
    let bytes: Uint8Array;
    try {
      res = await fetch(url, { method: 'POST', headers, body: body as Uint8Array<ArrayBuffer>, signal });
      // A refusal's predicted_ms and Retry-After tell the planner how long the edge is busy, as for a whole photo.
      if (!res.ok) throw await replyError(res, 'recognition');
      bytes = new Uint8Array(await res.arrayBuffer());
    } catch (error) {
      if (error instanceof Error && (error as EdgeError).status !== undefined) throw error;
      const timedOut = error instanceof Error && error.name === 'TimeoutError';
      throw codedError(
        timedOut ? 'EdgeTimeout' : 'EdgeUnreachable',
        `Recognition on the edge ${timedOut ? 'timed out' : 'failed'}: ${messageOf(error)}`,
        error,
      );
    }
    const st = parseServerTiming(res.headers.get(SERVER_TIMING_HEADER));
    stats.requests++;
    stats.elapsedMs += performance.now() - started;
    stats.uploadBytes += body.byteLength;
    stats.downloadBytes += bytes.byteLength;
    stats.queueMs += st[TIMING.queue] ?? 0;
    stats.serverMs += (st[TIMING.queue] ?? 0) + (st[TIMING.infer] ?? 0);
    const h = res.headers.get(HEADER_LENGTH_HEADER);
    const decoded = h === null ? decodeInferenceResponse(new TextDecoder().decode(bytes)) : decodeInferenceResponse(bytes, Number(h));
    const out = decoded.outputs.find((t) => t.name === model.output) ?? decoded.outputs[0];
    if (!out || !(out.data instanceof Float32Array)) throw codedError('EdgeFailed', `The edge's recognition reply has no FP32 ${model.output} output.`);
    return { data: out.data, dims: out.shape };
  };
}
