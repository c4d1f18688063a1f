import { describe, expect, it } from 'vitest';
import { binaryOutputSelector, decodeInferenceRequest, decodeInferenceResponse, encodeInferenceRequest, encodeInferenceResponse } from './oip-codec';
import { OipError, type InferenceRequest, type InferenceResponse, type Tensor } from './oip';
import { f16BitsToNumber, numberToBf16Bits, numberToF16Bits } from './half';
import { utf8Decode, utf8Encode } from './utf8';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

function sampleTensors(): Tensor[] {
  return [
    { name: 'image', datatype: 'FP32', shape: [1, 2, 3], data: new Float32Array([0.1, -2.5, 3e-7, 1e20, 0, 65504.5]) },
    { name: 'ids', datatype: 'INT64', shape: [3], data: new BigInt64Array([1n, -9007199254740991n, 42n]) },
    { name: 'mask', datatype: 'BOOL', shape: [2, 2], data: new Uint8Array([1, 0, 0, 1]) },
    { name: 'bytes', datatype: 'UINT8', shape: [4], data: new Uint8Array([0, 1, 254, 255]) },
    { name: 'half', datatype: 'FP16', shape: [3], data: new Uint16Array([0x3c00, 0xc000, 0x7bff]) },
    { name: 'small', datatype: 'INT16', shape: [2], data: new Int16Array([-32768, 32767]) },
    { name: 'text', datatype: 'BYTES', shape: [2], data: [enc('héllo'), enc('')] },
    { name: 'scalar', datatype: 'FP64', shape: [], data: new Float64Array([Math.PI]) },
  ];
}

function expectSameTensors(actual: Tensor[], expected: Tensor[]): void {
  expect(actual.map((t) => t.name)).toEqual(expected.map((t) => t.name));
  actual.forEach((t, i) => {
    const e = expected[i];
    expect(t.datatype).toBe(e.datatype);
    expect(t.shape).toEqual(e.shape);
    if (Array.isArray(e.data)) expect((t.data as Uint8Array[]).map((b) => Array.from(b))).toEqual(e.data.map((b) => Array.from(b)));
    else {
      expect(t.data.constructor).toBe(e.data.constructor);
      expect(Array.from(t.data as Float32Array)).toEqual(Array.from(e.data as Float32Array));
    }
  });
}

describe('OIP request codec', () => {
  it('round-trips every datatype as JSON', () => {
    const request: InferenceRequest = {
      id: 'r-1',
      parameters: { priority: 2, binary_data_output: true },
      inputs: sampleTensors(),
      outputs: [{ name: 'out', parameters: { binary_data: false } }],
    };
    const wire = encodeInferenceRequest(request);
    expect(wire.contentType).toBe('application/json');
    expect(wire.headerLength).toBeUndefined();
    expect(typeof wire.body).toBe('string');
    const parsed = JSON.parse(wire.body as string);
    expect(parsed.inputs[0].data).toHaveLength(6);
    const back = decodeInferenceRequest(wire.body);
    expect(back.id).toBe('r-1');
    expect(back.parameters).toEqual(request.parameters);
    expect(back.outputs).toEqual(request.outputs);
    expectSameTensors(back.inputs, request.inputs);
    // JSON text also decodes from bytes without a header length (the whole body is the header).
    expectSameTensors(decodeInferenceRequest(enc(wire.body as string)).inputs, request.inputs);
  });

  it('round-trips every datatype with the binary extension', () => {
    const request: InferenceRequest = { inputs: sampleTensors() };
    const wire = encodeInferenceRequest(request, { binaryInputs: true });
    expect(wire.contentType).toBe('application/octet-stream');
    const body = wire.body as Uint8Array;
    const header = JSON.parse(new TextDecoder().decode(body.subarray(0, wire.headerLength)));
    expect(header.inputs[0]).toEqual({ name: 'image', datatype: 'FP32', shape: [1, 2, 3], parameters: { binary_data_size: 24 } });
    expect(header.inputs[6].parameters.binary_data_size).toBe(4 + 6 + 4 + 0);
    // Little-endian raw bytes right after the header.
    const first = new DataView(body.buffer, body.byteOffset + wire.headerLength!, 4).getFloat32(0, true);
    expect(first).toBeCloseTo(0.1, 6);
    const back = decodeInferenceRequest(body, wire.headerLength);
    expectSameTensors(back.inputs, request.inputs);
    expect(back.inputs[0].parameters).toBeUndefined();
  });

  it('returns views into the body when aligned and copies when not', () => {
    for (const pad of [0, 1, 2, 3]) {
      const request: InferenceRequest = {
        id: 'x'.repeat(pad),
        inputs: [{ name: 'x', datatype: 'FP32', shape: [2, 2], data: new Float32Array([1, 2, 3, 4]) }],
      };
      const wire = encodeInferenceRequest(request, { binaryInputs: true });
      const body = wire.body as Uint8Array;
      const back = decodeInferenceRequest(body, wire.headerLength);
      const data = back.inputs[0].data as Float32Array;
      expect(Array.from(data)).toEqual([1, 2, 3, 4]);
      expect(data.buffer === body.buffer).toBe(wire.headerLength! % 4 === 0);
    }
  });

  it('accepts nested JSON data in row-major order', () => {
    const body = JSON.stringify({
      inputs: [
        {
          name: 'x',
          datatype: 'INT32',
          shape: [2, 2],
          data: [
            [1, 2],
            [3, 4],
          ],
        },
      ],
    });
    expect(Array.from(decodeInferenceRequest(body).inputs[0].data as Int32Array)).toEqual([1, 2, 3, 4]);
  });
});

