/** 0°/180° text-line classification: upside-down crops are turned before recognition. */
import type { InferFn, RgbaImage } from './types';
import type { LinePreprocess } from './preprocess';
import { lineBatchTensor } from './preprocess';
import { rotate180 } from './raster';
import { ocrError } from './errors';

export interface OrientationOptions {
  spec: LinePreprocess;
  batch: number;
  /** Minimum 180° probability to turn a crop. */
  thresh: number;
}

/** Returns the crops (turned where needed) in input order and which ones were turned. */
export async function fixOrientation(crops: RgbaImage[], infer: InferFn, opts: OrientationOptions): Promise<{ crops: RgbaImage[]; rotated: boolean[] }> {
  const out = crops.slice();
  const rotated = crops.map(() => false);
  // Similar aspect ratios share a batch, as in PaddleOCR, so results do not depend on batch neighbours' padding.
  const order = crops
    .map((c, i) => [c.width / c.height, i] as const)
    .sort((a, b) => a[0] - b[0])
    .map(([, i]) => i);
  for (let start = 0; start < order.length; start += opts.batch) {
    const idx = order.slice(start, start + opts.batch);
    const input = lineBatchTensor(
      idx.map((i) => crops[i]),
      opts.spec,
      opts.spec.maxWidth,
    );
    const res = await infer('cls', input);
    const n = idx.length;
    if (res.dims.length !== 2 || res.dims[0] !== n || res.dims[1] < 2 || res.data.length < n * res.dims[1]) {
      throw ocrError('OcrBadModelOutput', `Orientation model returned shape [${res.dims}] for a batch of ${n}; expected [${n}, 2].`);
    }
    const k = res.dims[1];
    idx.forEach((i, j) => {
      const p0 = res.data[j * k];
      const p180 = res.data[j * k + 1];
      if (p180 > p0 && p180 > opts.thresh) {
        out[i] = rotate180(crops[i]);
        rotated[i] = true;
      }
    });
  }
  return { crops: out, rotated };
}
