/** Messages between the HTTP thread and the OCR pipeline thread. Image and tensor buffers travel in transfer lists. */
import type { PipelineConfig, RunOptions } from '../../core/ocr';
import type { FloatTensor, OcrResult, OcrRole, RgbaImage } from '../../core/ocr/types';
import type { SerializedError } from './messages';

export interface PipelineThreadInit {
  config: PipelineConfig;
}

export type ToPipeline =
  | { type: 'ocr'; id: number; image: RgbaImage; options: RunOptions }
  | { type: 'inferred'; call: number; tensor: FloatTensor }
  | { type: 'inferFailed'; call: number; error: SerializedError };

export type FromPipeline =
  | { type: 'infer'; id: number; call: number; role: OcrRole; tensor: FloatTensor }
  | { type: 'done'; id: number; result: OcrResult }
  | { type: 'failed'; id: number; error: SerializedError & { code?: string } };
