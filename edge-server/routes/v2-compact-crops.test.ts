import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collapseSteps, unpackCtcSteps } from '../../core/ocr/ctc-decode';
import { toCompactCrops } from '../../core/ocr/compact-crops';
import { lineBatchTensor, recBatchWidth } from '../../core/ocr/preprocess';
import type { FloatTensor } from '../../core/ocr/types';
import { CTC_STEPS_PARAMETER, HEADER_LENGTH_HEADER, type Tensor } from '../../core/protocol/oip';
import { decodeInferenceResponse, encodeInferenceRequest } from '../../core/protocol/oip-codec';
import { renderTextImage } from '../../test-support/text-image';
import { startTestEdge, type TestEdge } from '../test/edge-fixture';

// Split recognition's upload: the phone's crop batch as 8-bit YCbCr 4:2:0 to the compact recogniser, against the
// same batch as float32 to the published one.
let edge: TestEdge;
let batch: FloatTensor;
const LINES = ['Invoice 2026-1142', 'Bahnhofstrasse 7', 'TOTAL 42.50'];

beforeAll(async () => {
  edge = await startTestEdge({ MODELS: 'ppocr-det,ppocr-cls,ppocr-rec,ppocr-rec-compact' });
  const crops = [];
  for (const [i, line] of LINES.entries()) {
    // Coloured text on coloured ground, so chroma matters.
    const img = await renderTextImage({
      lines: [line],
      width: 480 + 40 * i,
      height: 64,
      fontSize: 34,
      background: ['#f4e3c1', '#d7ecff', '#ffffff'][i],
      color: ['#7a1f1f', '#1f3f7a', '#202020'][i],
      left: 6,
    });
    crops.push(img.rgba);
  }
  const spec = edge.ocr.config.rec;
  batch = lineBatchTensor(crops, spec, recBatchWidth(crops, spec, edge.ocr.config.recMinWidth));
}, 180_000);
afterAll(() => edge?.dispose());

async function infer(model: string, inputs: Tensor[], output: string, parameters: Record<string, unknown> = {}) {
  const wire = encodeInferenceRequest(
    { inputs, outputs: [{ name: output, parameters: { binary_data: true } }], parameters: parameters as never },
    { binaryInputs: true },
  );
  const body = wire.body as Uint8Array<ArrayBuffer>;
  const res = await edge.app.request(`/v2/models/${model}/infer`, {
    method: 'POST',
    body,
    headers: { 'content-type': wire.contentType, [HEADER_LENGTH_HEADER]: String(wire.headerLength) },
  });
  const bytes = new Uint8Array(await res.arrayBuffer());
  expect(res.status, new TextDecoder().decode(bytes).slice(0, 300)).toBe(200);
  const out = decodeInferenceResponse(bytes, Number(res.headers.get(HEADER_LENGTH_HEADER))).outputs[0];
  const [n, steps] = out.shape;
  const charset = edge.ocr.config.charset;
  const ctc = { spaceIndex: charset.length - 1, spaceThresh: edge.ocr.config.spaceThresh };
  const texts = Array.from({ length: n }, (_, i) => collapseSteps(unpackCtcSteps(out.data as Float32Array, steps, i * steps * 3), charset, ctc).text);
  return { texts, upload: body.byteLength, tensorBytes: (out.data as Float32Array).byteLength / n };
}

describe('OIP infer of the compact recogniser with UINT8 crops', () => {
  it('reads the same text as float32 crops to the published recogniser, from an eighth of the upload', async () => {
    const float = await infer('ppocr-rec', [{ name: 'x', datatype: 'FP32', shape: batch.dims, data: batch.data }], 'softmax_11.tmp_0', {
      [CTC_STEPS_PARAMETER]: true,
    });
    const { luma, chroma } = toCompactCrops(batch, edge.ocr.config.rec);
    const compact = await infer(
      'ppocr-rec-compact',
      [
        { name: 'y', datatype: 'UINT8', shape: luma.dims, data: luma.data },
        { name: 'cbcr', datatype: 'UINT8', shape: chroma.dims, data: chroma.data },
      ],
      'ctc_steps',
    );
    const squeeze = (s: string) => s.replace(/\s+/g, '');
    expect(float.texts.map(squeeze)).toEqual(LINES.map(squeeze));
    expect(compact.texts).toEqual(float.texts);
    expect(compact.tensorBytes).toBeLessThanOrEqual(1024);
    expect(float.upload / compact.upload).toBeGreaterThan(7.5);
  });

  it('refuses float crops for the compact recogniser with the expected datatype', async () => {
    const wire = encodeInferenceRequest({
      inputs: [
        { name: 'y', datatype: 'FP32', shape: [1, 1, 48, 4], data: new Float32Array(192) },
        { name: 'cbcr', datatype: 'UINT8', shape: [1, 2, 24, 2], data: new Uint8Array(96) },
      ],
    });
    const res = await edge.app.request('/v2/models/ppocr-rec-compact/infer', {
      method: 'POST',
      body: wire.body as string,
      headers: { 'content-type': 'application/json' },
    });
    expect(res.status).toBe(422);
    expect(await res.json()).toMatchObject({ code: 'DatatypeMismatch' });
  });
});
