import type { ManifestModel } from '../../core/models/manifest';
import type { FloatTensor } from '../../core/ocr/types';
import { codedError, messageOf } from '../coded-error';
import type { ModelStore } from '../model-store';
import type { Backend } from './api';
import type { Ort } from './ort-wasm';

type Session = Awaited<ReturnType<Ort['InferenceSession']['create']>>;

/** One InferenceSession per chosen model, all on one backend. */
export class SessionSet {
  // ORT web sessions are not re-entrant ("Session already started"), so every run waits for the previous one.
  private chain: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly ort: Ort,
    private readonly sessions: Map<string, Session>,
    readonly backend: Backend,
  ) {}

  /** Creates every session from bytes read straight from IndexedDB; on any failure releases what was created. */
  static async create(ort: Ort, backend: Backend, models: ManifestModel[], store: ModelStore): Promise<SessionSet> {
    const sessions = new Map<string, Session>();
    try {
      for (const model of models) {
        const bytes = await store.readFile(model.file.sha256);
        try {
          sessions.set(model.name, await ort.InferenceSession.create(bytes, { executionProviders: [backend], logSeverityLevel: 3 }));
        } catch (error) {
          throw codedError('SessionFailed', `Could not start ${model.name} on ${backend}: ${messageOf(error)}`, error);
        }
      }
    } catch (error) {
      await Promise.allSettled([...sessions.values()].map((s) => s.release()));
      throw error;
    }
    return new SessionSet(ort, sessions, backend);
  }

  has(name: string): boolean {
    return this.sessions.has(name);
  }

  /** Runs `name` on one float input and returns its first output. */
  run(name: string, input: FloatTensor): Promise<FloatTensor> {
    const session = this.sessions.get(name);
    if (!session) {
      return Promise.reject(codedError('UnknownModel', `No model named "${name}" is loaded (have: ${[...this.sessions.keys()].join(', ')}).`));
    }
    const next = this.chain.then(async () => {
      const feeds = { [session.inputNames[0]!]: new this.ort.Tensor('float32', input.data, input.dims) };
      let outputs: Awaited<ReturnType<Session['run']>>;
      try {
        outputs = await session.run(feeds);
      } catch (error) {
        throw codedError('InferenceFailed', `${name} failed on input [${input.dims.join('×')}]: ${messageOf(error)}`, error);
      }
      const output = outputs[session.outputNames[0]!]!;
      if (output.type !== 'float32') {
        throw codedError('InferenceFailed', `${name} returned ${output.type}; only float32 outputs are supported.`);
      }
      return { data: output.data as Float32Array, dims: [...output.dims] };
    });
    this.chain = next.catch(() => undefined);
    return next;
  }

  async release(): Promise<void> {
    await this.chain;
    await Promise.allSettled([...this.sessions.values()].map((s) => s.release()));
    this.sessions.clear();
  }
}
