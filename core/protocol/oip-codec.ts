/**
 * Open Inference Protocol codec: typed tensors <-> JSON tensors and the binary tensor extension
 * (JSON header of `Inference-Header-Content-Length` bytes, then raw little-endian tensor bytes in tensor order).
 * Pure: no Node or DOM APIs, so the server and the browser share it.
 *
 * Decoded binary tensors are views into the body's buffer when alignment allows, so a caller can transfer them onward
 * without another copy; misaligned data is copied.
 *
 * Tensors may also live in system shared memory (`shared_memory_region` parameters): the decoder asks the caller's
 * resolver for their bytes, and the encoders write such tensors without data.
 */
import {
  DATATYPE_BYTES,
  OIP_DATATYPES,
  OipError,
  SHARED_MEMORY_BYTE_SIZE,
  SHARED_MEMORY_OFFSET,
  SHARED_MEMORY_REGION,
  elementCount,
  isOipDatatype,
  type InferenceRequest,
  type InferenceResponse,
  type NumericTensorData,
  type OipDatatype,
  type Parameters,
  type RequestedOutput,
  type SharedMemoryRef,
  type Tensor,
  type TensorData,
} from './oip';
import { bf16BitsToNumber, f16BitsToNumber, numberToBf16Bits, numberToF16Bits } from './half';
import { utf8Decode, utf8Encode } from './utf8';

/**
 * Gives the bytes of a tensor held in shared memory; `where` names the tensor for error messages. Returned bytes
 * that start on an element boundary are used as they are (no copy).
 */
export type SharedMemoryResolver = (ref: SharedMemoryRef, where: string) => Uint8Array;

