import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { pipelineConfigFromManifest, detTensor } from '../../core/ocr';
import { renderTextImage } from '../../test-support/text-image';
import { loadDictionary, loadManifest, REPOSITORY_DIR } from '../../test-support/ort-node-infer';
import { constantNode, decodeModel, encodeModel, float32Tensor, graphOf, type ModelProto } from './onnx-graph';
import { DET_CUT_POINTS, boundaryAtSizes, splitModel } from './split';
import { modelBytes, pseudoRandom } from './tiny-graphs';
import { maxAbsDiff, openSession, runAll, runFirst, type OptimizationLevel } from './compare';
import type { Feed } from './calibration-set';

/** x → a = x·2 → b = relu(a) → c = b + k → y = c · a (a skips over b and c, like a pyramid's lateral link). */
function skipModel(): Uint8Array {
  return modelBytes(
    [
      constantNode('two', float32Tensor([], Float32Array.of(2))),
      { opType: 'Mul', name: 'm', input: ['x', 'two'], output: ['a'] },
      { opType: 'Relu', name: 'r', input: ['a'], output: ['b'] },
      constantNode('k', float32Tensor([4], pseudoRandom(4, 3))),
      { opType: 'Add', name: 'p', input: ['b', 'k'], output: ['c'] },
      { opType: 'Mul', name: 'q', input: ['c', 'a'], output: ['d'] },
      { opType: 'Mul', name: 'z', input: ['d', 'two'], output: ['y'] },
    ],
    [['x', ['N', 4]]],
    [['y', ['N', 4]]],
  );
}

async function composed(split: ReturnType<typeof splitModel>, feed: Feed, level: OptimizationLevel): Promise<Float32Array> {
  const head = await openSession(encodeModel(split.head), level);
  const tail = await openSession(encodeModel(split.tail), level);
  const mid = await runAll(head, { [head.inputNames[0]]: feed });
  const direct = Object.fromEntries(split.tailGraphInputs.map((n) => [n, feed]));
  const out = await runAll(tail, { ...mid, ...direct });
  return out[tail.outputNames[0]].data;
}

describe('model split', () => {
  it('finds every tensor that crosses the cut and copies shared constants into both parts', async () => {
    const model = decodeModel(skipModel());
    const split = splitModel(model, ['b']);
    expect(split.boundary.map((b) => b.name)).toEqual(['b', 'a']);
    const nodes = (m: ModelProto) => graphOf(m).node.map((n) => n.output![0]);
    expect(nodes(split.head)).toEqual(['two', 'a', 'b']);
    expect(nodes(split.tail)).toEqual(['two', 'k', 'c', 'd', 'y']);
    // Boundary I/O carries an element type and no shape field (an empty shape would declare a scalar).
    for (const v of [...graphOf(split.head).output!, ...graphOf(split.tail).input!]) {
      expect(v.type!.tensorType!.elemType).toBe(1);
      expect(v.type!.tensorType!.shape).toBeFalsy();
    }
    const feed = { data: pseudoRandom(8, 5), dims: [2, 4] };
    const whole = await runFirst(await openSession(skipModel()), feed);
    expect(maxAbsDiff(whole.data, await composed(split, feed, 'all'))).toBe(0);
  });

  it('refuses cuts that are not computed tensors or leave the tail nothing', () => {
    const model = decodeModel(skipModel());
    expect(() => splitModel(model, ['nope'])).toThrow(/not written by any node/);
    expect(() => splitModel(model, ['k'])).toThrow(/constant/);
    expect(() => splitModel(model, ['y'])).toThrow(/nothing for the tail/);
    expect(() => splitModel(model, [])).toThrow(expect.objectContaining({ name: 'SplitBadCut' }));
  });
});

describe('detector split at its named cut points (onnxruntime-node)', () => {
  let full: Uint8Array;
  let feed: Feed;
  beforeAll(async () => {
    const manifest = loadManifest();
    const config = pipelineConfigFromManifest(manifest, loadDictionary(manifest, 'ppocr-rec'));
    full = readFileSync(join(REPOSITORY_DIR, 'ppocr-det', '1', 'model.onnx'));
    const page = await renderTextImage({ lines: ['Split inference 2026', 'head on the phone, tail on the edge'], width: 640, height: 300 });
    feed = detTensor(page.rgba, config.det, 640).tensor;
  });

  it('head∘tail equals the full model on a real page', async () => {
    // Compared at the "extended" level, where the parts run the same kernels in the same order as the whole model
    // (difference 0). "all" adds the NCHWc layout transform: its blocked kernels and layout reorders are placed
    // differently when the graph ends or starts at a cut, which moves the output by 1e-5–6e-5 at 640–960 px.
    const reference = (await runFirst(await openSession(full, 'extended'), feed)).data;
    for (const [name, point] of Object.entries(DET_CUT_POINTS)) {
      const split = splitModel(decodeModel(full), point.tensors);
      const diff = maxAbsDiff(reference, await composed(split, feed, 'extended'));
      expect(diff, name).toBeLessThanOrEqual(1e-4);
    }
  });

  it('records boundary shapes and bytes per input size', async () => {
    const split = splitModel(decodeModel(full), DET_CUT_POINTS.backbone.tensors);
    const [at320] = await boundaryAtSizes(encodeModel(split.head), split.boundary, [[320, 320]]);
    expect(at320.tensors.map((t) => t.dims)).toEqual([
      [1, 48, 80, 80],
      [1, 96, 40, 40],
      [1, 192, 20, 20],
      [1, 384, 10, 10],
    ]);
    expect(at320.bytes).toBe(4 * (48 * 80 * 80 + 96 * 40 * 40 + 192 * 20 * 20 + 384 * 10 * 10));
  });
});
