import { describe, expect, it } from 'vitest';
import {
  decodeInferenceRequest,
  decodeInferenceResponse,
  encodeInferenceRequest,
  encodeInferenceResponse,
  sharedMemoryRef,
  type SharedMemoryResolver,
} from './oip-codec';
import { OipError, type InferenceResponse, type SharedMemoryRef } from './oip';

/** Regions as a map of byte arrays, standing in for the server's registry; records every lookup. */
function regions(contents: Record<string, Uint8Array>): { resolve: SharedMemoryResolver; asked: SharedMemoryRef[] } {
  const asked: SharedMemoryRef[] = [];
  const resolve: SharedMemoryResolver = (ref) => {
    asked.push(ref);
    const r = contents[ref.region];
    if (!r) throw new Error(`no region ${ref.region}`);
    return r.slice(ref.offset, ref.offset + ref.byteSize);
  };
  return { resolve, asked };
}

const floatsBytes = (values: number[]): Uint8Array => new Uint8Array(new Float32Array(values).buffer);

function thrown(f: () => unknown): OipError {
  try {
    f();
  } catch (e) {
    return e as OipError;
  }
  throw new Error('expected an error');
}

describe('OIP codec with system shared memory', () => {
  it('reads an input from its region, drops the shared memory parameters and keeps the others', () => {
    const region = new Uint8Array(24);
    region.set(floatsBytes([1.5, -2, 3]), 8);
    const { resolve, asked } = regions({ in0: region });
    const body = JSON.stringify({
      inputs: [
        {
          name: 'x',
          datatype: 'FP32',
          shape: [1, 3],
          parameters: { shared_memory_region: 'in0', shared_memory_byte_size: 12, shared_memory_offset: 8, tag: 'a' },
        },
      ],
    });
    const request = decodeInferenceRequest(body, null, resolve);
    expect(asked).toEqual([{ region: 'in0', offset: 8, byteSize: 12 }]);
    expect(request.inputs[0].data).toBeInstanceOf(Float32Array);
    expect(Array.from(request.inputs[0].data as Float32Array)).toEqual([1.5, -2, 3]);
    expect(request.inputs[0].parameters).toEqual({ tag: 'a' });
  });

  it('defaults the offset to 0 and leaves no parameters when only shared memory ones were given', () => {
    const { resolve, asked } = regions({ r: floatsBytes([7, 8]) });
    const request = decodeInferenceRequest(
      JSON.stringify({
        inputs: [{ name: 'x', datatype: 'FP32', shape: [2], parameters: { shared_memory_region: 'r', shared_memory_byte_size: 8 } }],
      }),
      undefined,
      resolve,
    );
    expect(asked[0].offset).toBe(0);
    expect(request.inputs[0].parameters).toBeUndefined();
  });

  it('mixes a shared memory input with binary data in the body', () => {
    const { resolve } = regions({ r: floatsBytes([4, 5]) });
    const wire = encodeInferenceRequest(
      {
        inputs: [
          { name: 'a', datatype: 'FP32', shape: [2], data: new Float32Array(0), parameters: { shared_memory_region: 'r', shared_memory_byte_size: 8 } },
          { name: 'b', datatype: 'FP32', shape: [1], data: new Float32Array([9]) },
        ],
      },
      { binaryInputs: true },
    );
    const request = decodeInferenceRequest(wire.body, wire.headerLength, resolve);
    expect(request.inputs.map((t) => Array.from(t.data as Float32Array))).toEqual([[4, 5], [9]]);
  });

  it('keeps the shared memory parameters of requested outputs and checks them', () => {
    const request = decodeInferenceRequest(
      JSON.stringify({
        inputs: [{ name: 'x', datatype: 'FP32', shape: [1], data: [1] }],
        outputs: [{ name: 'y', parameters: { shared_memory_region: 'out', shared_memory_byte_size: 64, shared_memory_offset: 16 } }],
      }),
    );
    expect(request.outputs).toEqual([{ name: 'y', parameters: { shared_memory_region: 'out', shared_memory_byte_size: 64, shared_memory_offset: 16 } }]);
    expect(sharedMemoryRef(request.outputs![0].parameters, 'y')).toEqual({ region: 'out', offset: 16, byteSize: 64 });
    expect(() =>
      decodeInferenceRequest(
        JSON.stringify({
          inputs: [{ name: 'x', datatype: 'FP32', shape: [1], data: [1] }],
          outputs: [{ name: 'y', parameters: { shared_memory_region: 'out' } }],
        }),
      ),
    ).toThrow(/outputs\[0\] \(y\): parameters shared_memory_region and shared_memory_byte_size must be given together/);
  });

  it('writes a tensor in shared memory without data, in JSON and binary messages alike', () => {
    const response: InferenceResponse = {
      model_name: 'm',
      outputs: [
        { name: 'y', datatype: 'FP32', shape: [2], data: new Float32Array([1, 2]), parameters: { shared_memory_region: 'out', shared_memory_byte_size: 8 } },
        { name: 'z', datatype: 'INT32', shape: [1], data: new Int32Array([3]) },
      ],
    };
    const json = encodeInferenceResponse(response);
    expect(JSON.parse(json.body as string).outputs[0]).toEqual({
      name: 'y',
      datatype: 'FP32',
      shape: [2],
      parameters: { shared_memory_region: 'out', shared_memory_byte_size: 8 },
    });
    const bin = encodeInferenceResponse(response, { binaryOutputs: true });
    expect(bin.body.length - bin.headerLength!).toBe(4);

    const { resolve } = regions({ out: floatsBytes([1, 2]) });
    const back = decodeInferenceResponse(bin.body, bin.headerLength, resolve);
    expect(back.outputs.map((t) => Array.from(t.data as Float32Array))).toEqual([[1, 2], [3]]);
    expect(back.outputs[0].parameters).toBeUndefined();
  });

  it('refuses an input in shared memory when there is no resolver, saying shared memory is not enabled', () => {
    const e = thrown(() =>
      decodeInferenceRequest(
        JSON.stringify({
          inputs: [{ name: 'x', datatype: 'FP32', shape: [1], parameters: { shared_memory_region: 'r', shared_memory_byte_size: 4 } }],
        }),
      ),
    );
    expect(e.name).toBe('OipUnsupported');
    expect(e.message).toMatch(/inputs\[0\] \(x\): data is in shared memory region 'r', but this server does not have shared memory enabled/);
  });

  it('refuses BYTES from shared memory as unsupported', () => {
    const { resolve, asked } = regions({ r: new Uint8Array(8) });
    const e = thrown(() =>
      decodeInferenceRequest(
        JSON.stringify({
          inputs: [{ name: 's', datatype: 'BYTES', shape: [1], parameters: { shared_memory_region: 'r', shared_memory_byte_size: 8 } }],
        }),
        null,
        resolve,
      ),
    );
    expect(e.name).toBe('OipUnsupported');
    expect(e.message).toMatch(/BYTES tensors cannot be passed in shared memory/);
    expect(asked).toEqual([]);
  });

  const shm = (extra: Record<string, unknown>) =>
    JSON.stringify({
      inputs: [{ name: 'x', datatype: 'FP32', shape: [2], ...extra }],
    });
  it.each([
    [
      'data and region',
      shm({ data: [1, 2], parameters: { shared_memory_region: 'r', shared_memory_byte_size: 8 } }),
      /has both data and parameters.shared_memory_region/,
    ],
    [
      'binary size and region',
      shm({ parameters: { binary_data_size: 8, shared_memory_region: 'r', shared_memory_byte_size: 8 } }),
      /has both parameters.binary_data_size and parameters.shared_memory_region/,
    ],
    [
      'byte size not matching the shape',
      shm({ parameters: { shared_memory_region: 'r', shared_memory_byte_size: 12 } }),
      /2 FP32 elements need 8 bytes, shared_memory_byte_size is 12/,
    ],
    ['region without byte size', shm({ parameters: { shared_memory_region: 'r' } }), /must be given together/],
    ['offset alone', shm({ data: [1, 2], parameters: { shared_memory_offset: 4 } }), /shared_memory_offset alone means nothing/],
    [
      'negative offset',
      shm({ parameters: { shared_memory_region: 'r', shared_memory_byte_size: 8, shared_memory_offset: -4 } }),
      /shared_memory_offset must be a non-negative integer byte count, got -4/,
    ],
    [
      'byte size as text',
      shm({ parameters: { shared_memory_region: 'r', shared_memory_byte_size: '8' } }),
      /shared_memory_byte_size must be a non-negative integer byte count, got "8"/,
    ],
    ['empty region name', shm({ parameters: { shared_memory_region: '', shared_memory_byte_size: 8 } }), /shared_memory_region must be a non-empty string/],
  ])('rejects %s as malformed', (_label, body, pattern) => {
    const { resolve, asked } = regions({ r: new Uint8Array(64) });
    const e = thrown(() => decodeInferenceRequest(body, null, resolve));
    expect(e.name).toBe('OipMalformed');
    expect(e.message).toMatch(pattern);
    expect(asked).toEqual([]);
  });

  it('rejects a resolver that returns the wrong number of bytes', () => {
    expect(() => decodeInferenceRequest(shm({ parameters: { shared_memory_region: 'r', shared_memory_byte_size: 8 } }), null, () => new Uint8Array(4))).toThrow(
      /region 'r' gave 4 bytes, expected 8/,
    );
  });
});