/** What an encoder hands to the transport. `headerLength` is set exactly when binary data follows the JSON. */
export interface EncodedMessage {
  body: string | Uint8Array;
  contentType: 'application/json' | 'application/octet-stream';
  headerLength?: number;
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const MAX_RANK = 16;
/** Element count ceiling: beyond this no typed array can be allocated reliably. */
const MAX_ELEMENTS = 2 ** 31 - 1;

type FixedDatatype = Exclude<OipDatatype, 'BYTES'>;
type TypedCtor = {
  new (length: number): NumericTensorData;
  new (buffer: ArrayBufferLike, byteOffset: number, length: number): NumericTensorData;
};

const CTORS: Record<FixedDatatype, TypedCtor> = {
  BOOL: Uint8Array,
  UINT8: Uint8Array,
  UINT16: Uint16Array,
  UINT32: Uint32Array,
  UINT64: BigUint64Array,
  INT8: Int8Array,
  INT16: Int16Array,
  INT32: Int32Array,
  INT64: BigInt64Array,
  FP16: Uint16Array,
  BF16: Uint16Array,
  FP32: Float32Array,
  FP64: Float64Array,
};

const INT_RANGES: Partial<Record<FixedDatatype, [number, number]>> = {
  UINT8: [0, 255],
  UINT16: [0, 65535],
  UINT32: [0, 4294967295],
  INT8: [-128, 127],
  INT16: [-32768, 32767],
  INT32: [-2147483648, 2147483647],
  UINT64: [0, Number.MAX_SAFE_INTEGER],
  INT64: [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
};

const malformed = (message: string): OipError => new OipError('OipMalformed', message);
const unencodable = (message: string): OipError => new OipError('OipUnencodable', message);

// ---------------------------------------------------------------------------------------------------------------
// Public API

export function encodeInferenceRequest(request: InferenceRequest, options: { binaryInputs?: boolean } = {}): EncodedMessage {
  const chunks: Uint8Array[] = [];
  const inputs = request.inputs.map((t, i) => tensorJsonText(t, `inputs[${i}]`, options.binaryInputs === true, chunks));
  const fields: string[] = [];
  if (request.id !== undefined) fields.push(`"id":${JSON.stringify(request.id)}`);
  if (request.parameters !== undefined) fields.push(`"parameters":${JSON.stringify(request.parameters)}`);
  fields.push(`"inputs":[${inputs.join(',')}]`);
  if (request.outputs !== undefined) fields.push(`"outputs":${JSON.stringify(request.outputs)}`);
  return assemble(`{${fields.join(',')}}`, chunks);
}

/** Without `resolveSharedMemory` an input in shared memory is refused as unsupported. */
export function decodeInferenceRequest(body: string | Uint8Array, headerLength?: number | null, resolveSharedMemory?: SharedMemoryResolver): InferenceRequest {
  const { json, binary } = splitBody(body, headerLength);
  const obj = asObject(json, 'request');
  const cursor = { offset: 0 };
  if (!Array.isArray(obj.inputs) || obj.inputs.length === 0) throw malformed('request.inputs must be a non-empty array of tensors');
  const source: TensorSource = {
    binary,
    cursor,
    resolve: resolveSharedMemory,
    noResolver: 'this server does not have shared memory enabled',
  };
  const inputs = obj.inputs.map((t, i) => parseTensor(t, `inputs[${i}]`, source));
  ensureUniqueNames(
    inputs.map((t) => t.name),
    'inputs',
  );
  ensureBinaryConsumed(binary, cursor.offset);
  const request: InferenceRequest = { inputs };
  if (obj.id !== undefined) request.id = stringField(obj.id, 'request.id');
  if (obj.parameters !== undefined) request.parameters = parseParameters(obj.parameters, 'request.parameters');
  if (obj.outputs !== undefined) {
    if (!Array.isArray(obj.outputs)) throw malformed('request.outputs must be an array of {name, parameters?}');
    request.outputs = obj.outputs.map((o, i) => parseRequestedOutput(o, `outputs[${i}]`));
    ensureUniqueNames(
      request.outputs.map((o) => o.name),
      'outputs',
    );
  }
  return request;
}

/** `binaryOutputs` chooses, per output name, whether its data goes in the binary part (see `binaryOutputSelector`). */
export function encodeInferenceResponse(response: InferenceResponse, options: { binaryOutputs?: boolean | ((name: string) => boolean) } = {}): EncodedMessage {
  const pick = options.binaryOutputs;
  const chunks: Uint8Array[] = [];
  const outputs = response.outputs.map((t, i) => tensorJsonText(t, `outputs[${i}]`, typeof pick === 'function' ? pick(t.name) : pick === true, chunks));
  const fields: string[] = [`"model_name":${JSON.stringify(response.model_name)}`];
  if (response.model_version !== undefined) fields.push(`"model_version":${JSON.stringify(response.model_version)}`);
  if (response.id !== undefined) fields.push(`"id":${JSON.stringify(response.id)}`);
  if (response.parameters !== undefined) fields.push(`"parameters":${JSON.stringify(response.parameters)}`);
  fields.push(`"outputs":[${outputs.join(',')}]`);
  return assemble(`{${fields.join(',')}}`, chunks);
}

/** An output the server wrote to shared memory is read back through `resolveSharedMemory` (the client's regions). */
export function decodeInferenceResponse(
  body: string | Uint8Array,
  headerLength?: number | null,
  resolveSharedMemory?: SharedMemoryResolver,
): InferenceResponse {
  const { json, binary } = splitBody(body, headerLength);
  const obj = asObject(json, 'response');
  if (typeof obj.error === 'string') throw malformed(`response is an error: ${obj.error}`);
  const response: InferenceResponse = { model_name: stringField(obj.model_name, 'response.model_name'), outputs: [] };
  if (!Array.isArray(obj.outputs)) throw malformed('response.outputs must be an array of tensors');
  const cursor = { offset: 0 };
  const source: TensorSource = {
    binary,
    cursor,
    resolve: resolveSharedMemory,
    noResolver: 'no shared memory resolver was given to read it back',
  };
  response.outputs = obj.outputs.map((t, i) => parseTensor(t, `outputs[${i}]`, source));
  ensureBinaryConsumed(binary, cursor.offset);
  if (obj.model_version !== undefined) response.model_version = stringField(obj.model_version, 'response.model_version');
  if (obj.id !== undefined) response.id = stringField(obj.id, 'response.id');
  if (obj.parameters !== undefined) response.parameters = parseParameters(obj.parameters, 'response.parameters');
  return response;
}

/**
 * Which outputs the client wants as binary: an output's own `binary_data` parameter wins, otherwise the
 * request-level `binary_data_output`.
 */
export function binaryOutputSelector(request: Pick<InferenceRequest, 'parameters' | 'outputs'>): (name: string) => boolean {
  const all = request.parameters?.binary_data_output === true;
  const own = new Map<string, boolean>();
  for (const o of request.outputs ?? []) {
    const v = o.parameters?.binary_data;
    if (typeof v === 'boolean') own.set(o.name, v);
  }
  return (name) => own.get(name) ?? all;
}

/**
 * The shared memory place named by a tensor's or requested output's parameters, or null when it has none.
 * `shared_memory_region` and `shared_memory_byte_size` go together; `shared_memory_offset` defaults to 0.
 */
export function sharedMemoryRef(parameters: Parameters | undefined, where: string): SharedMemoryRef | null {
  const region = parameters?.[SHARED_MEMORY_REGION];
  const byteSize = parameters?.[SHARED_MEMORY_BYTE_SIZE];
  const offset = parameters?.[SHARED_MEMORY_OFFSET];
  if (region === undefined && byteSize === undefined && offset === undefined) return null;
  if (region === undefined || byteSize === undefined) {
    throw malformed(
      `${where}: parameters ${SHARED_MEMORY_REGION} and ${SHARED_MEMORY_BYTE_SIZE} must be given together` +
        (region === undefined && byteSize === undefined ? ` (${SHARED_MEMORY_OFFSET} alone means nothing)` : ''),
    );
  }
  if (typeof region !== 'string' || region.length === 0) throw malformed(`${where}: parameters.${SHARED_MEMORY_REGION} must be a non-empty string`);
  const count = (value: unknown, name: string): number => {
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
      throw malformed(`${where}: parameters.${name} must be a non-negative integer byte count, got ${JSON.stringify(value)}`);
    }
    return value;
  };
  return { region, byteSize: count(byteSize, SHARED_MEMORY_BYTE_SIZE), offset: offset === undefined ? 0 : count(offset, SHARED_MEMORY_OFFSET) };
}

/**
 * A tensor's data as the little-endian bytes the binary extension and shared memory carry (a view of the data itself
 * on little-endian hosts). BYTES elements are length-prefixed.
 */
export function tensorBytes(t: Pick<Tensor, 'datatype' | 'data'>): Uint8Array {
  if (t.datatype === 'BYTES') {
    const items = t.data as Uint8Array[];
    let total = 0;
    for (const b of items) total += 4 + b.length;
    const out = new Uint8Array(total);
    let at = 0;
    for (const b of items) {
      writeU32LE(out, at, b.length);
      out.set(b, at + 4);
      at += 4 + b.length;
    }
    return out;
  }
  const data = t.data as NumericTensorData;
  const view = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return LITTLE_ENDIAN ? view : swapped(view, DATATYPE_BYTES[t.datatype]);
}

/** The typed-array class that holds a datatype, for callers that build tensors. */
export function typedArrayFor(datatype: FixedDatatype, length: number): NumericTensorData {
  return new CTORS[datatype](length);
}

// ---------------------------------------------------------------------------------------------------------------
// Encoding

function assemble(header: string, chunks: Uint8Array[]): EncodedMessage {
  if (chunks.length === 0) return { body: header, contentType: 'application/json' };
  const head = utf8Encode(header);
  let total = head.length;
  for (const c of chunks) total += c.length;
  const body = new Uint8Array(total);
  body.set(head, 0);
  let at = head.length;
  for (const c of chunks) {
    body.set(c, at);
    at += c.length;
  }
  return { body, contentType: 'application/octet-stream', headerLength: head.length };
}

function tensorJsonText(t: Tensor, where: string, binary: boolean, chunks: Uint8Array[]): string {
  // Data in shared memory travels by reference: the parameters say where, and no data goes on the wire.
  const inSharedMemory = t.parameters?.[SHARED_MEMORY_REGION] !== undefined;
  if (inSharedMemory) sharedMemoryRef(t.parameters, `${where} (${t.name})`);
  checkTensorForEncode(t, where, !inSharedMemory);
  const params: Parameters = { ...t.parameters };
  delete params.binary_data_size;
  let dataText: string | null = null;
  if (inSharedMemory) {
    // nothing: the reader takes the bytes from the region
  } else if (binary) {
    const bytes = tensorBytes(t);
    params.binary_data_size = bytes.length;
    chunks.push(bytes);
  } else {
    dataText = jsonDataText(t, where);
  }
  const parts = [`"name":${JSON.stringify(t.name)}`, `"datatype":"${t.datatype}"`, `"shape":[${t.shape.join(',')}]`];
  if (Object.keys(params).length > 0) parts.push(`"parameters":${JSON.stringify(params)}`);
  if (dataText !== null) parts.push(`"data":${dataText}`);
  return `{${parts.join(',')}}`;
}

function checkTensorForEncode(t: Tensor, where: string, withData: boolean): void {
  if (!isOipDatatype(t.datatype)) throw unencodable(`${where}: unknown datatype ${String(t.datatype)}`);
  if (!withData) return;
  const count = elementCount(t.shape);
  const expectedLength = Array.isArray(t.data) ? t.data.length : (t.data as NumericTensorData).length;
  if (t.datatype === 'BYTES') {
    if (!Array.isArray(t.data)) throw unencodable(`${where} (${t.name}): BYTES data must be an array of Uint8Array`);
  } else if (!(t.data instanceof CTORS[t.datatype])) {
    throw unencodable(`${where} (${t.name}): ${t.datatype} data must be a ${CTORS[t.datatype].name}`);
  }
  if (expectedLength !== count) {
    throw unencodable(`${where} (${t.name}): shape [${t.shape.join(',')}] needs ${count} elements, data has ${expectedLength}`);
  }
}

function jsonDataText(t: Tensor, where: string): string {
  const data = t.data;
  switch (t.datatype) {
    case 'BYTES':
      return `[${(data as Uint8Array[])
        .map((b, i) => {
          const s = utf8Decode(b);
          if (s === null) throw unencodable(`${where} (${t.name}): element ${i} is not UTF-8 text; request it as binary data`);
          return JSON.stringify(s);
        })
        .join(',')}]`;
    case 'BOOL':
      return `[${Array.from(data as Uint8Array, (v) => (v ? 'true' : 'false')).join(',')}]`;
    case 'FP16':
    case 'BF16': {
      const toNumber = t.datatype === 'FP16' ? f16BitsToNumber : bf16BitsToNumber;
      const values = Array.from(data as Uint16Array, toNumber);
      ensureFinite(values, t, where);
      return `[${values.join(',')}]`;
    }
    case 'FP32':
    case 'FP64':
      ensureFinite(data as Float32Array, t, where);
      return `[${(data as Float32Array).join(',')}]`;
    default:
      return `[${(data as Int32Array).join(',')}]`;
  }
}

function ensureFinite(values: ArrayLike<number>, t: Tensor, where: string): void {
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i])) {
      throw unencodable(`${where} (${t.name}): element ${i} is ${values[i]}, which JSON cannot carry; request it as binary data`);
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Decoding

function splitBody(body: string | Uint8Array, headerLength: number | null | undefined): { json: unknown; binary: Uint8Array } {
  let text: string;
  let binary: Uint8Array = new Uint8Array(0);
  if (typeof body === 'string') {
    if (headerLength !== undefined && headerLength !== null) {
      throw malformed(`Inference-Header-Content-Length is set but the body was given as text`);
    }
    text = body;
  } else {
    const h = headerLength ?? body.length;
    if (!Number.isInteger(h) || h <= 0 || h > body.length) {
      throw malformed(
        body.length === 0 ? 'body is empty' : `Inference-Header-Content-Length ${h} must be an integer between 1 and the body size (${body.length} bytes)`,
      );
    }
    const decoded = utf8Decode(body.subarray(0, h));
    if (decoded === null) throw malformed('JSON header is not valid UTF-8');
    text = decoded;
    binary = body.subarray(h);
  }
  if (text.trim() === '') throw malformed('body is empty');
  try {
    return { json: JSON.parse(text), binary };
  } catch (e) {
    throw malformed(`JSON header is not valid JSON (${(e as Error).message})`);
  }
}

function asObject(value: unknown, where: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw malformed(`${where} must be a JSON object`);
  return value as Record<string, unknown>;
}

function stringField(value: unknown, where: string): string {
  if (typeof value !== 'string') throw malformed(`${where} must be a string`);
  return value;
}

function parseParameters(value: unknown, where: string): Parameters {
  const obj = asObject(value, where);
  for (const [k, v] of Object.entries(obj)) {
    if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') {
      throw malformed(`${where}.${k} must be a string, number or boolean`);
    }
  }
  return obj as Parameters;
}