describe('OIP response codec', () => {
  const response = (): InferenceResponse => ({
    model_name: 'ppocr-det',
    model_version: '1',
    id: 'abc',
    outputs: [
      { name: 'prob', datatype: 'FP32', shape: [1, 1, 2, 2], data: new Float32Array([0.25, 0.5, 0.75, 1]) },
      { name: 'count', datatype: 'INT32', shape: [1], data: new Int32Array([7]) },
    ],
  });

  it('round-trips as JSON', () => {
    const wire = encodeInferenceResponse(response());
    expect(wire.contentType).toBe('application/json');
    const back = decodeInferenceResponse(wire.body);
    expect(back.model_name).toBe('ppocr-det');
    expect(back.model_version).toBe('1');
    expect(back.id).toBe('abc');
    expectSameTensors(back.outputs, response().outputs);
  });

  it('mixes binary and JSON outputs as the request asks', () => {
    const pick = binaryOutputSelector({
      parameters: { binary_data_output: true },
      outputs: [{ name: 'prob' }, { name: 'count', parameters: { binary_data: false } }],
    });
    expect(pick('prob')).toBe(true);
    expect(pick('count')).toBe(false);
    const wire = encodeInferenceResponse(response(), { binaryOutputs: pick });
    const body = wire.body as Uint8Array;
    expect(body.length).toBe(wire.headerLength! + 16);
    const header = JSON.parse(new TextDecoder().decode(body.subarray(0, wire.headerLength)));
    expect(header.outputs[0].parameters).toEqual({ binary_data_size: 16 });
    expect(header.outputs[0].data).toBeUndefined();
    expect(header.outputs[1].data).toEqual([7]);
    expectSameTensors(decodeInferenceResponse(body, wire.headerLength).outputs, response().outputs);
  });

  it('surfaces an error body as an error', () => {
    expect(() => decodeInferenceResponse('{"error":"model not found"}')).toThrow(/model not found/);
  });

  it('refuses to put NaN into JSON and suggests binary', () => {
    const r = response();
    (r.outputs[0].data as Float32Array)[2] = NaN;
    expect(() => encodeInferenceResponse(r)).toThrow(/element 2 is NaN.*binary/);
    expect(() => encodeInferenceResponse(r, { binaryOutputs: true })).not.toThrow();
  });

  it('refuses tensors whose data does not fit their shape or datatype', () => {
    const r = response();
    r.outputs[0].shape = [1, 1, 2, 3];
    expect(() => encodeInferenceResponse(r)).toThrow(
      expect.objectContaining({ name: 'OipUnencodable', message: expect.stringMatching(/needs 6 elements, data has 4/) }),
    );
    const s = response();
    s.outputs[1].data = new Float32Array([7]);
    expect(() => encodeInferenceResponse(s)).toThrow(/INT32 data must be a Int32Array/);
  });
});

