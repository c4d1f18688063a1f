/** Decoded image as the platform hands it over: tightly packed RGBA, row-major. */
export interface RgbaImage {
  data: Uint8Array | Uint8ClampedArray;
  width: number;
  height: number;
}

/** A dense float tensor in row-major order (NCHW for images). */
export interface FloatTensor {
  data: Float32Array;
  dims: number[];
}

/** The three stages of the PP-OCR family; the pipeline addresses models by role, the caller maps roles to model names. */
export type OcrRole = 'det' | 'cls' | 'rec';

/**
 * Runs one model on one input tensor and returns its first output.
 * Injected so the same pipeline runs over onnxruntime-web, onnxruntime-node, a worker pool or a remote server.
 */
export type InferFn = (role: OcrRole, input: FloatTensor) => Promise<FloatTensor>;

export type Point = [number, number];

/** One recognised text line. `box` is four corners, clockwise from top-left, in original image pixels. */
export interface OcrLine {
  box: [Point, Point, Point, Point];
  text: string;
  /** Mean CTC character probability of the decoded text (0..1). */
  score: number;
  /** Detector box score (0..1). */
  boxScore: number;
  /** True when the orientation classifier turned the crop by 180 degrees. */
  rotated: boolean;
}

/** Milliseconds per stage, measured with the injected clock. */
export interface StageTimings {
  preprocess: number;
  det: number;
  postprocess: number;
  cls: number;
  rec: number;
  total: number;
}

export interface OcrResult {
  lines: OcrLine[];
  timings: StageTimings;
  /** Size the detector actually ran at (multiples of 32). */
  detInput: { width: number; height: number };
  image: { width: number; height: number };
  /**
   * Detection ran again at a larger side (RunOptions.escalate) because the first found too few lines: that first
   * side and what it found. The timings then hold both detections; `detInput` is the second's.
   */
  escalated?: { fromSide: number; lines: number };
}
