/**
 * Per-layer sensitivity of a quantisation: quantise one layer at a time and measure how far the model's output
 * moves on the calibration inputs. Used offline to choose which layers a variant keeps in float; the choice is
 * written into the variant spec and its manifest derivation.
 *
 *   npx tsx models/variants/sensitivity.ts det|rec|cls [top=10]          weight-only int8
 *   npx tsx models/variants/sensitivity.ts det|rec --qdq [top=10]        static QDQ int8 (weights and activations)
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import { constantsOf, decodeModel, dimsOf, encodeModel, graphOf, type ModelProto } from './onnx-graph';
import { quantizableWeights, quantizeWeightsInt8 } from './int8-weights';
import { foldBatchNorm } from './fold-batchnorm';
import { upgradeToOpset13 } from './opset13';
import { activationRanges } from './activation-ranges';
import { activationsToCalibrate, quantizeStatic } from './qdq';
import { calibrationFeeds, type Feed } from './calibration-set';
import { REPOSITORY_DIR } from '../build/build-repository';

export interface Sensitivity {
  name: string;
  dims: number[];
  /** Mean |Δ| of the first output over all inputs when only this tensor is int8. */
  meanAbsDiff: number;
  maxAbsDiff: number;
}

async function firstOutput(bytes: Uint8Array, feeds: Feed[]): Promise<Float32Array[]> {
  const session = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 1, graphOptimizationLevel: 'all' });
  const outs: Float32Array[] = [];
  for (const feed of feeds) {
    const result = await session.run({ [session.inputNames[0]]: new ort.Tensor('float32', feed.data, feed.dims) });
    outs.push(result[session.outputNames[0]].data as Float32Array);
  }
  await session.release();
  return outs;
}

/** Quantises `model` keeping the listed weights' layers in float. */
export type Quantizer = (model: ModelProto, keep: string[]) => ModelProto;

export const weightOnlyInt8: Quantizer = (model, keep) => quantizeWeightsInt8(model, { keep }).model;

/** Static QDQ with ranges taken once over `feeds` (model must be at opset 13). */
export async function staticQdq(model: ModelProto, feeds: Feed[]): Promise<Quantizer> {
  const ranges = await activationRanges(model, feeds, { tensors: activationsToCalibrate(model) });
  return (m, keep) => quantizeStatic(m, ranges, { keepFloat: keep }).model;
}

export async function weightSensitivity(model: ModelProto, feeds: Feed[], quantize: Quantizer = weightOnlyInt8): Promise<Sensitivity[]> {
  const reference = await firstOutput(encodeModel(model), feeds);
  const weights = [...quantizableWeights(model).keys()];
  const constants = constantsOf(graphOf(model));
  const ranking: Sensitivity[] = [];
  for (const name of weights) {
    const q = quantize(
      model,
      weights.filter((n) => n !== name),
    );
    const outs = await firstOutput(encodeModel(q), feeds);
    let sum = 0,
      count = 0,
      max = 0;
    outs.forEach((o, k) => {
      for (let i = 0; i < o.length; i++) {
        const d = Math.abs(o[i] - reference[k][i]);
        sum += d;
        if (d > max) max = d;
      }
      count += o.length;
    });
    ranking.push({ name, dims: dimsOf(constants.get(name)!.tensor), meanAbsDiff: sum / count, maxAbsDiff: max });
  }
  return ranking.sort((a, b) => b.meanAbsDiff - a.meanAbsDiff);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const role = args[0] as 'det' | 'rec' | 'cls';
  const qdq = args.includes('--qdq');
  if (!['det', 'rec', 'cls'].includes(role)) throw new Error('usage: sensitivity.ts det|rec|cls [--qdq] [top]');
  const top = Number(args.filter((a) => !a.startsWith('--'))[1] ?? 10);
  const bytes = readFileSync(resolve(REPOSITORY_DIR, `ppocr-${role}`, '1', 'model.onnx'));
  const folded = foldBatchNorm(decodeModel(bytes)).model;
  const feeds = await calibrationFeeds(role);
  const model = qdq ? upgradeToOpset13(folded).model : folded;
  const ranking = await weightSensitivity(model, qdq ? feeds : feeds.slice(0, 2), qdq ? await staticQdq(model, feeds) : weightOnlyInt8);
  for (const s of ranking.slice(0, top)) {
    console.log(`${s.name.padEnd(40)} ${s.dims.join('x').padEnd(14)} mean ${s.meanAbsDiff.toExponential(2)} max ${s.maxAbsDiff.toFixed(3)}`);
  }
}
