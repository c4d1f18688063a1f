/**
 * fast-check generators of Open Inference Protocol requests: JSON bodies, malformed JSON text, binary tensor bodies
 * (`binary_data_size`, `Inference-Header-Content-Length`), metadata and readiness paths.
 */
import fc from 'fast-check';
import { OIP_DATATYPES } from '../../core/protocol/oip';
import { enc, headers, headerText, optional, origin, type CaseContext, type FuzzCase } from './arbitraries';

/** The models the fuzzed server loads, with the shapes they take and their output names. */
const SERVED = {
  'ppocr-det': { heights: [32, 64, 96], widths: [32, 64, 96, 128], output: 'sigmoid_0.tmp_0' },
  'ppocr-cls': { heights: [48], widths: [192], output: 'softmax_0.tmp_0' },
  'ppocr-rec': { heights: [48], widths: [32, 96, 160, 320], output: 'softmax_11.tmp_0' },
} as const;
type Served = keyof typeof SERVED;
const OTHER_MODELS = ['ppocr-det-int8', 'ppocr-rec-fp16', 'nope', '..', '%2e%2e', 'ppocr-det%00', 'A'.repeat(300)];
export const REGIONS = ['r0', 'r1', 'r2', '..', '.', 'a/b', 'x'.repeat(129), ''];

/** Odd dimensions: zero, negative, non-integer, past 2^31 and 2^53, the [1,3,48,16000] probe's width. */
const oddDim = fc.constantFrom(-1, 0, 2, 33, 16000, 2 ** 31, 1e9, 1.5, 2 ** 53);
/** Shapes the model takes (mostly) and shapes it does not. */
function shapeFor(model: string): fc.Arbitrary<number[]> {
  const served = SERVED[model as Served] ?? SERVED['ppocr-det'];
  const fitting = fc.tuple(fc.constantFrom(1, 1, 1, 2), fc.constantFrom(...served.heights), fc.constantFrom(...served.widths)).map(([n, h, w]) => [n, 3, h, w]);
  return fc.oneof(
    { arbitrary: fitting, weight: 12 },
    { arbitrary: fc.tuple(fitting, fc.nat(3), oddDim).map(([s, i, d]) => s.map((v, k) => (k === i ? d : v))), weight: 2 },
    { arbitrary: fc.array(fc.oneof(fc.constantFrom(1, 3, 48, 64), oddDim), { maxLength: 6 }), weight: 1 },
  );
}
const datatype = fc.oneof({ arbitrary: fc.constant('FP32'), weight: 14 }, { arbitrary: fc.constantFrom(...OIP_DATATYPES, 'FLOAT', 'fp32', ''), weight: 1 });
const elements = (shape: unknown[]) => shape.reduce<number>((n, d) => n * (typeof d === 'number' ? d : NaN), 1);
/** Data whose element count fits the shape; longer tensors are only described, never sent, so cases stay small. */
const FITTING = 80_000;

function floats(n: number, seed: number): number[] {
  const out = new Array<number>(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = Math.round((s / 2 ** 32) * 1000) / 1000;
  }
  return out;
}

const parameterValue = fc.oneof(fc.boolean(), fc.double({ noNaN: false }), fc.string({ maxLength: 8 }), fc.constant(null), fc.constant([1]), fc.constant({}));
const requestParameters = optional(
  fc.record(
    {
      deadline_ms: optional(
        fc.oneof({ arbitrary: fc.constantFrom(1000, 60_000, 3e9, 1e300), weight: 6 }, fc.constantFrom(0, 1, 5, -1, '1000', null, true, [1])),
        0.7,
      ),
      binary_data_output: optional(fc.oneof({ arbitrary: fc.boolean(), weight: 8 }, fc.constant('yes')), 0.7),
      accept: optional(
        fc.oneof(fc.constantFrom('["ppocr-det","ppocr-det-int8"]', 'ppocr-rec,ppocr-rec-int8', 'ppocr-cls', '[', '["nope"]', '[1,2]', ''), headerText(30)),
        0.05,
      ),
      extra: optional(parameterValue, 0.05),
    },
    { requiredKeys: [] },
  ),
  2,
);

const shmParameters = (ctx: CaseContext) =>
  fc.record(
    {
      shared_memory_region: fc.oneof(fc.constantFrom(...REGIONS), fc.integer()),
      shared_memory_byte_size: fc.oneof(fc.constantFrom(0, 4, 12288, 36864, ctx.shmBytes, ctx.shmBytes + 1, -4, 1.5), fc.nat(2_000_000)),
      shared_memory_offset: optional(fc.oneof(fc.constantFrom(0, 8, ctx.shmBytes - 4, ctx.shmBytes, -1), fc.nat(ctx.shmBytes))),
    },
    { requiredKeys: ['shared_memory_region'] },
  );

type DataSpec = 'fit' | 'short' | 'long' | 'nested' | 'strings' | 'mixed' | 'none' | 'object';
const dataSpec = fc.oneof(
  { arbitrary: fc.constant<DataSpec>('fit'), weight: 20 },
  { arbitrary: fc.constantFrom<DataSpec>('short', 'long', 'nested', 'strings', 'mixed', 'none', 'object'), weight: 2 },
);

