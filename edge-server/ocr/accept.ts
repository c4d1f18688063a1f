/**
 * What the routes need to honour accepted configurations: the accepted names checked against the manifest (a model
 * may stand in for another only when it takes the same inputs and gives the same outputs), and the expected accuracy
 * of each, from profiles.json when the repository has a valid one.
 */
import type { ManifestModel, ManifestTensor } from '../../core/models/manifest';
import { ocrConfigs, parseOipAccept, type OcrAccept, type OcrConfig } from '../../core/protocol/accept';
import type { ParameterValue } from '../../core/protocol/oip';
import { accuracyTable, loadProfiles, type AccuracyTable } from './accuracy';
import { ServerError } from '../http/errors';
import type { ModelRepository } from '../model-repository';

const tables = new WeakMap<ModelRepository, AccuracyTable>();

/**
 * The repository's accuracy table, read once. An unreadable profiles.json leaves the variant ordering in charge and
 * says so in `source` (shown in logs), rather than failing every request that accepts alternatives.
 */
export function repositoryAccuracy(repo: ModelRepository, defaults: OcrConfig): AccuracyTable {
  let table = tables.get(repo);
  if (!table) {
    let loaded: ReturnType<typeof loadProfiles> = null;
    let problem = '';
    try {
      loaded = loadProfiles(repo.dir);
    } catch (e) {
      problem = `${(e as Error).message}; `;
    }
    table = accuracyTable(repo.manifest, defaults, loaded);
    if (problem) table = { ...table, source: `${problem}${table.source}` };
    tables.set(repo, table);
  }
  return table;
}

/** The models an inference request may run instead of `asked` (itself first), each checked against the manifest. */
export function acceptedModels(
  repo: ModelRepository,
  asked: ManifestModel,
  names: readonly string[],
  accuracy: AccuracyTable,
): Array<{ model: string; accuracy: number }> {
  const out = [asked.name];
  for (const name of names) {
    if (out.includes(name)) continue;
    const m = repo.models.get(name);
    if (!m)
      throw new ServerError('BadRequest', `parameters.accept: unknown model ${JSON.stringify(name)}; this server has ${[...repo.models.keys()].join(', ')}`);
    if (!sameTensors(m.inputs, asked.inputs) || !sameTensors(m.outputs, asked.outputs)) {
      throw new ServerError('BadRequest', `parameters.accept: ${name} cannot stand in for ${asked.name}: its inputs or outputs differ`);
    }
    out.push(name);
  }
  return out.map((model) => ({ model, accuracy: accuracy.model(model) }));
}

/**
 * Whole-image configurations a /v1/ocr request accepts, `own` (its query and the server's defaults) filling keys it
 * leaves out. Detectors and recognisers must have the default one's inputs and outputs (the pipeline's pre- and
 * post-processing and dictionary are shared).
 */
export function acceptedOcrConfigs(repo: ModelRepository, defaults: { det: string; rec: string }, accept: OcrAccept, own: OcrConfig): OcrConfig[] {
  for (const [role, names] of [
    ['det', accept.det],
    ['rec', accept.rec],
  ] as const) {
    const base = repo.models.get(defaults[role])!;
    for (const name of names ?? []) {
      const m = repo.models.get(name);
      if (!m || m.task !== base.task) {
        const options = [...repo.models.values()].filter((x) => x.task === base.task).map((x) => x.name);
        throw new ServerError(
          'BadRequest',
          `x-tandem-accept: ${role} ${JSON.stringify(name)} is not a ${base.task} model here; choose from ${options.join(', ')}`,
        );
      }
      if (!sameTensors(m.inputs, base.inputs) || !sameTensors(m.outputs, base.outputs)) {
        throw new ServerError('BadRequest', `x-tandem-accept: ${name} cannot stand in for ${base.name}: its inputs or outputs differ`);
      }
    }
  }
  return ocrConfigs(accept, own);
}

function sameTensors(a: readonly ManifestTensor[], b: readonly ManifestTensor[]): boolean {
  return (
    a.length === b.length &&
    a.every(
      (t, i) => t.name === b[i].name && t.datatype === b[i].datatype && t.shape.length === b[i].shape.length && t.shape.every((d, k) => d === b[i].shape[k]),
    )
  );
}

/** The server's own whole-image configuration: what runs when a request states no preference. */
export function defaultOcrConfig(config: { models: { det: string; rec: string }; det: { maxSide: number } }): OcrConfig {
  return { det: config.models.det, maxSide: config.det.maxSide, rec: config.models.rec };
}

/** `parameters.accept` of an inference request as pool candidates; undefined when the request accepts no other model. */
export function inferenceAccept(
  repo: ModelRepository,
  asked: ManifestModel,
  value: ParameterValue | undefined,
  defaults: OcrConfig,
): Array<{ model: string; accuracy: number }> | undefined {
  let names: string[] | null;
  try {
    names = parseOipAccept(value);
  } catch (e) {
    throw new ServerError('OipMalformed', (e as Error).message);
  }
  if (!names) return undefined;
  return acceptedModels(repo, asked, names, repositoryAccuracy(repo, defaults));
}
