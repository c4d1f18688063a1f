export { edgeOcr, edgeStatus } from './ocr';
export type { EdgeOcrOptions, EdgeOcrResult } from './ocr';
export { parseServerTiming } from './server-timing';