function tensorData(spec: DataSpec, shape: unknown[], seed: number): unknown {
  const n = elements(shape);
  const fits = Number.isSafeInteger(n) && n >= 0 && n <= FITTING;
  switch (spec) {
    case 'fit':
      return fits ? floats(n, seed) : floats(3, seed);
    case 'short':
      return floats(fits ? Math.max(0, n - 1 - (seed % 5)) : 1, seed);
    case 'long':
      return floats(fits ? n + 1 + (seed % 5) : 5, seed);
    case 'nested':
      return [[floats(2, seed)], [floats(3, seed)]];
    case 'strings':
      return ['1', 'a', ''];
    case 'mixed':
      return [1, null, true, 'x', {}, [], 1e400, -0];
    case 'object':
      return { 0: 1 };
    case 'none':
      return undefined;
  }
}

interface TensorDraw {
  name: string;
  datatype: string;
  shape: number[];
  data: DataSpec;
  seed: number;
  shm: Record<string, unknown> | undefined;
}

function oipTensor(ctx: CaseContext, model: string): fc.Arbitrary<TensorDraw> {
  return fc.record({
    name: fc.oneof(
      { arbitrary: fc.constant('x'), weight: 20 },
      { arbitrary: fc.constantFrom('X', '', 'x '), weight: 1 },
      { arbitrary: fc.string({ maxLength: 6 }), weight: 1 },
    ),
    datatype,
    shape: shapeFor(model),
    data: dataSpec,
    seed: fc.nat(),
    shm: optional(shmParameters(ctx), 0.1),
  });
}

const requestedOutputs = (model: string) =>
  optional(
    fc.array(
      fc.record({
        name: fc.oneof(
          { arbitrary: fc.constant(SERVED[model as Served]?.output ?? 'x'), weight: 6 },
          fc.constantFrom('sigmoid_0.tmp_0', 'nope', ''),
          fc.string({ maxLength: 6 }),
        ),
        parameters: optional(fc.record({ binary_data: optional(fc.oneof({ arbitrary: fc.boolean(), weight: 6 }, fc.constant(1))) }, { requiredKeys: [] })),
      }),
      { maxLength: 2 },
    ),
    0.2,
  );

function inferPath(model: string, version: string | undefined): string {
  return version === undefined ? `/v2/models/${model}/infer` : `/v2/models/${model}/versions/${version}/infer`;
}
const modelName = fc.oneof({ arbitrary: fc.constantFrom(...Object.keys(SERVED)), weight: 12 }, { arbitrary: fc.constantFrom(...OTHER_MODELS), weight: 1 });
const version = optional(fc.oneof({ arbitrary: fc.constant('1'), weight: 4 }, fc.constantFrom('2', '0', '01', '-1', '%31')), 0.2);
const oipType = (usual: string[]) =>
  fc.oneof(
    { arbitrary: fc.constantFrom(...usual), weight: 12 },
    {
      arbitrary: fc.constantFrom('application/json', 'application/octet-stream', 'application/vnd.sagemaker-triton.binary+json', '', 'text/plain', 'image/png'),
      weight: 1,
    },
    { arbitrary: headerText(20), weight: 1 },
  );
const inputCount = fc.oneof({ arbitrary: fc.constant(1), weight: 12 }, { arbitrary: fc.constantFrom(0, 2), weight: 1 });

export function oipJsonCases(ctx: CaseContext): fc.Arbitrary<FuzzCase> {
  return fc.tuple(modelName, inputCount).chain(([model, count]) =>
    fc
      .record({
        version,
        inputs: fc.array(oipTensor(ctx, model), { minLength: count, maxLength: count }),
        parameters: requestParameters,
        outputs: requestedOutputs(model),
        id: optional(fc.oneof(fc.string({ maxLength: 10 }), fc.integer()), 0.2),
        type: optional(oipType(['application/json', 'application/json; charset=utf-8']), 3),
        origin,
      })
      .map(({ version, inputs, parameters, outputs, id, type, origin }) => {
        const body: Record<string, unknown> = {
          inputs: inputs.map((t) => ({
            name: t.name,
            datatype: t.datatype,
            shape: t.shape,
            ...(t.shm ? { parameters: t.shm } : { data: tensorData(t.data, t.shape, t.seed) }),
          })),
        };
        if (parameters !== undefined) body.parameters = parameters;
        if (outputs !== undefined) body.outputs = outputs;
        if (id !== undefined) body.id = id;
        return {
          kind: 'oip-json' as const,
          method: 'POST',
          path: inferPath(model, version),
          headers: headers({ 'content-type': type, origin }),
          body: enc.encode(JSON.stringify(body)),
        };
      }),
  );
}

