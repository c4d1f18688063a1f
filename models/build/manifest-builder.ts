/** Builds manifest entries from model bytes: pure apart from hashing, so tests can feed it small graphs. */
import { createHash } from 'node:crypto';
import type { ManifestFile, ManifestModel } from '../../core/models/manifest';
import { readOnnxIo } from './onnx-io';
import { LICENSE, SOURCE_PACKAGE, type ModelSource } from './sources';

export const sha256Hex = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

export function describeFile(path: string, bytes: Uint8Array): ManifestFile {
  return { path, bytes: bytes.byteLength, sha256: sha256Hex(bytes) };
}

export interface BuiltModel {
  entry: ManifestModel;
  /** Repository-relative path → bytes to write. */
  files: Map<string, Uint8Array>;
}

export function buildModelEntry(
  src: ModelSource,
  packageVersion: string,
  modelBytes: Uint8Array,
  assetBytes: Record<string, Uint8Array>,
  version = '1',
): BuiltModel {
  const dir = `${src.name}/${version}`;
  const files = new Map<string, Uint8Array>();
  const modelPath = `${dir}/model.onnx`;
  files.set(modelPath, modelBytes);
  const assets: Record<string, ManifestFile> = {};
  for (const [role, srcPath] of Object.entries(src.assets)) {
    const bytes = assetBytes[role];
    if (!bytes) throw new Error(`${src.name}: missing asset ${role}`);
    const path = `${dir}/${srcPath.split('/').pop()}`;
    files.set(path, bytes);
    assets[role] = describeFile(path, bytes);
  }
  const io = readOnnxIo(modelBytes);
  return {
    files,
    entry: {
      name: src.name,
      version,
      variant: 'fp32',
      task: src.task,
      file: describeFile(modelPath, modelBytes),
      assets,
      opset: io.opset,
      inputs: io.inputs,
      outputs: io.outputs,
      preprocess: src.preprocess,
      source: { package: SOURCE_PACKAGE, version: packageVersion, file: src.file, upstream: src.upstream },
      license: LICENSE,
    },
  };
}
