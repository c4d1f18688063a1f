/** The two placements an image can take, seen from the evaluation: ORT-web WASM (device) or ORT-node (edge, in-process or a server). */
import { readFileSync } from 'node:fs';
import { createOcrPipeline, type OcrPipeline, type RunOptions, type ConfigOverrides } from '../../core/ocr';
import type { OcrResponse } from '../../core/protocol/v1';
import { createOrtNodeOcr } from '../../test-support/ort-node-infer';
import { createOrtWebOcr } from '../../test-support/ort-web-infer';
import { decodeRgba, mimeOf } from './dataset';

export type PathName = 'device' | 'edge';

export interface Runner {
  name: PathName;
  /** Whole-image OCR from the encoded file, including decode; returns polygons and texts. */
  ocr(file: string): Promise<{ lines: { box: [number, number][]; text: string }[]; timings?: Partial<Record<string, number>> }>;
  /** Orientation + recognition on ready crops; null when the path cannot do it (remote server). */
  pipeline: OcrPipeline | null;
  describe: string;
  runOptions: RunOptions;
  release(): Promise<void>;
}

export interface RunnerOptions {
  run: RunOptions;
  overrides: ConfigOverrides;
  threads?: number;
  server?: string;
}

export async function createRunner(name: PathName, opts: RunnerOptions): Promise<Runner> {
  if (name === 'edge' && opts.server) {
    const base = opts.server.replace(/\/$/, '');
    const q = new URLSearchParams();
    if (opts.run.maxSide) q.set('maxSide', String(opts.run.maxSide));
    if (opts.run.useCls !== undefined) q.set('cls', opts.run.useCls ? '1' : '0');
    const url = `${base}/v1/ocr${q.size ? `?${q}` : ''}`;
    return {
      name,
      pipeline: null,
      runOptions: opts.run,
      describe: `edge server ${url}`,
      async ocr(file) {
        const res = await fetch(url, { method: 'POST', headers: { 'content-type': mimeOf(file) }, body: readFileSync(file) });
        const body = await res.text();
        if (!res.ok) throw new Error(`${file}: HTTP ${res.status} ${body.slice(0, 200)}`);
        const r = JSON.parse(body) as OcrResponse;
        return { lines: r.lines, timings: { decode: r.server?.decode, ...r.timings } };
      },
      async release() {},
    };
  }
  const ocr =
    name === 'edge'
      ? await createOrtNodeOcr({ intraOpNumThreads: opts.threads ?? 2, overrides: opts.overrides })
      : await createOrtWebOcr({ numThreads: opts.threads ?? 1, overrides: opts.overrides });
  const pipeline = createOcrPipeline(ocr.config, ocr.infer, () => performance.now());
  return {
    name,
    pipeline,
    runOptions: opts.run,
    describe: name === 'edge' ? `onnxruntime-node in-process, ${opts.threads ?? 2} threads` : `onnxruntime-web wasm in Node, ${opts.threads ?? 1} thread(s)`,
    async ocr(file) {
      const t0 = performance.now();
      const image = await decodeRgba(readFileSync(file));
      const decode = performance.now() - t0;
      const res = await pipeline.run(image, opts.run);
      return { ...res, timings: { decode, ...res.timings } };
    },
    release: () => ocr.release(),
  };
}
