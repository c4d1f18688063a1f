import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HEADER_LENGTH_HEADER, type InferenceRequest, type SharedMemoryStatusEntry } from '../../core/protocol/oip';
import { decodeInferenceResponse, encodeInferenceRequest } from '../../core/protocol/oip-codec';
import { createApp } from '../app';
import { listen, type Listening } from '../http/listen';
import { silentLogger } from '../log';
import { SharedMemoryRegion } from '../oip/shared-memory-client';
import { seededFloats, startTestEdge, type TestEdge } from '../test/edge-fixture';

// A real server on loopback with system shared memory on, and a client on the same host passing tensors in /dev/shm.
const TOKEN = 'shm-test-token-0123456789';
const REC = 'ppocr-rec';
const REC_OUT = 'softmax_11.tmp_0';
const SHAPE = [1, 3, 48, 96];
const INPUT = seededFloats(
  SHAPE.reduce((a, b) => a * b, 1),
  11,
);
const OUT_BYTES = 12 * 6625 * 4; // [1, 96 / 8, 6625] FP32

let edge: TestEdge;
let server: Listening;
let base: string;
let plainOutput: Uint8Array;
const regions: SharedMemoryRegion[] = [];

const auth = { authorization: `Bearer ${TOKEN}` };
const create = async (name: string, bytes: number) => {
  const r = await SharedMemoryRegion.create(base, name, bytes, { token: TOKEN });
  regions.push(r);
  return r;
};
const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(`${base}${path}`, {
    method: 'POST',
    body: JSON.stringify(body),
    headers: { 'content-type': 'application/json', ...auth, ...headers },
  });
const get = (path: string) => fetch(`${base}${path}`, { headers: auth });
const infer = (request: unknown) => post(`/v2/models/${REC}/infer`, request);
const inShm = (region: string, byteSize: number, offset = 0): InferenceRequest['inputs'][number] => ({
  name: 'x',
  datatype: 'FP32',
  shape: SHAPE,
  data: new Float32Array(0),
  parameters: { shared_memory_region: region, shared_memory_byte_size: byteSize, ...(offset ? { shared_memory_offset: offset } : {}) },
});
const wire = (request: InferenceRequest) => JSON.parse(encodeInferenceRequest(request).body as string) as unknown;

async function expectError(res: Response, status: number, message: RegExp): Promise<void> {
  const body = (await res.json()) as { error: string };
  expect({ status: res.status, error: body.error }).toEqual({ status, error: expect.stringMatching(message) });
}

beforeAll(async () => {
  edge = await startTestEdge({ EDGE_SHARED_MEMORY: 'loopback', EDGE_TOKEN: TOKEN, POOL_WORKERS: '1', ORT_INTRA_OP_THREADS: '1' });
  server = await listen(edge.app, 0, '127.0.0.1');
  base = `http://127.0.0.1:${server.port}`;
  const bin = encodeInferenceRequest(
    { inputs: [{ name: 'x', datatype: 'FP32', shape: SHAPE, data: INPUT }], parameters: { binary_data_output: true } },
    { binaryInputs: true },
  );
  const res = await fetch(`${base}/v2/models/${REC}/infer`, {
    method: 'POST',
    body: bin.body as Uint8Array<ArrayBuffer>,
    headers: { ...auth, 'content-type': bin.contentType, [HEADER_LENGTH_HEADER]: String(bin.headerLength) },
  });
  expect(res.status).toBe(200);
  const reply = decodeInferenceResponse(new Uint8Array(await res.arrayBuffer()), Number(res.headers.get(HEADER_LENGTH_HEADER)));
  const data = reply.outputs[0].data as Float32Array;
  plainOutput = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
});
afterAll(async () => {
  for (const r of regions) await r.dispose().catch(() => undefined);
  await server?.close(1000);
  await edge?.dispose();
});

