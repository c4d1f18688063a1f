/** Error codes the OCR pipeline raises; the code travels in `error.name` so it survives structured cloning and comlink. */
export type OcrErrorCode = 'OcrBadImage' | 'OcrBadConfig' | 'OcrBadModelOutput' | 'OcrCancelled';

export function ocrError(code: OcrErrorCode, message: string): Error {
  const err = new Error(message);
  err.name = code;
  return err;
}
