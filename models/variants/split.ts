/**
 * Cuts a model into a head and a tail at chosen intermediate tensors, for running the first part on one machine and
 * the rest on another. The head is everything the chosen tensors depend on; the boundary is every tensor that
 * crosses from head to tail (the chosen ones plus, e.g., a feature pyramid's skip connections). Constants go with
 * the part that reads them (copied when both do). Boundary tensors become head outputs and tail inputs typed by
 * element type only: no `shape` field, because an empty shape would declare a scalar.
 *
 *   npx tsx models/variants/split.ts <model.onnx> <out-dir> <tensor>[,<tensor>...] [sizes=320,640,960]
 *   npx tsx models/variants/split.ts --det-points   (the detector's named cut points → det-split-points.json)
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DT, cloneModel, decodeModel, encodeModel, graphOf, inferElemTypes, producersOf, valueInfo, type ModelProto, type NodeProto } from './onnx-graph';

export interface BoundaryTensor {
  name: string;
  elemType: number;
}

export interface SplitModel {
  head: ModelProto;
  tail: ModelProto;
  /** Every tensor computed by the head and read by the tail: head outputs = tail inputs, in this order. */
  boundary: BoundaryTensor[];
  /** Original graph inputs the tail reads as well (fed to it directly). */
  tailGraphInputs: string[];
  headNodes: number;
  tailNodes: number;
}

function splitError(message: string): Error {
  const err = new Error(message);
  err.name = 'SplitBadCut';
  return err;
}

export function splitModel(source: ModelProto, cut: string[]): SplitModel {
  if (!cut.length) throw splitError('Name at least one tensor to cut at.');
  const graph = graphOf(source);
  const producers = producersOf(graph);
  const graphInputs = new Set((graph.input ?? []).map((v) => v.name ?? ''));
  const graphOutputs = (graph.output ?? []).map((v) => v.name ?? '');
  for (const t of cut) {
    if (!producers.has(t)) throw splitError(`Tensor "${t}" is not written by any node of the graph; pick a node output.`);
    if (producers.get(t)!.opType === 'Constant') throw splitError(`Tensor "${t}" is a constant; cut at a computed tensor.`);
  }

  // Head = the nodes the cut tensors depend on.
  const head = new Set<NodeProto>();
  const stack = [...cut];
  while (stack.length) {
    const node = producers.get(stack.pop()!);
    if (!node || head.has(node)) continue;
    head.add(node);
    for (const i of node.input ?? []) if (i) stack.push(i);
  }
  const isConstant = (n: NodeProto) => n.opType === 'Constant';
  const tailNodes = graph.node.filter((n) => !head.has(n) && !isConstant(n));
  if (!tailNodes.length) throw splitError('The cut leaves nothing for the tail; cut earlier.');
  const headOutputs = new Set<string>();
  for (const n of head) if (!isConstant(n)) for (const o of n.output ?? []) headOutputs.add(o);
  for (const o of graphOutputs) {
    if (headOutputs.has(o)) throw splitError(`The model output "${o}" is computed in the head; cut before it.`);
  }

  // Boundary: head-computed tensors the tail reads, in the order the tail first reads them.
  const types = inferElemTypes(graph);
  const boundary: BoundaryTensor[] = [];
  const tailGraphInputs: string[] = [];
  const seen = new Set<string>();
  for (const n of tailNodes) {
    for (const i of n.input ?? []) {
      if (!i || seen.has(i)) continue;
      seen.add(i);
      if (headOutputs.has(i)) boundary.push({ name: i, elemType: types.get(i) ?? DT.FLOAT });
      else if (graphInputs.has(i)) tailGraphInputs.push(i);
    }
  }

  // Constants: each part gets the ones its nodes read. Parts are filtered copies of the whole model.
  const readBy = (nodes: NodeProto[]) => new Set(nodes.flatMap((n) => n.input ?? []));
  const headCompute = graph.node.filter((n) => head.has(n) && !isConstant(n));
  const headReads = readBy(headCompute);
  const keepInHead = graph.node.map((n) => (isConstant(n) ? headReads.has(n.output?.[0] ?? '') : head.has(n)));
  const tailReads = readBy(tailNodes);
  const keepInTail = graph.node.map((n) => (isConstant(n) ? tailReads.has(n.output?.[0] ?? '') : !head.has(n)));

  const headModel = cloneModel(source);
  const hg = graphOf(headModel);
  hg.name = `${graph.name ?? 'graph'}_head`;
  hg.node = hg.node.filter((_, i) => keepInHead[i]);
  hg.output = boundary.map((b) => valueInfo(b.name, b.elemType));
  hg.valueInfo = [];

  const tailModel = cloneModel(source);
  const tg = graphOf(tailModel);
  tg.name = `${graph.name ?? 'graph'}_tail`;
  tg.node = tg.node.filter((_, i) => keepInTail[i]);
  tg.input = [...(graph.input ?? []).filter((v) => tailGraphInputs.includes(v.name ?? '')), ...boundary.map((b) => valueInfo(b.name, b.elemType))];
  tg.valueInfo = [];

  return { head: headModel, tail: tailModel, boundary, tailGraphInputs, headNodes: headCompute.length, tailNodes: tailNodes.length };
}

/**
 * Where the PP-OCRv4 detector can be cut (tensor names hold for the fp32 model and its BN-folded variants).
 * Channels × stride at the boundary decide the transfer: the input itself is 3 float32 per pixel.
 */