function parseRequestedOutput(value: unknown, where: string): RequestedOutput {
  const obj = asObject(value, where);
  const out: RequestedOutput = { name: nonEmptyName(obj.name, `${where}.name`) };
  if (obj.parameters !== undefined) {
    out.parameters = parseParameters(obj.parameters, `${where}.parameters`);
    // Kept on the requested output for the server to write into; only checked here.
    sharedMemoryRef(out.parameters, `${where} (${out.name})`);
  }
  return out;
}

function nonEmptyName(value: unknown, where: string): string {
  if (typeof value !== 'string' || value.length === 0) throw malformed(`${where} must be a non-empty string`);
  return value;
}

function ensureUniqueNames(names: string[], where: string): void {
  const seen = new Set<string>();
  for (const n of names) {
    if (seen.has(n)) throw malformed(`${where}: name '${n}' appears more than once`);
    seen.add(n);
  }
}

function ensureBinaryConsumed(binary: Uint8Array, used: number): void {
  if (used !== binary.length) {
    throw malformed(`${binary.length} bytes of binary data follow the JSON header but the tensors declare ${used}`);
  }
}

function parseShape(value: unknown, where: string): number[] {
  if (!Array.isArray(value)) throw malformed(`${where}.shape must be an array of non-negative integers`);
  if (value.length > MAX_RANK) throw malformed(`${where}.shape has rank ${value.length}; at most ${MAX_RANK} is supported`);
  let count = 1;
  for (const d of value) {
    if (typeof d !== 'number' || !Number.isInteger(d) || d < 0) {
      throw malformed(`${where}.shape must be an array of non-negative integers, got [${value.map(String).join(',')}]`);
    }
    count *= d;
  }
  if (count > MAX_ELEMENTS) throw malformed(`${where}.shape [${value.join(',')}] has too many elements`);
  return value as number[];
}

