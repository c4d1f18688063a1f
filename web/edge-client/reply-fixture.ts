/** A scripted edge answer for tests of what the page does with one (the worker and the edge are not run). */
import type { EdgeOcrResult } from './index';

const timings = { preprocess: 1, det: 10, postprocess: 1, cls: 0, rec: 5, total: 17 };

/** An answer holding `lines`, for a photo of `image` pixels, timed as a 30 ms server run over a 40 ms round trip. */
export function edgeReplyOf(lines: readonly unknown[], image = { width: 64, height: 32 }, bytes = { up: 1000, down: 300 }): EdgeOcrResult {
  return {
    response: {
      lines,
      timings,
      detInput: { width: 32, height: 32 },
      image,
      server: { decode: 1, queue: 0, total: 30 },
      models: { det: 'd', cls: 'c', rec: 'r' },
    } as never,
    serverTiming: { decode: 1, preprocess: 1, det: 10, postprocess: 1, cls: 0, rec: 5, queue: 0, total: 30 },
    roundTripMs: 40,
    uploadBytes: bytes.up,
    downloadBytes: bytes.down,
  };
}
