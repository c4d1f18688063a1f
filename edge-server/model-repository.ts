/** The model repository on disk (models/repository): its manifest, and the files the manifest lists, checked at startup. */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, resolve, sep } from 'node:path';
import type { Manifest, ManifestFile, ManifestModel } from '../core/models/manifest';
import type { WorkerModel } from './runtime/messages';

export interface RepositoryFile extends ManifestFile {
  absolutePath: string;
}

export interface ModelRepository {
  dir: string;
  manifest: Manifest;
  manifestBytes: Buffer;
  manifestEtag: string;
  models: Map<string, ManifestModel>;
  /** Every servable file by its manifest path (model files and assets). */
  files: Map<string, RepositoryFile>;
}

export class RepositoryError extends Error {
  override name = 'RepositoryError';
}

export function loadRepository(dir: string): ModelRepository {
  const root = resolve(dir);
  const manifestPath = join(root, 'manifest.json');
  if (!existsSync(manifestPath)) {
    throw new RepositoryError(`no manifest at ${manifestPath}; build the model repository with "npm run models" or set MODEL_DIR`);
  }
  const manifestBytes = readFileSync(manifestPath);
  let manifest: Manifest;
  try {
    manifest = JSON.parse(manifestBytes.toString('utf8')) as Manifest;
  } catch (e) {
    throw new RepositoryError(`${manifestPath} is not valid JSON (${(e as Error).message}); rebuild it with "npm run models"`);
  }
  if (manifest.schema !== 1 || !Array.isArray(manifest.models)) {
    throw new RepositoryError(`${manifestPath} has schema ${String(manifest.schema)}; this server reads schema 1`);
  }
  const models = new Map<string, ManifestModel>();
  const files = new Map<string, RepositoryFile>();
  for (const m of manifest.models) {
    if (models.has(m.name)) throw new RepositoryError(`manifest lists model ${m.name} twice`);
    models.set(m.name, m);
    for (const f of [m.file, ...Object.values(m.assets)]) {
      const absolutePath = resolve(root, f.path);
      if (!absolutePath.startsWith(root + sep)) throw new RepositoryError(`manifest path ${f.path} leaves the repository`);
      if (!existsSync(absolutePath)) throw new RepositoryError(`${absolutePath} listed in the manifest is missing; run "npm run models"`);
      const size = statSync(absolutePath).size;
      if (size !== f.bytes) {
        throw new RepositoryError(`${absolutePath} has ${size} bytes, the manifest says ${f.bytes}; run "npm run models -- --force"`);
      }
      files.set(f.path, { ...f, absolutePath });
    }
  }
  const manifestEtag = `"${createHash('sha256').update(manifestBytes).digest('hex')}"`;
  return { dir: root, manifest, manifestBytes, manifestEtag, models, files };
}

/**
 * Narrows the models the server loads and answers for; the manifest file and the files it lists stay servable, since
 * clients download models they run themselves.
 */
export function selectModels(repo: ModelRepository, names: string[] | null): ModelRepository {
  if (!names) return repo;
  const unknown = names.filter((n) => !repo.models.has(n));
  if (unknown.length) {
    throw new RepositoryError(`MODELS names ${unknown.join(', ')}, which the manifest does not have; it has ${[...repo.models.keys()].join(', ')}`);
  }
  const models = repo.manifest.models.filter((m) => names.includes(m.name));
  return { ...repo, manifest: { ...repo.manifest, models }, models: new Map(models.map((m) => [m.name, m])) };
}

export function workerModels(repo: ModelRepository): WorkerModel[] {
  return repo.manifest.models.map((m) => ({ name: m.name, path: resolve(repo.dir, m.file.path) }));
}
