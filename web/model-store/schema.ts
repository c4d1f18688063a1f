import type { DBSchema } from 'idb';
import type { Manifest } from '../../core/models/manifest';

export const DB_NAME = 'tandem-models';
export const DB_VERSION = 1;

/** One downloaded, verified file. Stored as a Blob (IndexedDB keeps those out of the JS heap), keyed by content hash. */
export interface StoredFile {
  sha256: string;
  path: string;
  bytes: number;
  blob: Blob;
}

export interface StoredFileRef {
  path: string;
  bytes: number;
  sha256: string;
}

/** What the cached-models list shows: one record per manifest model, pointing at its files by hash. */
export interface ModelRecord {
  name: string;
  version: string;
  variant: string;
  file: StoredFileRef;
  assets: Record<string, StoredFileRef>;
  /** Model file plus assets. */
  totalBytes: number;
  storedAt: number;
}

export interface StoredManifest {
  manifest: Manifest;
  storedAt: number;
}

export interface ModelDb extends DBSchema {
  files: { key: string; value: StoredFile };
  models: { key: string; value: ModelRecord };
  meta: { key: 'manifest'; value: StoredManifest };
}
