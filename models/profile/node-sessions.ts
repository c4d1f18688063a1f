/** onnxruntime-node sessions per manifest model, and OCR pipelines over any det/rec/cls combination of them. */
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import type { Manifest } from '../../core/models/manifest';
import { createOcrPipeline, type OcrPipeline } from '../../core/ocr/pipeline';
import { pipelineConfigFromManifest } from '../../core/ocr/config';
import type { FloatTensor, InferFn, OcrRole } from '../../core/ocr/types';
import { loadDictionary } from '../../test-support/ort-node-infer';

export class NodeSessions {
  private readonly sessions = new Map<string, ort.InferenceSession>();

  constructor(
    readonly repositoryDir: string,
    readonly manifest: Manifest,
    readonly intraOpNumThreads: number,
  ) {}

  /** Session creation is timed by the caller; sessions are kept until release(). */
  async create(name: string): Promise<ort.InferenceSession> {
    const model = this.manifest.models.find((m) => m.name === name);
    if (!model) throw new Error(`model ${name} is not in the manifest`);
    return ort.InferenceSession.create(join(this.repositoryDir, model.file.path), {
      intraOpNumThreads: this.intraOpNumThreads,
      interOpNumThreads: 1,
      graphOptimizationLevel: 'all',
    });
  }

  async get(name: string): Promise<ort.InferenceSession> {
    let s = this.sessions.get(name);
    if (!s) {
      s = await this.create(name);
      this.sessions.set(name, s);
    }
    return s;
  }

  async run(name: string, input: FloatTensor): Promise<FloatTensor> {
    return runSession(await this.get(name), input);
  }

  /** The product's pipeline with the given model per role. */
  pipeline(models: Record<OcrRole, string>): OcrPipeline {
    const config = pipelineConfigFromManifest(this.manifest, loadDictionary(this.manifest, models.rec, this.repositoryDir), { models });
    const infer: InferFn = (role, input) => this.run(config.models[role], input);
    return createOcrPipeline(config, infer, () => performance.now());
  }

  async release(): Promise<void> {
    await Promise.all([...this.sessions.values()].map((s) => s.release()));
    this.sessions.clear();
  }
}

export async function runSession(session: ort.InferenceSession, input: FloatTensor): Promise<FloatTensor> {
  const out = await session.run({ [session.inputNames[0]]: new ort.Tensor('float32', input.data, input.dims) });
  const t = out[session.outputNames[0]];
  return { data: t.data as Float32Array, dims: [...t.dims] };
}