export const DET_CUT_POINTS: Record<string, { tensors: string[]; what: string }> = {
  stage2: {
    tensors: ['p2o.Add.43'],
    what: 'after backbone stage 2: one 48-channel map at 1/4 scale (3 floats per input pixel, as many as the input)',
  },
  backbone: {
    tensors: ['p2o.Add.215'],
    what: 'after the whole backbone: the four pyramid levels (48@1/4, 96@1/8, 192@1/16, 384@1/32) cross',
  },
  neck: {
    tensors: ['batch_norm_0.tmp_4'],
    what: 'after the feature pyramid and the first head conv (+BN+ReLU): one 24-channel map at 1/4 scale (half the input)',
  },
};

export interface BoundaryAtSize {
  input: [number, number];
  tensors: { name: string; dims: number[]; bytes: number }[];
  bytes: number;
}

const BYTES_PER_ELEMENT: Record<number, number> = { [DT.FLOAT]: 4, [DT.FLOAT16]: 2, [DT.INT8]: 1, [DT.UINT8]: 1, [DT.INT64]: 8, [DT.INT32]: 4 };

/** Runs the head at each input size (square, NCHW, batch 1) and records the boundary tensors' shapes and sizes. */
export async function boundaryAtSizes(head: Uint8Array, boundary: BoundaryTensor[], sizes: [number, number][]): Promise<BoundaryAtSize[]> {
  const ort = await import('onnxruntime-node');
  const session = await ort.InferenceSession.create(head, { intraOpNumThreads: 1, graphOptimizationLevel: 'all' });
  const out: BoundaryAtSize[] = [];
  try {
    for (const [h, w] of sizes) {
      const x = new ort.Tensor('float32', new Float32Array(3 * h * w), [1, 3, h, w]);
      const result = await session.run({ [session.inputNames[0]]: x });
      const tensors = boundary.map((b) => {
        const dims = [...result[b.name].dims];
        return { name: b.name, dims, bytes: dims.reduce((a, c) => a * c, 1) * (BYTES_PER_ELEMENT[b.elemType] ?? 4) };
      });
      out.push({ input: [h, w], tensors, bytes: tensors.reduce((a, t) => a + t.bytes, 0) });
    }
  } finally {
    await session.release();
  }
  return out;
}

export interface CutPointReport {
  name: string;
  what: string;
  cut: string[];
  boundary: string[];
  headNodes: number;
  tailNodes: number;
  headBytes: number;
  tailBytes: number;
  atSizes: BoundaryAtSize[];
}

/** Splits `model` at each named cut point and records boundary shapes and bytes per (square) input size. */
export async function describeCutPoints(model: ModelProto, points: typeof DET_CUT_POINTS, sizes: number[]): Promise<CutPointReport[]> {
  const reports: CutPointReport[] = [];
  for (const [name, point] of Object.entries(points)) {
    const split = splitModel(model, point.tensors);
    const head = encodeModel(split.head);
    reports.push({
      name,
      what: point.what,
      cut: point.tensors,
      boundary: split.boundary.map((b) => b.name),
      headNodes: split.headNodes,
      tailNodes: split.tailNodes,
      headBytes: head.byteLength,
      tailBytes: encodeModel(split.tail).byteLength,
      atSizes: await boundaryAtSizes(
        head,
        split.boundary,
        sizes.map((s) => [s, s]),
      ),
    });
  }
  return reports;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  if (args[0] === '--det-points') {
    // The detector's cut points as data: models/variants/det-split-points.json (shapes are exact, not measured noise).
    const here = dirname(fileURLToPath(import.meta.url));
    const model = decodeModel(readFileSync(join(here, '..', 'repository', 'ppocr-det', '1', 'model.onnx')));
    const points = await describeCutPoints(model, DET_CUT_POINTS, [320, 640, 960]);
    const out = { model: 'ppocr-det/1', inputBytesPerPixel: 12, points };
    writeFileSync(join(here, 'det-split-points.json'), JSON.stringify(out, null, 1) + '\n');
    for (const p of points)
      console.log(p.name.padEnd(9), p.boundary.length, 'tensors', p.atSizes.map((s) => `${s.input[0]}: ${(s.bytes / 1e6).toFixed(2)} MB`).join(', '));
  } else {
    const [modelPath, outDir, cutArg, sizesArg] = args;
    if (!modelPath || !outDir || !cutArg) {
      console.error('usage: split.ts <model.onnx> <out-dir> <tensor>[,<tensor>...] [sizes=320,640,960] | split.ts --det-points');
      process.exit(2);
    }
    const cut = cutArg.split(',');
    const split = splitModel(decodeModel(readFileSync(modelPath)), cut);
    mkdirSync(outDir, { recursive: true });
    const headBytes = encodeModel(split.head);
    writeFileSync(join(outDir, 'head.onnx'), headBytes);
    writeFileSync(join(outDir, 'tail.onnx'), encodeModel(split.tail));
    const sizes = (sizesArg ?? '320,640,960').split(',').map((s) => [Number(s), Number(s)] as [number, number]);
    const report = { cut, boundary: split.boundary, tailGraphInputs: split.tailGraphInputs, atSizes: await boundaryAtSizes(headBytes, split.boundary, sizes) };
    writeFileSync(join(outDir, 'split.json'), JSON.stringify(report, null, 2) + '\n');
    console.log(`head.onnx, tail.onnx, split.json in ${outDir}; boundary: ${split.boundary.map((b) => b.name).join(', ')}`);
  }
}
