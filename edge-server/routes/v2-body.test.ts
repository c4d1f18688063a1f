import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HEADER_LENGTH_HEADER } from '../../core/protocol/oip';
import { decodeInferenceResponse, encodeInferenceRequest } from '../../core/protocol/oip-codec';
import { listen, type Listening } from '../http/listen';
import { seededFloats, startTestEdge, type TestEdge } from '../test/edge-fixture';

// Binary bodies on a real socket are read straight into an aligned buffer: whatever the JSON header's length, the
// tensor bytes must reach the model unchanged, and a body cut short must be refused without taking the server down.
let edge: TestEdge;
let server: Listening;
let base: string;
const SHAPE = [1, 3, 48, 192];
const input = seededFloats(
  SHAPE.reduce((a, b) => a * b, 1),
  7,
);

beforeAll(async () => {
  edge = await startTestEdge({ POOL_WORKERS: '1', ORT_INTRA_OP_THREADS: '1' });
  server = await listen(edge.app, 0, '127.0.0.1');
  base = `http://127.0.0.1:${server.port}`;
});
afterAll(async () => {
  await server?.close(1000);
  await edge?.dispose();
});

/** The binary request with `pad` spaces after its JSON header (valid JSON whitespace), so the header length varies. */
function body(pad: number): { bytes: Uint8Array; headerLength: number } {
  const wire = encodeInferenceRequest(
    { inputs: [{ name: 'x', datatype: 'FP32', shape: SHAPE, data: input }], parameters: { binary_data_output: true } },
    { binaryInputs: true },
  );
  const raw = wire.body as Uint8Array;
  const h = wire.headerLength!;
  const bytes = new Uint8Array(raw.length + pad);
  bytes.set(raw.subarray(0, h));
  bytes.fill(0x20, h, h + pad);
  bytes.set(raw.subarray(h), h + pad);
  return { bytes, headerLength: h + pad };
}

async function outputs(pad: number): Promise<Float32Array> {
  const { bytes, headerLength } = body(pad);
  const res = await fetch(`${base}/v2/models/ppocr-cls/infer`, {
    method: 'POST',
    body: bytes as Uint8Array<ArrayBuffer>,
    headers: { 'content-type': 'application/octet-stream', [HEADER_LENGTH_HEADER]: String(headerLength) },
  });
  expect(res.status).toBe(200);
  expect(res.headers.get('server-timing')).toMatch(/^read;dur=[\d.]+, queue;dur=/);
  const reply = decodeInferenceResponse(new Uint8Array(await res.arrayBuffer()), Number(res.headers.get(HEADER_LENGTH_HEADER)));
  return reply.outputs[0].data as Float32Array;
}

describe('binary inference bodies on a socket', () => {
  it('give the same outputs at every header alignment, equal to the JSON request', async () => {
    const json = await fetch(`${base}/v2/models/ppocr-cls/infer`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ inputs: [{ name: 'x', datatype: 'FP32', shape: SHAPE, data: Array.from(input) }] }),
    });
    expect(json.status).toBe(200);
    const expected = ((await json.json()) as { outputs: Array<{ data: number[] }> }).outputs[0].data;
    for (const pad of [0, 1, 2, 3, 5, 7]) {
      expect(Array.from(await outputs(pad))).toEqual(expected.map(Math.fround));
    }
  });

  it('refuses a body shorter than its Content-Length once the client gives up, and keeps serving', async () => {
    const { bytes, headerLength } = body(0);
    await new Promise<void>((resolve) => {
      const req = http.request(`${base}/v2/models/ppocr-cls/infer`, {
        method: 'POST',
        headers: { 'content-type': 'application/octet-stream', 'content-length': String(bytes.length), [HEADER_LENGTH_HEADER]: String(headerLength) },
      });
      req.on('error', () => resolve());
      req.on('response', (res) => {
        res.resume();
        res.on('end', () => resolve());
      });
      req.write(bytes.subarray(0, bytes.length >> 1), () => setTimeout(() => req.destroy(), 50));
    });
    expect(Array.from(await outputs(1)).length).toBeGreaterThan(0);
  });
});