interface TensorSource {
  binary: Uint8Array;
  cursor: { offset: number };
  resolve: SharedMemoryResolver | undefined;
  /** Why a tensor in shared memory cannot be read when there is no resolver. */
  noResolver: string;
}

function parseTensor(value: unknown, where: string, source: TensorSource): Tensor {
  const { binary, cursor } = source;
  const obj = asObject(value, where);
  const name = nonEmptyName(obj.name, `${where}.name`);
  const at = `${where} (${name})`;
  if (!isOipDatatype(obj.datatype)) {
    throw malformed(`${at}: datatype ${JSON.stringify(obj.datatype)} is not one of ${OIP_DATATYPES.join(', ')}`);
  }
  const datatype = obj.datatype;
  const shape = parseShape(obj.shape, at);
  const count = elementCount(shape);
  const parameters = obj.parameters === undefined ? undefined : { ...parseParameters(obj.parameters, `${at}.parameters`) };
  const binarySize = parameters?.binary_data_size;
  const shm = sharedMemoryRef(parameters, at);
  let data: TensorData;
  if (shm !== null) {
    if (obj.data !== undefined || binarySize !== undefined) {
      throw malformed(`${at}: has both ${obj.data !== undefined ? 'data' : 'parameters.binary_data_size'} and parameters.${SHARED_MEMORY_REGION}`);
    }
    if (datatype === 'BYTES') throw new OipError('OipUnsupported', `${at}: BYTES tensors cannot be passed in shared memory; send them in the body`);
    const need = count * DATATYPE_BYTES[datatype];
    if (shm.byteSize !== need) {
      throw malformed(`${at}: ${count} ${datatype} elements need ${need} bytes, ${SHARED_MEMORY_BYTE_SIZE} is ${shm.byteSize}`);
    }
    if (!source.resolve) throw new OipError('OipUnsupported', `${at}: data is in shared memory region '${shm.region}', but ${source.noResolver}`);
    const bytes = source.resolve(shm, at);
    if (bytes.length !== need) throw malformed(`${at}: shared memory region '${shm.region}' gave ${bytes.length} bytes, expected ${need}`);
    data = bytesToData(datatype, bytes, count, at);
    delete parameters![SHARED_MEMORY_REGION];
    delete parameters![SHARED_MEMORY_BYTE_SIZE];
    delete parameters![SHARED_MEMORY_OFFSET];
  } else if (binarySize !== undefined) {
    if (obj.data !== undefined) throw malformed(`${at}: has both data and parameters.binary_data_size`);
    if (typeof binarySize !== 'number' || !Number.isInteger(binarySize) || binarySize < 0) {
      throw malformed(`${at}: parameters.binary_data_size must be a non-negative integer`);
    }
    const remaining = binary.length - cursor.offset;
    if (binarySize > remaining) {
      throw malformed(`${at}: binary_data_size is ${binarySize} bytes but only ${remaining} bytes of binary data remain`);
    }
    const bytes = binary.subarray(cursor.offset, cursor.offset + binarySize);
    cursor.offset += binarySize;
    data = bytesToData(datatype, bytes, count, at);
    delete parameters!.binary_data_size;
  } else if (obj.data !== undefined) {
    if (!Array.isArray(obj.data)) throw malformed(`${at}: data must be an array`);
    const flat = obj.data.length > 0 && Array.isArray(obj.data[0]) ? (obj.data as unknown[]).flat(MAX_RANK) : obj.data;
    if (flat.length !== count) {
      throw malformed(`${at}: shape [${shape.join(',')}] needs ${count} elements, data has ${flat.length}`);
    }
    data = jsonToData(datatype, flat, at);
  } else {
    throw malformed(`${at}: has neither data, parameters.binary_data_size nor parameters.${SHARED_MEMORY_REGION}`);
  }
  const tensor: Tensor = { name, datatype, shape, data };
  if (parameters && Object.keys(parameters).length > 0) tensor.parameters = parameters;
  return tensor;
}

