/**
 * Open Inference Protocol (KServe v2 / Triton) REST types: the JSON on the wire and the typed in-memory form the
 * codec (oip-codec.ts) converts to and from. Names follow the protocol, including its snake_case fields.
 */

export const OIP_DATATYPES = [
  'BOOL',
  'UINT8',
  'UINT16',
  'UINT32',
  'UINT64',
  'INT8',
  'INT16',
  'INT32',
  'INT64',
  'FP16',
  'BF16',
  'FP32',
  'FP64',
  'BYTES',
] as const;
export type OipDatatype = (typeof OIP_DATATYPES)[number];

/** Bytes per element in the binary tensor extension; BYTES elements are length-prefixed and have no fixed size. */
export const DATATYPE_BYTES: Record<Exclude<OipDatatype, 'BYTES'>, number> = {
  BOOL: 1,
  UINT8: 1,
  UINT16: 2,
  UINT32: 4,
  UINT64: 8,
  INT8: 1,
  INT16: 2,
  INT32: 4,
  INT64: 8,
  FP16: 2,
  BF16: 2,
  FP32: 4,
  FP64: 8,
};

/** HTTP header giving the size of the JSON part when binary tensor data follows it. */
export const HEADER_LENGTH_HEADER = 'Inference-Header-Content-Length';
/** Extensions this implementation speaks, as reported by GET /v2. */
export const BINARY_TENSOR_EXTENSION = 'binary_tensor_data';
/** Tensors passed by reference to a region of system shared memory the client registered (Triton's extension). */
export const SHARED_MEMORY_EXTENSION = 'system_shared_memory';

/** Tensor (and requested output) parameters that place its data in a registered shared memory region. */
export const SHARED_MEMORY_REGION = 'shared_memory_region';
export const SHARED_MEMORY_BYTE_SIZE = 'shared_memory_byte_size';
/** Optional, bytes from the start of the registered region; 0 when absent. */
export const SHARED_MEMORY_OFFSET = 'shared_memory_offset';

/**
 * Inference request parameter (Tandem's): `true` asks for the recogniser's outputs as packed CTC steps, [N, T, 3] floats
 * per output (best class, its probability, the space class's probability: core/ocr packCtcSteps) instead of [N, T, C]
 * probabilities, about 480 bytes per 320-px line instead of 1 MB. Servers that do not know it answer in full, which
 * core/ocr decodes as well.
 */
export const CTC_STEPS_PARAMETER = 'ctc_steps';

export type ParameterValue = string | number | boolean;
export type Parameters = Record<string, ParameterValue>;

/**
 * Typed tensor contents per datatype: FP16/BF16 carry raw 16-bit patterns, BOOL one byte (0/1) per element,
 * BYTES one Uint8Array per element.
 */
export interface TensorDataByType {
  BOOL: Uint8Array;
  UINT8: Uint8Array;
  UINT16: Uint16Array;
  UINT32: Uint32Array;
  UINT64: BigUint64Array;
  INT8: Int8Array;
  INT16: Int16Array;
  INT32: Int32Array;
  INT64: BigInt64Array;
  FP16: Uint16Array;
  BF16: Uint16Array;
  FP32: Float32Array;
  FP64: Float64Array;
  BYTES: Uint8Array[];
}
export type TensorData = TensorDataByType[OipDatatype];
export type NumericTensorData = Exclude<TensorData, Uint8Array[]>;

/** A tensor in memory, row-major. */
export interface Tensor {
  name: string;
  datatype: OipDatatype;
  shape: number[];
  data: TensorData;
  parameters?: Parameters;
}

export interface RequestedOutput {
  name: string;
  parameters?: Parameters;
}

export interface InferenceRequest {
  id?: string;
  parameters?: Parameters;
  inputs: Tensor[];
  outputs?: RequestedOutput[];
}

export interface InferenceResponse {
  model_name: string;
  model_version?: string;
  id?: string;
  parameters?: Parameters;
  outputs: Tensor[];
}

/** JSON element values: numbers, booleans (BOOL) or strings (BYTES); the protocol allows nesting by dimension. */
export type TensorJsonData = Array<number | boolean | string | TensorJsonData>;

/** A tensor as it appears in the JSON part: either `data` or a `binary_data_size` parameter. */
export interface TensorJson {
  name: string;
  datatype: string;
  shape: number[];
  parameters?: Parameters;
  data?: TensorJsonData;
}

export interface InferenceRequestJson {
  id?: string;
  parameters?: Parameters;
  inputs: TensorJson[];
  outputs?: RequestedOutput[];
}

export interface InferenceResponseJson {
  model_name: string;
  model_version?: string;
  id?: string;
  parameters?: Parameters;
  outputs: TensorJson[];
}

/** GET /v2 */
export interface ServerMetadataResponse {
  name: string;
  version: string;
  extensions: string[];
}

export interface TensorMetadata {
  name: string;
  datatype: OipDatatype;
  /** -1 marks a dynamic dimension. */
  shape: number[];
}

/** GET /v2/models/{name}[/versions/{version}] */
export interface ModelMetadataResponse {
  name: string;
  versions?: string[];
  platform: string;
  inputs: TensorMetadata[];
  outputs: TensorMetadata[];
}

/** POST /v2/systemsharedmemory/region/{name}/register: a window of the shared memory object `key` (e.g. /dev/shm/<key>). */
export interface SharedMemoryRegisterRequest {
  key: string;
  /** Where the region starts inside the shared memory object. */
  offset?: number;
  byte_size: number;
}

/** One entry of GET /v2/systemsharedmemory[/region/{name}]/status. */
export interface SharedMemoryStatusEntry {
  name: string;
  key: string;
  offset: number;
  byte_size: number;
}

/** A tensor's place in shared memory: `offset` counts from the start of the registered region. */
export interface SharedMemoryRef {
  region: string;
  offset: number;
  byteSize: number;
}

/** GET /v2/health/live, /v2/health/ready */
export interface LiveResponse {
  live: boolean;
}
export interface ReadyResponse {
  ready: boolean;
}
/** GET /v2/models/{name}[/versions/{version}]/ready */
export interface ModelReadyResponse {
  name: string;
  ready: boolean;
}

/** Every error body of the protocol. */
export interface OipErrorResponse {
  error: string;
}

export type OipErrorCode = 'OipMalformed' | 'OipUnsupported' | 'OipUnencodable';

/** Raised by the codec; `name` is the code, the message names the offending field. */
export class OipError extends Error {
  constructor(
    readonly code: OipErrorCode,
    message: string,
  ) {
    super(message);
    this.name = code;
  }
}

export function isOipDatatype(value: unknown): value is OipDatatype {
  return typeof value === 'string' && (OIP_DATATYPES as readonly string[]).includes(value);
}

/** Number of elements of a shape; 1 for a scalar (rank 0). */
export function elementCount(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}
