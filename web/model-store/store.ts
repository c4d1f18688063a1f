import { openDB } from 'idb';
import type { IDBPDatabase } from 'idb';
import type { Manifest, ManifestFile, ManifestModel } from '../../core/models/manifest';
import { codedError, messageOf } from '../coded-error';
import { downloadVerified, fetchManifest, manifestFiles } from './download';
import type { ProgressFn } from './download';
import { DB_NAME, DB_VERSION } from './schema';
import type { ModelDb, ModelRecord, StoredFileRef } from './schema';

export interface EnsureResult {
  manifest: Manifest;
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
   * Makes every model of the current manifest available locally: downloads what is missing (one progress
   * for all files), or, when the server is unreachable, falls back to the stored manifest.
   */
  async ensure(onProgress?: ProgressFn, signal?: AbortSignal): Promise<EnsureResult> {
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

    const missing = await this.missingFiles(manifest);
    if (missing.length > 0 && offline) {
      throw codedError(
        'ModelsUnavailable',
        `${missing.map((f) => f.path).join(', ')} ${missing.length === 1 ? 'is' : 'are'} not stored on this device and the server is unreachable. Connect to download.`,
      );
    }
    const downloaded = missing.length > 0 ? await downloadVerified(missing, this.baseUrl, onProgress, signal) : new Map();
    if (missing.length > 0 || !offline) await this.commit(manifest, missing, downloaded);
    const downloadedBytes = missing.reduce((sum, f) => sum + f.bytes, 0);
    return { manifest, source: offline ? 'offline' : missing.length > 0 ? 'network' : 'cache', downloadedBytes };
  }

  /** Bytes of one stored file, by content hash. */
  async readFile(sha256: string): Promise<Uint8Array<ArrayBuffer>> {
    const file = await this.db.get('files', sha256);
    if (!file) {
      throw codedError('ModelMissing', `File ${sha256.slice(0, 12)}… is not stored on this device (was it deleted?). Load the models again.`);
    }
    return new Uint8Array(await file.blob.arrayBuffer());
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

  private async missingFiles(manifest: Manifest): Promise<ManifestFile[]> {
    const files = manifestFiles(manifest);
    const present = await Promise.all(files.map((f) => this.db.getKey('files', f.sha256)));
    return files.filter((_, i) => present[i] === undefined);
  }

  /** Stores new files, the manifest's model records and the manifest in one transaction; drops what the manifest no longer lists. */
  private async commit(manifest: Manifest, added: ManifestFile[], bytes: Map<string, Uint8Array<ArrayBuffer>>): Promise<void> {
    const now = Date.now();
    try {
      const tx = this.db.transaction(['files', 'models', 'meta'], 'readwrite');
      const files = tx.objectStore('files');
      const models = tx.objectStore('models');
      for (const file of added) {
        files.put({ sha256: file.sha256, path: file.path, bytes: file.bytes, blob: new Blob([bytes.get(file.sha256)!]) });
      }
      const previous = new Map((await models.getAll()).map((r) => [r.name, r]));
      for (const model of manifest.models) {
        const record = toRecord(model, now);
        const before = previous.get(model.name);
        if (before && recordHashes(before).join() === recordHashes(record).join()) record.storedAt = before.storedAt;
        models.put(record);
        previous.delete(model.name);
      }
      for (const stale of previous.keys()) models.delete(stale);
      const referenced = new Set(manifestFiles(manifest).map((f) => f.sha256));
      for (const sha of await files.getAllKeys()) if (!referenced.has(sha)) files.delete(sha);
      tx.objectStore('meta').put({ manifest, storedAt: now }, 'manifest');
      await tx.done;
    } catch (error) {
      if (error instanceof DOMException && error.name === 'QuotaExceededError') {
        throw codedError('QuotaExceeded', 'Not enough storage for the models on this device. Free some space and retry.', error);
      }
      throw error;
    }
  }
}

function toRef(file: ManifestFile): StoredFileRef {
  return { path: file.path, bytes: file.bytes, sha256: file.sha256 };
}

function toRecord(model: ManifestModel, storedAt: number): ModelRecord {
  const assets = Object.fromEntries(Object.entries(model.assets).map(([key, file]) => [key, toRef(file)]));
  const totalBytes = model.file.bytes + Object.values(model.assets).reduce((sum, f) => sum + f.bytes, 0);
  return { name: model.name, version: model.version, variant: model.variant, file: toRef(model.file), assets, totalBytes, storedAt };
}

function recordHashes(record: ModelRecord): string[] {
  return [record.file.sha256, ...Object.values(record.assets).map((a) => a.sha256)];
}
