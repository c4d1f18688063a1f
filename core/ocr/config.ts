/** Pipeline configuration, derived from the model manifest so preprocessing always matches the models served. */
import type { Manifest, ManifestModel } from '../models/manifest';
import type { OcrRole } from './types';
import type { DetPreprocess, LinePreprocess } from './preprocess';
import { DEFAULT_DB_PARAMS, type DbParams } from './db-postprocess';
import { ocrError } from './errors';
import { PACKED_STEP_VALUES } from './ctc-decode';

export interface PipelineConfig {
  /** Manifest model name per role; the InferFn receives the role, callers map it back with this. */
  models: Record<OcrRole, string>;
  det: DetPreprocess;
  cls: LinePreprocess;
  rec: LinePreprocess;
  /** CTC classes of the recogniser: 0 = blank, 1..N = dictionary lines, N+1 = space. */
  charset: string[];
  db: DbParams;
  /** Run the 0/180° classifier unless the caller says otherwise. */
  useCls: boolean;
  /** A crop is turned when the classifier says 180° with at least this probability. */
  clsThresh: number;
  clsBatch: number;
  recBatch: number;
  /**
   * Recogniser batches in flight at once: 1 where one runtime runs them in turn (the phone's worker); a server with
   * several worker slots reads a receipt's lines on all of them.
   */
  recParallel: number;
  /** Narrowest padded recogniser input; PaddleOCR pads to 320, which costs time on short words and buys no accuracy. */
  recMinWidth: number;
  /** Lines read with a lower mean character probability are dropped. */
  dropScore: number;
  /** Word-gap recovery threshold of the CTC decoder (see CtcOptions.spaceThresh); 1 = plain greedy decoding. */
  spaceThresh: number;
}

/** Lines per recogniser batch unless configured otherwise (the planner counts an edge's batches by it). */
export const DEFAULT_REC_BATCH = 6;

/** Dictionary file → one entry per line (CRLF tolerated; the trailing newline does not add an entry). */
export function parseDictionary(text: string): string[] {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  if (lines.length && lines[lines.length - 1] === '') lines.pop();
  return lines;
}

const ROLE_TASK: Record<OcrRole, ManifestModel['task']> = {
  det: 'text-detection',
  cls: 'text-orientation',
  rec: 'text-recognition',
};

const DEFAULT_NAMES: Record<OcrRole, string> = { det: 'ppocr-det', cls: 'ppocr-cls', rec: 'ppocr-rec' };

export interface ConfigOverrides extends Partial<Omit<PipelineConfig, 'models' | 'det' | 'cls' | 'rec' | 'charset' | 'db'>> {
  /** Model name per role (e.g. an int8 variant); default ppocr-det / ppocr-cls / ppocr-rec, else the first model of the role's task. */
  models?: Partial<Record<OcrRole, string>>;
  db?: Partial<DbParams>;
  /** Detector longest-side limit replacing the manifest's. */
  maxSide?: number;
}

function pick(manifest: Manifest, role: OcrRole, wanted?: string): ManifestModel {
  const ofTask = manifest.models.filter((m) => m.task === ROLE_TASK[role]);
  const model = wanted ? manifest.models.find((m) => m.name === wanted) : (ofTask.find((m) => m.name === DEFAULT_NAMES[role]) ?? ofTask[0]);
  if (!model) {
    throw ocrError(
      'OcrBadConfig',
      wanted
        ? `Model "${wanted}" for ${role} is not in the manifest (has: ${manifest.models.map((m) => m.name).join(', ') || 'none'}).`
        : `The manifest has no ${ROLE_TASK[role]} model; rebuild the repository with \`npm run models\`.`,
    );
  }
  if (model.task !== ROLE_TASK[role]) {
    throw ocrError('OcrBadConfig', `Model "${model.name}" is a ${model.task} model, not ${ROLE_TASK[role]}.`);
  }
  return model;
}

export function pipelineConfigFromManifest(manifest: Manifest, dictionaryText: string, overrides: ConfigOverrides = {}): PipelineConfig {
  if (!manifest || !Array.isArray(manifest.models))
    throw ocrError('OcrBadConfig', 'Manifest has no models list; pass the parsed models/repository/manifest.json.');
  const det = pick(manifest, 'det', overrides.models?.det);
  const cls = pick(manifest, 'cls', overrides.models?.cls);
  const rec = pick(manifest, 'rec', overrides.models?.rec);
  if (det.preprocess.kind !== 'det') throw ocrError('OcrBadConfig', `Model "${det.name}" lacks detector preprocessing in the manifest.`);
  if (cls.preprocess.kind !== 'cls') throw ocrError('OcrBadConfig', `Model "${cls.name}" lacks classifier preprocessing in the manifest.`);
  if (rec.preprocess.kind !== 'rec') throw ocrError('OcrBadConfig', `Model "${rec.name}" lacks recogniser preprocessing in the manifest.`);

  const dictionary = parseDictionary(dictionaryText);
  const charset = ['', ...dictionary, ' '];
  const classes = rec.outputs[0]?.shape.at(-1);
  // A recogniser that ends in packed CTC steps (the compact variant) gives 3 values per step whatever the dictionary.
  if (typeof classes === 'number' && classes > 0 && classes !== charset.length && classes !== PACKED_STEP_VALUES) {
    throw ocrError(
      'OcrBadConfig',
      `Dictionary gives ${charset.length} CTC classes (blank + ${dictionary.length} lines + space) but "${rec.name}" outputs ${classes}; pass the model's own dictionary asset.`,
    );
  }
  const { models: _m, db, maxSide, ...rest } = overrides;
  return {
    models: { det: det.name, cls: cls.name, rec: rec.name },
    det: maxSide ? { ...det.preprocess, maxSide } : det.preprocess,
    cls: cls.preprocess,
    rec: rec.preprocess,
    charset,
    db: { ...DEFAULT_DB_PARAMS, ...db },
    // Defaults chosen on the dev set (bench/eval-ocr/tune-ocr.ts): see bench/eval-ocr/README.md.
    useCls: false,
    clsThresh: 0.9,
    clsBatch: 6,
    recBatch: DEFAULT_REC_BATCH,
    recParallel: 1,
    recMinWidth: 48,
    dropScore: 0.5,
    spaceThresh: 0.05,
    ...rest,
  };
}
