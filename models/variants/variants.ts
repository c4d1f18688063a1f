/**
 * The variants the repository carries beside each published fp32 model. Each variant is its own model name
 * (Triton-style: one directory per name, numbered versions inside), so servers, the model store and the Open
 * Inference Protocol address it like any other model; `variant` and `derivation` in the manifest say what it is.
 */
import type { ManifestModel, ModelDerivation } from '../../core/models/manifest';
import { decodeModel, encodeModel } from './onnx-graph';
import { foldBatchNorm } from './fold-batchnorm';
import { quantizeWeightsInt8 } from './int8-weights';
import { convertToFloat16 } from './fp16';
import { upgradeToOpset13 } from './opset13';
import { activationRanges } from './activation-ranges';
import { activationsToCalibrate, quantizeStatic } from './qdq';
import { CALIBRATION_DESCRIPTION, calibrationFeeds, type CalibrationRole } from './calibration-set';
import { COMPACT_REC_IO, compactRecogniser } from './compact-rec';

export interface VariantSpec {
  name: string;
  base: string;
  variant: Exclude<ManifestModel['variant'], 'fp32'>;
  /** True when the build looks at calibration inputs (then their generator is part of the variant's fingerprint). */
  calibrated?: boolean;
  /** `entry` is the base model's manifest entry (its preprocessing, for variants that take it into the graph). */
  build(base: Uint8Array, entry?: ManifestModel): Promise<{ bytes: Uint8Array; derivation: Omit<ModelDerivation, 'from'> }>;
}

/**
 * Weights kept in float by the weight-only int8 variants: the layers whose quantisation alone moved the output most
 * on the calibration pages (`npx tsx models/variants/sensitivity.ts det|rec`). Together they are < 1 % of the weights.
 */
const INT8W_KEEP_FLOAT: Record<string, string[]> = {
  'ppocr-det': ['conv2d_399.w_0', 'conv2d_403.w_0'],
  'ppocr-rec': ['conv2d_157.w_0'],
  'ppocr-cls': [],
};

function int8Weights(base: string): VariantSpec {
  const keep = INT8W_KEEP_FLOAT[base] ?? [];
  return {
    name: `${base}-int8w`,
    base,
    variant: 'int8-weights',
    async build(bytes) {
      const folded = foldBatchNorm(decodeModel(bytes));
      const { model, report } = quantizeWeightsInt8(folded.model, { keep });
      return {
        bytes: encodeModel(model),
        derivation: {
          method: 'weight-only-int8',
          tool: 'models/variants/int8-weights.ts',
          params: {
            ops: ['Conv', 'ConvTranspose', 'MatMul'],
            scheme: 'int8 symmetric [-127, 127], one float32 scale per output channel (Conv axis 0, ConvTranspose axis 1, MatMul last axis)',
            graph: 'int8 Constant → Cast(float) → Mul(scale); folded to float weights when a session loads',
            batchNormFolded: folded.folded,
            tensorsQuantized: report.tensors,
            keptFloat: keep,
            keptFloatReason: 'largest output change when quantised alone (models/variants/sensitivity.ts)',
          },
        },
      };
    },
  };
}

function float16(base: string): VariantSpec {
  return {
    name: `${base}-fp16`,
    base,
    variant: 'fp16',
    async build(bytes) {
      const folded = foldBatchNorm(decodeModel(bytes));
      const { model, report } = convertToFloat16(folded.model);
      return {
        bytes: encodeModel(model),
        derivation: {
          method: 'float16',
          tool: 'models/variants/fp16.ts',
          params: {
            weights: 'float16 (round to nearest even)',
            io: 'float32 graph inputs/outputs, Cast at the boundary',
            batchNormFolded: folded.folded,
            castsInserted: report.castsInserted,
          },
        },
      };
    },
  };
}

/**
 * Layers the static int8 variants keep in float (`npx tsx models/variants/sensitivity.ts det|rec --qdq`): the stem
 * and the first backbone stages (16–64 channels at high resolution), where quantising any one layer alone moved
 * the output most, and for the recogniser two layers of its last stage. With every Conv quantised the recogniser
 * dropped spaces between words on generated lines.
 */