/** JSON text cut, spliced or padded: malformed at every depth. */
export function oipRawCases(): fc.Arbitrary<FuzzCase> {
  const valid = JSON.stringify({ inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 3, 32, 32], data: floats(3 * 32 * 32, 7) }] });
  return fc
    .record({
      model: modelName,
      text: fc.oneof(
        fc.nat(valid.length).map((n) => valid.slice(0, n)),
        fc.tuple(fc.nat(valid.length), fc.string({ maxLength: 8 })).map(([n, s]) => valid.slice(0, n) + s + valid.slice(n)),
        fc.constantFrom(
          '',
          'null',
          '[]',
          '{}',
          '"x"',
          '{"inputs":{}}',
          '{"inputs":[null]}',
          '{"inputs":[{}]}',
          '{"__proto__":{"inputs":1}}',
          '['.repeat(10_000),
          '{"inputs":[{"name":"x","datatype":"FP32","shape":[1,3,32,32],"data":[' + '1,'.repeat(3071) + '1e9999]}]}',
        ),
        fc.json({ maxDepth: 4 }),
      ),
      type: optional(oipType(['application/json']), 4),
    })
    .map(({ model, text, type }) => ({
      kind: 'oip-raw' as const,
      method: 'POST',
      path: inferPath(model, undefined),
      headers: headers({ 'content-type': type }),
      body: enc.encode(text),
    }));
}

/**
 * Binary tensor extension: a JSON header whose `binary_data_size`s may or may not match the bytes that follow, and an
 * `Inference-Header-Content-Length` that may or may not match the header.
 */
export function oipBinaryCases(ctx: CaseContext): fc.Arbitrary<FuzzCase> {
  return fc.tuple(modelName, inputCount).chain(([model, count]) =>
    fc
      .record({
        version,
        inputs: fc.array(
          fc.record({
            tensor: oipTensor(ctx, model),
            sizeDelta: fc.oneof(
              { arbitrary: fc.constant(0), weight: 16 },
              { arbitrary: fc.integer({ min: -8, max: 8 }), weight: 1 },
              { arbitrary: fc.constantFrom(-1e9, 2 ** 40, 0.5), weight: 1 },
            ),
          }),
          { minLength: Math.max(1, count), maxLength: Math.max(1, count) },
        ),
        parameters: requestParameters,
        outputs: requestedOutputs(model),
        headerLength: fc.oneof(
          { arbitrary: fc.constant<'exact'>('exact'), weight: 16 },
          { arbitrary: fc.constantFrom('0', '-1', 'abc', '1e3', ' 12', '99999999999999999999', ''), weight: 1 },
          { arbitrary: fc.integer({ min: -16, max: 16 }), weight: 1 },
        ),
        tailDelta: fc.oneof({ arbitrary: fc.constant(0), weight: 16 }, { arbitrary: fc.integer({ min: -64, max: 64 }), weight: 1 }),
        nonFinite: fc.oneof({ arbitrary: fc.constant(false), weight: 10 }, { arbitrary: fc.constant(true), weight: 1 }),
        type: optional(oipType(['application/octet-stream', 'application/vnd.sagemaker-triton.binary+json']), 8),
      })
      .map(({ version, inputs, parameters, outputs, headerLength, tailDelta, nonFinite, type }) => {
        let bytes = 0;
        const header: Record<string, unknown> = {
          inputs: inputs.map(({ tensor: t, sizeDelta }) => {
            const n = elements(t.shape);
            const size = Number.isSafeInteger(n) && n >= 0 && n <= FITTING ? n * 4 : 16;
            const declared = size + sizeDelta;
            bytes += Math.max(0, Number.isSafeInteger(declared) ? declared : size);
            return { name: t.name, datatype: t.datatype, shape: t.shape, parameters: t.shm ?? { binary_data_size: declared } };
          }),
        };
        if (parameters !== undefined) header.parameters = parameters;
        if (outputs !== undefined) header.outputs = outputs;
        const json = enc.encode(JSON.stringify(header));
        const tail = Math.max(0, Math.min(4_000_000, bytes + tailDelta));
        const body = new Uint8Array(json.length + tail);
        body.set(json);
        // Small finite floats, or (now and then) NaNs and infinities among them.
        const view = new DataView(body.buffer, json.length, tail);
        for (let i = 0; i + 4 <= tail; i += 4) {
          view.setFloat32(i, nonFinite && i % 4096 === 8 ? NaN : nonFinite && i % 4096 === 16 ? -Infinity : ((i * 2654435761) % 1000) / 1000, true);
        }
        const length = headerLength === 'exact' ? String(json.length) : typeof headerLength === 'number' ? String(json.length + headerLength) : headerLength;
        return {
          kind: 'oip-binary' as const,
          method: 'POST',
          path: inferPath(model, version),
          headers: headers({ 'content-type': type ?? 'application/octet-stream', 'inference-header-content-length': length }),
          body,
        };
      }),
  );
}

export function oipGetCases(): fc.Arbitrary<FuzzCase> {
  return fc
    .record({
      model: modelName,
      version,
      tail: fc.constantFrom('', '/ready', '/infer', '/versions', '/x'),
      method: fc.constantFrom('GET', 'HEAD', 'POST', 'DELETE'),
    })
    .map(({ model, version, tail, method }) => ({
      kind: 'oip-get' as const,
      method,
      path: `/v2/models/${model}${version === undefined ? '' : `/versions/${version}`}${tail}`,
      headers: {},
    }));
}