describe('system shared memory on a loopback server', () => {
  it('is listed among the extensions', async () => {
    expect(await (await get('/v2')).json()).toMatchObject({ extensions: ['binary_tensor_data', 'system_shared_memory'] });
  });

  it('takes an input from a region and writes the output to another, equal to a plain binary inference', async () => {
    const input = await create('rec_in', 64 + INPUT.byteLength);
    const output = await create('rec_out', OUT_BYTES + 256);
    input.write(64, INPUT);
    const res = await post(
      `/v2/models/${REC}/infer`,
      wire({
        id: 'shm-1',
        inputs: [inShm('rec_in', INPUT.byteLength, 64)],
        outputs: [{ name: REC_OUT, parameters: output.parameters(128, OUT_BYTES + 128) }],
      }),
    );
    expect(res.status).toBe(200);
    expect(res.headers.get('server-timing')).toMatch(/^read;dur=[\d.]+, queue;dur=[\d.]+, infer;dur=[\d.]+, total;dur=/);
    const reply = await res.json();
    expect(reply).toEqual({
      model_name: REC,
      model_version: '1',
      id: 'shm-1',
      outputs: [
        {
          name: REC_OUT,
          datatype: 'FP32',
          shape: [1, 12, 6625],
          parameters: { shared_memory_region: 'rec_out', shared_memory_byte_size: OUT_BYTES, shared_memory_offset: 128 },
        },
      ],
    });
    expect(Buffer.from(output.read(128, OUT_BYTES)).equals(Buffer.from(plainOutput))).toBe(true);
    expect(Array.from(output.read(0, 128)).every((b) => b === 0)).toBe(true);

    // The client decodes the reply through its own region.
    const decoded = decodeInferenceResponse(JSON.stringify(reply), null, (ref) => output.read(ref.offset, ref.byteSize));
    expect((decoded.outputs[0].data as Float32Array).length).toBe(OUT_BYTES / 4);
  });

  it('reports registered regions, one or all, and refuses a name registered twice', async () => {
    const r = await create('status_probe', 32);
    const all = (await (await get('/v2/systemsharedmemory/status')).json()) as SharedMemoryStatusEntry[];
    expect(all).toContainEqual({ name: 'status_probe', key: r.key, offset: 0, byte_size: 32 });
    expect(await (await get('/v2/systemsharedmemory/region/status_probe/status')).json()).toEqual([
      { name: 'status_probe', key: r.key, offset: 0, byte_size: 32 },
    ]);
    await expectError(await get('/v2/systemsharedmemory/region/nothing/status'), 404, /no shared memory region 'nothing' is registered/);
    await expectError(
      await post('/v2/systemsharedmemory/region/status_probe/register', { key: r.key, offset: 0, byte_size: 8 }),
      400,
      /'status_probe' is already registered/,
    );

    expect((await post('/v2/systemsharedmemory/region/status_probe/unregister', undefined)).status).toBe(200);
    await expectError(await get('/v2/systemsharedmemory/region/status_probe/status'), 404, /no shared memory region/);
    await expectError(await infer(wire({ inputs: [inShm('status_probe', INPUT.byteLength)] })), 400, /no shared memory region 'status_probe'/);
  });

  it('refuses bad keys, symbolic links and windows past the object', async () => {
    const register = (name: string, body: unknown) => post(`/v2/systemsharedmemory/region/${name}/register`, body);
    await expectError(await register('evil', { key: '../etc/passwd', offset: 0, byte_size: 4 }), 400, /key "..\/etc\/passwd" must be/);
    await expectError(await register('evil', { key: '/../../etc/passwd', offset: 0, byte_size: 4 }), 400, /must be 1 to 128 letters/);
    await expectError(await register('evil', 'not an object'), 400, /must be a JSON object/);
    await expectError(await register('evil', { key: '/tandem-missing-object', offset: 0, byte_size: 4 }), 400, /does not exist/);

    const target = mkdtempSync(join(tmpdir(), 'tandem-shm-target-'));
    const link = `tandem-link-${process.pid}`;
    try {
      writeFileSync(join(target, 'secret'), 'secret');
      symlinkSync(join(target, 'secret'), join('/dev/shm', link));
      await expectError(await register('evil', { key: `/${link}`, offset: 0, byte_size: 4 }), 400, /is a symbolic link/);
    } finally {
      rmSync(join('/dev/shm', link), { force: true });
      rmSync(target, { recursive: true, force: true });
    }
    const r = await create('bounds', 16);
    await expectError(await register('bounds2', { key: r.key, offset: 8, byte_size: 16 }), 400, /has 16 bytes; a region of 16 bytes at offset 8 needs 24/);
  });

  it('refuses tensors outside their region and an output region too small, before writing anything', async () => {
    const input = await create('small_in', INPUT.byteLength);
    input.write(0, INPUT);
    await expectError(
      await infer(wire({ inputs: [inShm('small_in', INPUT.byteLength, 4)] })),
      400,
      new RegExp(`inputs\\[0\\] \\(x\\): ${INPUT.byteLength} bytes at offset 4 do not fit shared memory region 'small_in'`),
    );
    await expectError(await infer(wire({ inputs: [inShm('small_in', 16)] })), 400, /elements need \d+ bytes, shared_memory_byte_size is 16/);

    const tiny = await create('tiny_out', 1024);
    tiny.write(0, new Uint8Array(1024).fill(7));
    await expectError(
      await infer(wire({ inputs: [inShm('small_in', INPUT.byteLength)], outputs: [{ name: REC_OUT, parameters: tiny.parameters(0, 1024) }] })),
      400,
      new RegExp(`output ${REC_OUT} of shape \\[1,12,6625\\] needs ${OUT_BYTES} bytes, but shared_memory_byte_size gives 1024`),
    );
    expect(Array.from(tiny.read(0, 1024)).every((b) => b === 7)).toBe(true);
    await expectError(
      await infer(
        wire({
          inputs: [inShm('small_in', INPUT.byteLength)],
          outputs: [{ name: REC_OUT, parameters: { shared_memory_region: 'tiny_out', shared_memory_byte_size: 2048 } }],
        }),
      ),
      400,
      /output softmax_11.tmp_0: 2048 bytes at offset 0 do not fit shared memory region 'tiny_out' of 1024 bytes/,
    );
  });

  it('is refused to requests that are not from a loopback peer, and guarded like the rest of /v2', async () => {
    // app.request has no socket: the peer is unknown, so not loopback.
    const res = await edge.app.request('/v2/systemsharedmemory/status', { headers: auth });
    await expectError(res, 400, /only available to clients on the same host/);
    await expectError(await fetch(`${base}/v2/systemsharedmemory/status`, { headers: { ...auth, 'x-forwarded-for': '203.0.113.9' } }), 400, /same host/);
    expect((await fetch(`${base}/v2/systemsharedmemory/status`)).status).toBe(401);
  });

  it('unregisters every region at once', async () => {
    await create('all_a', 8);
    expect((await post('/v2/systemsharedmemory/unregister', undefined)).status).toBe(200);
    expect(await (await get('/v2/systemsharedmemory/status')).json()).toEqual([]);
  });
});

describe('system shared memory turned off', () => {
  it('answers 400 naming the setting, and is not listed as an extension', async () => {
    const app = createApp({ config: edge.config, repo: edge.repo, pool: edge.pool, ocr: edge.ocr, log: silentLogger, version: 't', startedAt: Date.now() });
    const req = (path: string, init: RequestInit = {}) => app.request(path, { ...init, headers: { ...auth, ...init.headers } });
    expect(await (await req('/v2')).json()).toMatchObject({ extensions: ['binary_tensor_data'] });
    await expectError(await req('/v2/systemsharedmemory/status'), 400, /system shared memory is off on this server; start it with EDGE_SHARED_MEMORY=loopback/);
    await expectError(
      await req('/v2/systemsharedmemory/region/a/register', { method: 'POST', body: '{"key":"a","byte_size":1}' }),
      400,
      /EDGE_SHARED_MEMORY=loopback/,
    );
    await expectError(
      await req(`/v2/models/${REC}/infer`, {
        method: 'POST',
        body: JSON.stringify(wire({ inputs: [inShm('a', INPUT.byteLength)] })),
        headers: { 'content-type': 'application/json' },
      }),
      400,
      /EDGE_SHARED_MEMORY=loopback/,
    );
  });
});
