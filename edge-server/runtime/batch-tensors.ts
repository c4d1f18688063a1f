/**
 * Joining the inputs of several callers into one batch tensor and splitting the outputs back, along the first axis.
 * Pure (typed arrays only), so the worker thread does the copying and the HTTP thread never does.
 */
import { PACKED_STEP_VALUES, packCtcSteps } from '../../core/ocr/ctc-decode';
import { COMPACT_PAD } from '../../core/ocr/compact-crops';
import type { OutputReduction, RuntimeTensor, TensorMap } from './messages';

type Data = RuntimeTensor['data'];

/**
 * Concatenates `parts` along axis 0. All dims after the first must agree, except the last when `padLastAxis`:
 * then every part is padded on the right to the widest, float crops with zeros (normalised grey) and 8-bit crops
 * with mid-grey 128, as the pipeline pads its own batches (core/ocr/compact-crops).
 */
export function joinBatch(parts: RuntimeTensor[], padLastAxis = false): RuntimeTensor {
  if (parts.length === 1) return parts[0];
  const first = parts[0];
  const rank = first.dims.length;
  const width = padLastAxis ? Math.max(...parts.map((p) => p.dims[rank - 1])) : first.dims[rank - 1];
  for (const p of parts) {
    const same =
      p.datatype === first.datatype && p.dims.length === rank && p.dims.every((d, i) => i === 0 || d === first.dims[i] || (padLastAxis && i === rank - 1));
    if (!same) throw new RangeError(`batch parts differ: [${p.dims}] ${p.datatype} vs [${first.dims}] ${first.datatype}`);
  }
  const rows = parts.reduce((s, p) => s + p.dims[0], 0);
  const dims = [rows, ...first.dims.slice(1, rank - 1), width];
  const Ctor = first.data.constructor as new (n: number) => Data;
  const out = new Ctor(dims.reduce((a, b) => a * b, 1));
  if (padLastAxis && first.datatype === 'UINT8') (out as Uint8Array).fill(COMPACT_PAD);
  let offset = 0;
  for (const p of parts) {
    const w = p.dims[rank - 1];
    if (w === width) {
      (out as Float32Array).set(p.data as Float32Array, offset);
      offset += p.data.length;
      continue;
    }
    const lines = p.data.length / w;
    for (let l = 0; l < lines; l++) {
      (out as Float32Array).set((p.data as Float32Array).subarray(l * w, (l + 1) * w), offset + l * width);
    }
    offset += lines * width;
  }
  return { datatype: first.datatype, dims, data: out };
}

/** Splits every output along axis 0 into consecutive blocks of `rows[i]` rows (copies, so each can be transferred). */
export function splitBatch(outputs: TensorMap, rows: number[]): TensorMap[] {
  if (rows.length === 1) return [outputs];
  const parts: TensorMap[] = rows.map(() => ({}));
  for (const [name, t] of Object.entries(outputs)) {
    const total = t.dims[0];
    const per = total === 0 ? 0 : t.data.length / total;
    let start = 0;
    rows.forEach((n, i) => {
      parts[i][name] = { datatype: t.datatype, dims: [n, ...t.dims.slice(1)], data: t.data.slice(start * per, (start + n) * per) as Data };
      start += n;
    });
  }
  return parts;
}

/**
 * Applies `reduce` to every FP32 output of rank 3 ([lines, steps, classes]); others pass unchanged, and so do steps
 * a compact recogniser already packed in its graph.
 */
export function reduceOutputs(outputs: TensorMap, reduce: OutputReduction): TensorMap {
  const out: TensorMap = {};
  for (const [name, t] of Object.entries(outputs)) {
    if (t.datatype !== 'FP32' || t.dims.length !== 3 || t.dims[2] === PACKED_STEP_VALUES || !(t.data instanceof Float32Array)) {
      out[name] = t;
      continue;
    }
    const [lines, steps, classes] = t.dims;
    out[name] = { datatype: 'FP32', dims: [lines, steps, PACKED_STEP_VALUES], data: packCtcSteps(t.data, lines, steps, classes, reduce.spaceIndex) };
  }
  return out;
}