describe('OIP decoder rejects malformed messages clearly', () => {
  const ok = { name: 'x', datatype: 'FP32', shape: [2], data: [1, 2] };
  const cases: Array<[string, string | Uint8Array, number | undefined, RegExp]> = [
    ['empty text', '', undefined, /body is empty/],
    ['empty bytes', new Uint8Array(0), undefined, /body is empty/],
    ['not JSON', 'hello', undefined, /not valid JSON/],
    ['JSON array', '[]', undefined, /request must be a JSON object/],
    ['no inputs', '{}', undefined, /inputs must be a non-empty array/],
    ['unknown datatype', JSON.stringify({ inputs: [{ ...ok, datatype: 'FP33' }] }), undefined, /datatype "FP33" is not one of BOOL/],
    ['negative dim', JSON.stringify({ inputs: [{ ...ok, shape: [-1] }] }), undefined, /non-negative integers/],
    ['fractional dim', JSON.stringify({ inputs: [{ ...ok, shape: [1.5] }] }), undefined, /non-negative integers/],
    ['short data', JSON.stringify({ inputs: [{ ...ok, shape: [3] }] }), undefined, /needs 3 elements, data has 2/],
    ['string in FP32', JSON.stringify({ inputs: [{ ...ok, data: [1, 'a'] }] }), undefined, /element 1 is "a", expected a number/],
    ['INT8 out of range', JSON.stringify({ inputs: [{ ...ok, datatype: 'INT8', data: [1, 300] }] }), undefined, /expected an integer in -128..127/],
    [
      'no data',
      JSON.stringify({ inputs: [{ name: 'x', datatype: 'FP32', shape: [2] }] }),
      undefined,
      /neither data, parameters.binary_data_size nor parameters.shared_memory_region/,
    ],
    ['both data and binary', JSON.stringify({ inputs: [{ ...ok, parameters: { binary_data_size: 8 } }] }), undefined, /both data and/],
    ['duplicate names', JSON.stringify({ inputs: [ok, ok] }), undefined, /'x' appears more than once/],
    ['bad id', JSON.stringify({ id: 3, inputs: [ok] }), undefined, /request.id must be a string/],
    ['object parameter', JSON.stringify({ parameters: { a: {} }, inputs: [ok] }), undefined, /parameters.a must be a string/],
    ['header length on text', JSON.stringify({ inputs: [ok] }), 10, /body was given as text/],
  ];
  for (const [label, body, h, pattern] of cases) {
    it(label, () => {
      let error: unknown;
      try {
        decodeInferenceRequest(body, h);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(OipError);
      expect((error as Error).name).toBe('OipMalformed');
      expect((error as Error).message).toMatch(pattern);
    });
  }

  const binary = (header: object, payload: number[]): [Uint8Array, number] => {
    const head = enc(JSON.stringify(header));
    const body = new Uint8Array(head.length + payload.length);
    body.set(head);
    body.set(payload, head.length);
    return [body, head.length];
  };
  const bin = (size: number, extra: object = {}) => ({
    inputs: [{ name: 'x', datatype: 'FP32', shape: [2], parameters: { binary_data_size: size }, ...extra }],
  });

  it.each([
    ['size not matching shape', bin(4), [0, 0, 0, 0], /2 FP32 elements need 8 bytes, binary_data_size is 4/],
    ['size past the end', bin(8), [0, 0, 0, 0], /only 4 bytes of binary data remain/],
    ['trailing bytes', bin(8), [0, 0, 0, 0, 0, 0, 0, 0, 9], /9 bytes of binary data follow the JSON header but the tensors declare 8/],
    ['BOOL value 2', { inputs: [{ name: 'b', datatype: 'BOOL', shape: [2], parameters: { binary_data_size: 2 } }] }, [1, 2], /BOOL element 1 is 2/],
    [
      'BYTES prefix cut',
      { inputs: [{ name: 's', datatype: 'BYTES', shape: [1], parameters: { binary_data_size: 2 } }] },
      [1, 0],
      /truncated 4-byte length prefix/,
    ],
    [
      'BYTES overrun',
      { inputs: [{ name: 's', datatype: 'BYTES', shape: [1], parameters: { binary_data_size: 5 } }] },
      [9, 0, 0, 0, 65],
      /declares 9 bytes past/,
    ],
  ] as const)('binary: %s', (_label, header, payload, pattern) => {
    const [body, h] = binary(header, [...payload]);
    expect(() => decodeInferenceRequest(body, h)).toThrow(pattern);
  });

  it('rejects a header length outside the body and a header that is not UTF-8', () => {
    const [body] = binary(bin(8), [0, 0, 0, 0, 0, 0, 0, 0]);
    expect(() => decodeInferenceRequest(body, body.length + 1)).toThrow(/between 1 and the body size/);
    expect(() => decodeInferenceRequest(body, 0)).toThrow(/between 1 and the body size/);
    expect(() => decodeInferenceRequest(new Uint8Array([0x7b, 0xff, 0x7d]), 3)).toThrow(/not valid UTF-8/);
  });
});

describe('codec helpers', () => {
  it('converts half floats with round-to-nearest-even', () => {
    expect(numberToF16Bits(1)).toBe(0x3c00);
    expect(numberToF16Bits(-2)).toBe(0xc000);
    expect(numberToF16Bits(65504)).toBe(0x7bff);
    expect(numberToF16Bits(70000)).toBe(0x7c00);
    expect(numberToF16Bits(0.1)).toBe(0x2e66);
    expect(numberToF16Bits(2 ** -24)).toBe(0x0001);
    expect(numberToF16Bits(NaN) & 0x7c00).toBe(0x7c00);
    expect(f16BitsToNumber(0x2e66)).toBeCloseTo(0.1, 3);
    expect(f16BitsToNumber(0x0001)).toBe(2 ** -24);
    for (let h = 0; h < 0x7c00; h += 97) expect(numberToF16Bits(f16BitsToNumber(h))).toBe(h);
    expect(numberToBf16Bits(1)).toBe(0x3f80);
  });

  it('encodes and strictly decodes UTF-8', () => {
    for (const s of ['plain', 'héllo wörld', '中文 text', 'emoji 😀']) {
      expect(Array.from(utf8Encode(s))).toEqual(Array.from(enc(s)));
      expect(utf8Decode(enc(s))).toBe(s);
    }
    expect(utf8Decode(new Uint8Array([0xc0, 0x80]))).toBeNull();
    expect(utf8Decode(new Uint8Array([0xe4, 0xb8]))).toBeNull();
    expect(utf8Decode(new Uint8Array([0xed, 0xa0, 0x80]))).toBeNull();
  });
});
