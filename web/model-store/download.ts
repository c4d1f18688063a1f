import type { Manifest, ManifestFile, ManifestModel } from '../../core/models/manifest';
import { codedError, messageOf } from '../coded-error';
import { sha256Hex } from './sha256';

/** Bytes over every file of one download, so a single bar can show it; `total` is known before the first byte. */
export interface DownloadProgress {
  loaded: number;
  total: number;
  /** Path of the file being fetched. */
  file: string;
}

export type ProgressFn = (progress: DownloadProgress) => void;

export async function fetchManifest(url: URL, signal?: AbortSignal): Promise<Manifest> {
  // Revalidate each time (the server answers 304 when unchanged), so new model versions are noticed.
  const response = await fetch(url, { cache: 'no-cache', signal });
  if (!response.ok) {
    throw codedError('ManifestUnavailable', `GET ${url.pathname} answered ${response.status}.`);
  }
  const manifest = (await response.json()) as Manifest;
  if (manifest?.schema !== 1 || !Array.isArray(manifest.models)) {
    throw codedError('ManifestInvalid', `${url.pathname} is not a schema 1 model manifest.`);
  }
  return manifest;
}

/** Every file the models need (model files and assets), each hash once. */
export function modelFiles(models: ManifestModel[]): ManifestFile[] {
  const byHash = new Map<string, ManifestFile>();
  for (const model of models) {
    for (const file of [model.file, ...Object.values(model.assets)]) byHash.set(file.sha256, file);
  }
  return [...byHash.values()];
}

/**
 * Downloads `files` one after another, verifying size and sha256 of each.
 * Resolves only when every file is verified, so a failure leaves nothing half-stored.
 */
export async function downloadVerified(
  files: ManifestFile[],
  baseUrl: URL,
  onProgress?: ProgressFn,
  signal?: AbortSignal,
): Promise<Map<string, Uint8Array<ArrayBuffer>>> {
  const total = files.reduce((sum, f) => sum + f.bytes, 0);
  const verified = new Map<string, Uint8Array<ArrayBuffer>>();
  let done = 0;
  onProgress?.({ loaded: 0, total, file: files[0]?.path ?? '' });
  for (const file of files) {
    const bytes = await downloadOne(file, baseUrl, signal, (n) => onProgress?.({ loaded: done + n, total, file: file.path }));
    const actual = await sha256Hex(bytes);
    if (actual !== file.sha256) {
      throw codedError(
        'ModelCorrupt',
        `${file.path} does not match the manifest (sha256 ${actual.slice(0, 12)}…, expected ${file.sha256.slice(0, 12)}…). ` +
          'Nothing was stored; try again, and if it persists the server holds a damaged copy.',
      );
    }
    verified.set(file.sha256, bytes);
    done += file.bytes;
  }
  onProgress?.({ loaded: done, total, file: '' });
  return verified;
}

async function downloadOne(
  file: ManifestFile,
  baseUrl: URL,
  signal: AbortSignal | undefined,
  onBytes: (received: number) => void,
): Promise<Uint8Array<ArrayBuffer>> {
  const url = new URL(file.path, baseUrl);
  let response: Response;
  try {
    // IndexedDB is the cache; a second copy in the HTTP cache would only double the storage.
    response = await fetch(url, { cache: 'no-store', signal });
  } catch (error) {
    if (signal?.aborted) throw error;
    throw codedError('ModelDownloadFailed', `Could not download ${file.path}: ${messageOf(error)}. Check the connection and retry.`, error);
  }
  if (!response.ok || !response.body) {
    throw codedError('ModelDownloadFailed', `Could not download ${file.path}: the server answered ${response.status}.`);
  }
  const bytes = new Uint8Array(file.bytes);
  const reader = response.body.getReader();
  let received = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (received + value.byteLength > file.bytes) {
      await reader.cancel();
      throw codedError('ModelCorrupt', `${file.path} is larger than the manifest says (${file.bytes} bytes). Nothing was stored.`);
    }
    bytes.set(value, received);
    received += value.byteLength;
    onBytes(received);
  }
  if (received !== file.bytes) {
    throw codedError('ModelCorrupt', `${file.path} ended after ${received} of ${file.bytes} bytes. Nothing was stored; retry the download.`);
  }
  return bytes;
}
