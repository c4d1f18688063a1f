import { openDB } from 'idb';
import type { IDBPDatabase, IDBPTransaction } from 'idb';
import type { Manifest, ManifestFile, ManifestModel } from '../../core/models/manifest';
import { codedError, messageOf } from '../coded-error';
import { downloadVerified, fetchManifest, modelFiles } from './download';
import { sha256Hex } from './sha256';
import type { ProgressFn } from './download';
import { DB_NAME, DB_VERSION } from './schema';
import type { ModelDb, ModelRecord, StoredFileRef } from './schema';

/** Picks the models this device needs from everything the server offers (e.g. one variant per task). */
export type ModelSelector = (manifest: Manifest) => ManifestModel[];

export interface EnsureResult {
  manifest: Manifest;
  /** The selected models, now all stored. */
  models: ManifestModel[];
  /** 'network': something was downloaded; 'cache': all files were already stored; 'offline': the server was unreachable, stored manifest used. */
  source: 'network' | 'cache' | 'offline';
  downloadedBytes: number;
}

export interface ModelStoreOptions {
  /** Where manifest.json and the model files are served; defaults to /models/ on this origin. */
  modelsBaseUrl?: string | URL;
}

/**
 * Models downloaded once, verified, and kept in IndexedDB. Opens the same database from the page
 * (list, delete) and from the worker (read bytes for sessions), so model bytes never cross between them.
 */
export class ModelStore {
  readonly baseUrl: URL;

  private constructor(
    private readonly db: IDBPDatabase<ModelDb>,
    baseUrl: URL,
  ) {
    this.baseUrl = baseUrl;
  }

  static async open(options: ModelStoreOptions = {}): Promise<ModelStore> {
    const baseUrl = new URL(options.modelsBaseUrl ?? '/models/', globalThis.location.origin);
    try {
      const db = await openDB<ModelDb>(DB_NAME, DB_VERSION, {
        upgrade(database) {
          database.createObjectStore('files', { keyPath: 'sha256' });
          database.createObjectStore('models', { keyPath: 'name' });
          database.createObjectStore('meta');
        },
      });
      return new ModelStore(db, baseUrl);
    } catch (error) {
      throw codedError('StorageUnavailable', `This browser refused local storage for models (${messageOf(error)}). Private windows often do.`, error);
    }
  }

  /**
   * Makes the selected models of the current manifest available locally: downloads what is missing (one
   * progress for all files), or, when the server is unreachable, falls back to the stored manifest.
   */
  async ensure(select: ModelSelector, onProgress?: ProgressFn, signal?: AbortSignal): Promise<EnsureResult> {
    let manifest: Manifest;
    let offline = false;
    try {
      manifest = await fetchManifest(new URL('manifest.json', this.baseUrl), signal);
    } catch (error) {
      if (signal?.aborted) throw error;
      const stored = await this.db.get('meta', 'manifest');
      if (!stored) {
        throw codedError(
          'ModelsUnavailable',
          `Models are not on this device yet and the server can't provide them (${messageOf(error)}). Connect once to download them.`,
          error,
        );
      }
      manifest = stored.manifest;
      offline = true;
    }

    const models = select(manifest);
    const missing = await this.missingFiles(models);
    if (missing.length > 0 && offline) {
      throw codedError(
        'ModelsUnavailable',
        `${missing.map((f) => f.path).join(', ')} ${missing.length === 1 ? 'is' : 'are'} not stored on this device and the server is unreachable. Connect to download.`,
      );
    }
    const downloaded = missing.length > 0 ? await downloadVerified(missing, this.baseUrl, onProgress, signal) : new Map();
    if (!offline) await this.commit(manifest, models, missing, downloaded);
    const downloadedBytes = missing.reduce((sum, f) => sum + f.bytes, 0);
    return { manifest, models, source: offline ? 'offline' : missing.length > 0 ? 'network' : 'cache', downloadedBytes };
  }

  /** Bytes of one stored file, by content hash. */
  async readFile(sha256: string): Promise<Uint8Array<ArrayBuffer>> {
    const file = await this.db.get('files', sha256);
    if (!file) {
      throw codedError('ModelMissing', `File ${sha256.slice(0, 12)}… is not stored on this device (was it deleted?). Load the models again.`);
    }
    const bytes = new Uint8Array(await file.blob.arrayBuffer());
    // Stored bytes can rot (disk, browser bugs, other code on this origin): a damaged file is dropped, so the next
    // ensure() sees it missing and downloads it again, rather than a session failing or reading wrong text.
    const actual = await sha256Hex(bytes);
    if (actual !== sha256) {
      await this.db.delete('files', sha256);
      throw codedError(
        'StoredModelCorrupt',
        `The stored copy of ${file.path} is damaged (sha256 ${actual.slice(0, 12)}…, expected ${sha256.slice(0, 12)}…); it was removed and will be downloaded again.`,
      );
    }
    return bytes;
  }

  async readText(sha256: string): Promise<string> {
    return new TextDecoder().decode(await this.readFile(sha256));
  }