const INT8_KEEP_FLOAT: Record<string, string[]> = {
  'ppocr-det': ['conv2d_0.w_0_bn_folded', ...[394, 395, 396, 397, 398, 399, 400, 401].map((n) => `conv2d_${n}.w_0`)],
  'ppocr-rec': ['conv2d_10.w_0_bn_folded', ...[157, 158, 159, 160, 161, 162, 163, 180, 181].map((n) => `conv2d_${n}.w_0`)],
  'ppocr-cls': [],
};

const ROLE_OF: Record<string, CalibrationRole> = { 'ppocr-det': 'det', 'ppocr-rec': 'rec', 'ppocr-cls': 'cls' };

function staticInt8(base: string): VariantSpec {
  const keepFloat = INT8_KEEP_FLOAT[base] ?? [];
  return {
    name: `${base}-int8`,
    base,
    variant: 'int8',
    calibrated: true,
    async build(bytes) {
      const folded = foldBatchNorm(decodeModel(bytes));
      const raised = upgradeToOpset13(folded.model);
      const ranges = await activationRanges(raised.model, await calibrationFeeds(ROLE_OF[base]), {
        tensors: activationsToCalibrate(raised.model, { keepFloat }),
      });
      const { model, report } = quantizeStatic(raised.model, ranges, { keepFloat });
      return {
        bytes: encodeModel(model),
        derivation: {
          method: 'static-qdq-int8',
          tool: 'models/variants/qdq.ts',
          params: {
            opset: { from: raised.report.from, to: 13, rewritten: raised.report.rewritten },
            ops: ['Conv', 'MatMul'],
            activations: 'uint8 asymmetric, one scale and zero point per tensor, on the inputs and outputs of quantised ops',
            weights: 'int8 symmetric, one scale per output channel (DequantizeLinear axis)',
            bias: 'int32, scale = input scale × weight scale',
            batchNormFolded: folded.folded,
            opsQuantized: report.nodes,
            activationsQuantized: report.activations,
            keptFloat: keepFloat,
          },
          calibration: {
            method: 'min/max of each activation over all calibration inputs, one sample at a time (onnxruntime-node, graph optimisation off)',
            data: { role: ROLE_OF[base], ...CALIBRATION_DESCRIPTION },
          },
        },
      };
    },
  };
}

/**
 * The recogniser for crossing the network: 8-bit YCbCr 4:2:0 crops in, packed CTC steps out (compact-rec.ts). Split
 * recognition uploads 1.5 bytes per pixel instead of 12 and gets 480 bytes back per line instead of about 1 MB.
 */
function compactRec(base: string): VariantSpec {
  return {
    name: `${base}-compact`,
    base,
    variant: 'compact',
    async build(bytes, entry) {
      const pre = entry?.preprocess;
      if (!pre || pre.kind !== 'rec') throw new Error(`${base}-compact needs the recogniser's preprocessing from its manifest entry`);
      const { model, report } = compactRecogniser(decodeModel(bytes), pre);
      return {
        bytes: encodeModel(model),
        derivation: {
          method: 'compact-io',
          tool: 'models/variants/compact-rec.ts',
          params: {
            inputs: `${COMPACT_REC_IO.luma} uint8 [N,1,H,W] and ${COMPACT_REC_IO.chroma} uint8 [N,2,H/2,W/2]: full-range BT.601 YCbCr 4:2:0 (core/ocr/compact-crops.ts)`,
            inGraph: 'Cast, Upsample(nearest ×2) of chroma, Concat, 1×1 Conv = YCbCr→RGB in the model channel order and (p/255 − mean)/std',
            normalisation: { channels: pre.channels, mean: pre.mean, std: pre.std },
            output: `${COMPACT_REC_IO.steps} float32 [N,T,3]: ArgMax (as float), ReduceMax and the space class's probability over the class axis (core/ocr unpackCtcSteps)`,
            classes: report.classes,
            spaceIndex: report.spaceIndex,
          },
        },
      };
    },
  };
}

export const VARIANTS: VariantSpec[] = [
  ...['ppocr-det', 'ppocr-rec', 'ppocr-cls'].map(int8Weights),
  ...['ppocr-det', 'ppocr-rec', 'ppocr-cls'].map(float16),
  // The classifier too, so a client can run every stage in one variant.
  ...['ppocr-det', 'ppocr-rec', 'ppocr-cls'].map(staticInt8),
  compactRec('ppocr-rec'),
];
