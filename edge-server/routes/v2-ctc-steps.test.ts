import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packCtcSteps } from '../../core/ocr/ctc-decode';
import { CTC_STEPS_PARAMETER, HEADER_LENGTH_HEADER } from '../../core/protocol/oip';
import { decodeInferenceResponse, encodeInferenceRequest } from '../../core/protocol/oip-codec';
import { seededFloats, startTestEdge, type TestEdge } from '../test/edge-fixture';

// What the phone's split recognition asks of the edge: the recogniser's CTC steps instead of its probabilities.
let edge: TestEdge;
const SHAPE = [1, 3, 48, 320];
const input = seededFloats(
  SHAPE.reduce((a, b) => a * b, 1),
  11,
);

beforeAll(async () => {
  edge = await startTestEdge();
}, 60_000);
afterAll(() => edge?.dispose());

async function infer(parameters: Record<string, unknown>): Promise<{ status: number; shape?: number[]; data?: Float32Array; bytes: number; body: unknown }> {
  const wire = encodeInferenceRequest(
    {
      inputs: [{ name: 'x', datatype: 'FP32', shape: SHAPE, data: input }],
      outputs: [{ name: 'softmax_11.tmp_0', parameters: { binary_data: true } }],
      parameters: parameters as never,
    },
    { binaryInputs: true },
  );
  const res = await edge.app.request('/v2/models/ppocr-rec/infer', {
    method: 'POST',
    body: wire.body as Uint8Array<ArrayBuffer>,
    headers: { 'content-type': wire.contentType, [HEADER_LENGTH_HEADER]: String(wire.headerLength) },
  });
  const bytes = new Uint8Array(await res.arrayBuffer());
  if (res.status !== 200) return { status: res.status, bytes: bytes.byteLength, body: JSON.parse(new TextDecoder().decode(bytes)) };
  const out = decodeInferenceResponse(bytes, Number(res.headers.get(HEADER_LENGTH_HEADER))).outputs[0];
  return { status: 200, shape: out.shape, data: out.data as Float32Array, bytes: bytes.byteLength, body: null };
}

describe(`OIP infer with parameters.${CTC_STEPS_PARAMETER}`, () => {
  it('answers the packed CTC steps of the full output, under 1 KB of tensor instead of about 1 MB', async () => {
    const full = await infer({});
    const steps = await infer({ [CTC_STEPS_PARAMETER]: true });
    expect(full.status).toBe(200);
    expect(steps.status).toBe(200);
    const [n, t, classes] = full.shape!;
    expect(steps.shape).toEqual([n, t, 3]);
    const space = edge.ocr.config.charset.lastIndexOf(' ');
    expect(Array.from(steps.data!)).toEqual(Array.from(packCtcSteps(full.data!, n, t, classes, space)));
    expect(steps.data!.byteLength).toBeLessThanOrEqual(1024);
    expect(full.bytes).toBeGreaterThan(1_000_000);
    expect(steps.bytes).toBeLessThan(2048);
  });

  it('refuses a value that is not a boolean with 400', async () => {
    const r = await infer({ [CTC_STEPS_PARAMETER]: 'yes' });
    expect(r.status).toBe(400);
    expect(r.body).toMatchObject({ code: 'OipMalformed' });
  });
});
