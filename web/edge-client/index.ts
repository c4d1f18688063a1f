export { edgeDownloadProbe, edgeOcr, edgeProbe, edgeStatus, edgeStatusTimed } from './ocr';
export type { EdgeError, EdgeOcrOptions, EdgeOcrResult, TimedReply } from './ocr';
export { parseServerTiming } from '../../core/protocol/server-timing';