function jsonToData(datatype: OipDatatype, flat: unknown[], at: string): TensorData {
  const n = flat.length;
  const bad = (i: number, want: string): OipError => malformed(`${at}: element ${i} is ${JSON.stringify(flat[i])}, expected ${want} for ${datatype}`);
  switch (datatype) {
    case 'BYTES':
      return flat.map((v, i) => {
        if (typeof v !== 'string') throw bad(i, 'a string');
        return utf8Encode(v);
      });
    case 'BOOL': {
      const out = new Uint8Array(n);
      for (let i = 0; i < n; i++) {
        const v = flat[i];
        if (typeof v !== 'boolean') throw bad(i, 'true or false');
        out[i] = v ? 1 : 0;
      }
      return out;
    }
    case 'FP16':
    case 'BF16': {
      const toBits = datatype === 'FP16' ? numberToF16Bits : numberToBf16Bits;
      const out = new Uint16Array(n);
      for (let i = 0; i < n; i++) {
        const v = flat[i];
        if (typeof v !== 'number') throw bad(i, 'a number');
        out[i] = toBits(v);
      }
      return out;
    }
    case 'FP32':
    case 'FP64': {
      const out = datatype === 'FP32' ? new Float32Array(n) : new Float64Array(n);
      for (let i = 0; i < n; i++) {
        const v = flat[i];
        if (typeof v !== 'number') throw bad(i, 'a number');
        out[i] = v;
      }
      return out;
    }
    case 'INT64':
    case 'UINT64': {
      const [lo, hi] = INT_RANGES[datatype]!;
      const out = datatype === 'INT64' ? new BigInt64Array(n) : new BigUint64Array(n);
      for (let i = 0; i < n; i++) {
        const v = flat[i];
        if (typeof v !== 'number' || !Number.isInteger(v) || v < lo || v > hi) throw bad(i, `an integer in ${lo}..${hi}`);
        out[i] = BigInt(v);
      }
      return out;
    }
    default: {
      const [lo, hi] = INT_RANGES[datatype]!;
      const out = new CTORS[datatype](n) as Int32Array;
      for (let i = 0; i < n; i++) {
        const v = flat[i];
        if (typeof v !== 'number' || !Number.isInteger(v) || v < lo || v > hi) throw bad(i, `an integer in ${lo}..${hi}`);
        out[i] = v;
      }
      return out;
    }
  }
}

