/**
 * The recogniser with small tensors at both ends, for running where its input and output cross the network or a
 * thread:
 *
 * - **In:** 8-bit YCbCr 4:2:0 crops (JPEG's full-range BT.601): luma `y` [N, 1, H, W] and chroma `cbcr`
 *   [N, 2, H/2, W/2], 1.5 bytes per pixel against 12 for the float32 RGB tensor. The graph widens the chroma back
 *   (nearest), turns YCbCr into the model's channel order and normalises ((p/255 − mean) / std) in one 1×1 Conv, so
 *   the rest of the recogniser sees the tensor it was trained on, up to 8-bit rounding and halved chroma.
 * - **Out:** per CTC step the best class (as a float: exact below 2^24), its probability and the space class's
 *   probability, [N, T, 3]: what core/ocr's greedy decoder reads (`PACKED_STEP_VALUES`, `unpackCtcSteps`), 480 bytes
 *   per 40-step line against T × C floats (about 1 MB). ArgMax takes the first of equal maxima, as the decoder does.
 */
import {
  DT,
  cloneModel,
  constantNode,
  float32Tensor,
  graphOf,
  int64Tensor,
  intAttr,
  intsAttr,
  nameAllocator,
  valueInfo,
  num,
  type ModelProto,
  type NodeProto,
} from './onnx-graph';

/** Normalisation and channel order of the recogniser's float input (the manifest's `preprocess`). */
export interface RecInputSpec {
  channels: 'RGB' | 'BGR';
  mean: readonly number[];
  std: readonly number[];
}

export const COMPACT_REC_IO = { luma: 'y', chroma: 'cbcr', steps: 'ctc_steps' } as const;

/** Full-range BT.601 (JPEG): R, G, B = Y + a·(Cb − 128) + b·(Cr − 128), rows R, G, B; columns Cb, Cr. */
export const YCBCR_TO_RGB: readonly (readonly [number, number])[] = [
  [0, 1.402],
  [-0.344136, -0.714136],
  [1.772, 0],
];

export interface CompactRecReport {
  classes: number;
  spaceIndex: number;
}

/**
 * Rewrites a recogniser with one float32 [N, 3, H, W] input and one [N, T, C] probability output. The space class is
 * the last (core/ocr config: blank, dictionary lines, space).
 */