  async list(): Promise<ModelRecord[]> {
    return this.db.getAll('models');
  }

  async storedManifest(): Promise<Manifest | undefined> {
    return (await this.db.get('meta', 'manifest'))?.manifest;
  }

  /** Removes one model and the files no other model uses. */
  async delete(name: string): Promise<void> {
    const tx = this.db.transaction(['models', 'files'], 'readwrite');
    await tx.objectStore('models').delete(name);
    const kept = new Set((await tx.objectStore('models').getAll()).flatMap(recordHashes));
    for (const sha of await tx.objectStore('files').getAllKeys()) {
      if (!kept.has(sha)) await tx.objectStore('files').delete(sha);
    }
    await tx.done;
  }

  async clear(): Promise<void> {
    const tx = this.db.transaction(['models', 'files', 'meta'], 'readwrite');
    await Promise.all([tx.objectStore('models').clear(), tx.objectStore('files').clear(), tx.objectStore('meta').clear(), tx.done]);
  }

  close(): void {
    this.db.close();
  }

  private async missingFiles(models: ManifestModel[]): Promise<ManifestFile[]> {
    const files = modelFiles(models);
    const present = await Promise.all(files.map((f) => this.db.getKey('files', f.sha256)));
    return files.filter((_, i) => present[i] === undefined);
  }

  /**
   * Stores new files, records for the selected models and the manifest in one transaction. Models stored earlier
   * stay while the manifest still lists them unchanged; anything else, and files no record uses, is dropped.
   */
  private async commit(manifest: Manifest, selected: ManifestModel[], added: ManifestFile[], bytes: Map<string, Uint8Array<ArrayBuffer>>): Promise<void> {
    const now = Date.now();
    let tx: IDBPTransaction<ModelDb, ('files' | 'models' | 'meta')[], 'readwrite'> | undefined;
    try {
      tx = this.db.transaction(['files', 'models', 'meta'], 'readwrite');
      const files = tx.objectStore('files');
      const models = tx.objectStore('models');
      for (const file of added) {
        files.put({ sha256: file.sha256, path: file.path, bytes: file.bytes, blob: new Blob([bytes.get(file.sha256)!]) });
      }
      const offered = new Map(manifest.models.map((m) => [m.name, toRecord(m, now)]));
      const kept: ModelRecord[] = [];
      for (const before of await models.getAll()) {
        const current = offered.get(before.name);
        if (current && sameFiles(current, before)) kept.push(before);
        else models.delete(before.name);
      }
      for (const model of selected) {
        if (kept.some((r) => r.name === model.name)) continue;
        const record = offered.get(model.name)!;
        models.put(record);
        kept.push(record);
      }
      const referenced = new Set(kept.flatMap(recordHashes));
      for (const sha of await files.getAllKeys()) if (!referenced.has(sha)) files.delete(sha);
      tx.objectStore('meta').put({ manifest, storedAt: now }, 'manifest');
      await tx.done;
    } catch (error) {
      // A put over quota aborts the transaction: later requests then fail with AbortError, the cause is tx.error.
      const cause = tx?.error ?? error;
      if (isQuotaError(cause) || isQuotaError(error)) throw await quotaError(added, cause);
      throw error;
    }
  }
}

function isQuotaError(error: unknown): boolean {
  return error instanceof DOMException && error.name === 'QuotaExceededError';
}

/** Says how much the models need against what this browser lets the site store, and that the edge still works. */
async function quotaError(added: ManifestFile[], cause: unknown): Promise<Error> {
  const mb = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;
  const need = added.reduce((sum, f) => sum + f.bytes, 0);
  const estimate = await globalThis.navigator?.storage?.estimate?.().catch(() => undefined);
  const free = estimate?.quota !== undefined ? estimate.quota - (estimate.usage ?? 0) : undefined;
  // Only figures that explain the failure: some browsers report a nominal quota they do not enforce.
  const room = free !== undefined && free < need ? `; ${mb(Math.max(0, free))} of storage is free for this site` : '';
  return codedError(
    'QuotaExceeded',
    `Not enough storage to keep the models on this device (they need ${mb(need)}${room}). Nothing was stored. ` +
      'Free some space and retry; photos can still be read on the edge.',
    cause,
  );
}

function toRef(file: ManifestFile): StoredFileRef {
  return { path: file.path, bytes: file.bytes, sha256: file.sha256 };
}

function toRecord(model: ManifestModel, storedAt: number): ModelRecord {
  const assets = Object.fromEntries(Object.entries(model.assets).map(([key, file]) => [key, toRef(file)]));
  const totalBytes = model.file.bytes + Object.values(model.assets).reduce((sum, f) => sum + f.bytes, 0);
  return { name: model.name, version: model.version, variant: model.variant, file: toRef(model.file), assets, totalBytes, storedAt };
}

function sameFiles(a: ModelRecord, b: ModelRecord): boolean {
  return recordHashes(a).join() === recordHashes(b).join();
}

function recordHashes(record: ModelRecord): string[] {
  return [record.file.sha256, ...Object.values(record.assets).map((a) => a.sha256)];
}