function bytesToData(datatype: OipDatatype, bytes: Uint8Array, count: number, at: string): TensorData {
  if (datatype === 'BYTES') {
    const items: Uint8Array[] = [];
    let p = 0;
    while (p < bytes.length) {
      if (p + 4 > bytes.length) throw malformed(`${at}: BYTES element ${items.length} has a truncated 4-byte length prefix`);
      const len = readU32LE(bytes, p);
      if (p + 4 + len > bytes.length) throw malformed(`${at}: BYTES element ${items.length} declares ${len} bytes past the tensor's end`);
      items.push(bytes.subarray(p + 4, p + 4 + len));
      p += 4 + len;
    }
    if (items.length !== count) throw malformed(`${at}: shape needs ${count} BYTES elements, binary data holds ${items.length}`);
    return items;
  }
  const size = DATATYPE_BYTES[datatype];
  if (bytes.length !== count * size) {
    throw malformed(`${at}: ${count} ${datatype} elements need ${count * size} bytes, binary_data_size is ${bytes.length}`);
  }
  let source = bytes;
  if (!LITTLE_ENDIAN) source = swapped(bytes, size);
  else if (bytes.byteOffset % size !== 0) source = bytes.slice();
  const data = new CTORS[datatype](source.buffer, source.byteOffset, count);
  if (datatype === 'BOOL') {
    const b = data as Uint8Array;
    for (let i = 0; i < b.length; i++) if (b[i] > 1) throw malformed(`${at}: BOOL element ${i} is ${b[i]}, expected 0 or 1`);
  }
  return data;
}

// ---------------------------------------------------------------------------------------------------------------
// Byte helpers

function swapped(bytes: Uint8Array, size: number): Uint8Array {
  const out = new Uint8Array(bytes.length);
  for (let i = 0; i < bytes.length; i += size) {
    for (let k = 0; k < size; k++) out[i + k] = bytes[i + size - 1 - k];
  }
  return out;
}

function writeU32LE(out: Uint8Array, at: number, v: number): void {
  out[at] = v & 255;
  out[at + 1] = (v >>> 8) & 255;
  out[at + 2] = (v >>> 16) & 255;
  out[at + 3] = (v >>> 24) & 255;
}

function readU32LE(b: Uint8Array, at: number): number {
  return (b[at] | (b[at + 1] << 8) | (b[at + 2] << 16) | (b[at + 3] << 24)) >>> 0;
}