export function compactRecogniser(source: ModelProto, spec: RecInputSpec): { model: ModelProto; report: CompactRecReport } {
  const model = cloneModel(source);
  const graph = graphOf(model);
  const [input] = graph.input ?? [];
  const [output] = graph.output ?? [];
  if (graph.input?.length !== 1 || graph.output?.length !== 1 || !input?.name || !output?.name) {
    throw new Error('compactRecogniser expects one input and one output');
  }
  const inDims = input.type?.tensorType?.shape?.dim ?? [];
  const outDims = output.type?.tensorType?.shape?.dim ?? [];
  const height = num(inDims[2]?.dimValue);
  const classes = num(outDims[2]?.dimValue);
  if (inDims.length !== 4 || num(inDims[1]?.dimValue) !== 3 || !(height > 0) || height % 2) {
    throw new Error('compactRecogniser expects a [N, 3, H, W] input with a fixed, even H');
  }
  if (outDims.length !== 3 || !(classes > 1)) throw new Error('compactRecogniser expects a [N, T, C] output with a fixed C');
  const fresh = nameAllocator(graph);
  const x = input.name;
  const probs = output.name;

  // RGB rows in the model's channel order, each scaled and shifted by the normalisation.
  const order = spec.channels === 'BGR' ? [2, 1, 0] : [0, 1, 2];
  const weights = new Float32Array(9);
  const bias = new Float32Array(3);
  order.forEach((rgb, k) => {
    const scale = 1 / (255 * spec.std[k]);
    const [a, b] = YCBCR_TO_RGB[rgb];
    weights.set([scale, a * scale, b * scale], k * 3);
    bias[k] = -128 * (a + b) * scale - spec.mean[k] / spec.std[k];
  });
  const n = {
    lumaF: fresh('compact_luma_f'),
    chromaF: fresh('compact_chroma_f'),
    chromaUp: fresh('compact_chroma_up'),
    scales: fresh('compact_chroma_scales'),
    ycc: fresh('compact_ycbcr'),
    w: fresh('compact_to_rgb_w'),
    b: fresh('compact_to_rgb_b'),
    best: fresh('compact_best'),
    bestF: fresh('compact_best_f'),
    bestP: fresh('compact_best_p'),
    spaceAt: fresh('compact_space_at'),
    spaceP: fresh('compact_space_p'),
  };
  const head: NodeProto[] = [
    { opType: 'Cast', name: n.lumaF, input: [COMPACT_REC_IO.luma], output: [n.lumaF], attribute: [intAttr('to', DT.FLOAT)] },
    { opType: 'Cast', name: n.chromaF, input: [COMPACT_REC_IO.chroma], output: [n.chromaF], attribute: [intAttr('to', DT.FLOAT)] },
    constantNode(n.scales, float32Tensor([4], Float32Array.of(1, 1, 2, 2))),
    // Upsample (opset 9) rather than Resize: the published recogniser is opset 9.
    {
      opType: 'Upsample',
      name: n.chromaUp,
      input: [n.chromaF, n.scales],
      output: [n.chromaUp],
      attribute: [{ name: 'mode', type: 3, s: new TextEncoder().encode('nearest') }],
    },
    { opType: 'Concat', name: n.ycc, input: [n.lumaF, n.chromaUp], output: [n.ycc], attribute: [intAttr('axis', 1)] },
    constantNode(n.w, float32Tensor([3, 3, 1, 1], weights)),
    constantNode(n.b, float32Tensor([3], bias)),
    { opType: 'Conv', name: x, input: [n.ycc, n.w, n.b], output: [x], attribute: [intsAttr('kernel_shape', [1, 1])] },
  ];
  const tail: NodeProto[] = [
    { opType: 'ArgMax', name: n.best, input: [probs], output: [n.best], attribute: [intAttr('axis', 2), intAttr('keepdims', 1)] },
    { opType: 'Cast', name: n.bestF, input: [n.best], output: [n.bestF], attribute: [intAttr('to', DT.FLOAT)] },
    { opType: 'ReduceMax', name: n.bestP, input: [probs], output: [n.bestP], attribute: [intsAttr('axes', [2]), intAttr('keepdims', 1)] },
    constantNode(n.spaceAt, int64Tensor([1], [classes - 1])),
    { opType: 'Gather', name: n.spaceP, input: [probs, n.spaceAt], output: [n.spaceP], attribute: [intAttr('axis', 2)] },
    { opType: 'Concat', name: COMPACT_REC_IO.steps, input: [n.bestF, n.bestP, n.spaceP], output: [COMPACT_REC_IO.steps], attribute: [intAttr('axis', 2)] },
  ];
  graph.node = [...head, ...graph.node, ...tail];
  const batch = inDims[0]?.dimParam || 'N';
  const width = inDims[3]?.dimParam || 'W';
  graph.input = [
    valueInfo(COMPACT_REC_IO.luma, DT.UINT8, [batch, 1, height, width]),
    valueInfo(COMPACT_REC_IO.chroma, DT.UINT8, [batch, 2, height / 2, `${width}_half`]),
  ];
  graph.output = [valueInfo(COMPACT_REC_IO.steps, DT.FLOAT, [outDims[0]?.dimParam || 'N', outDims[1]?.dimParam || 'T', 3])];
  graph.valueInfo = (graph.valueInfo ?? []).filter((v) => v.name !== x);
  return { model, report: { classes, spaceIndex: classes - 1 } };
}
