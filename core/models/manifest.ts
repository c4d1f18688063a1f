/** Schema of models/repository/manifest.json: what every consumer (server, worker, model store, tools) reads. */

export type TensorDatatype = 'FP32' | 'FP16' | 'INT8' | 'UINT8' | 'INT32' | 'INT64' | 'BOOL' | 'BYTES';

export interface ManifestTensor {
  name: string;
  datatype: TensorDatatype;
  /** -1 marks a dynamic dimension (as in the Open Inference Protocol). */
  shape: number[];
  /** Symbolic names of dynamic dimensions as stored in the graph, index-aligned with `shape` (null when static). */
  dimNames?: (string | null)[];
}

export type Preprocess =
  | {
      kind: 'det';
      /** Pixel order fed to the model. */
      channels: 'RGB' | 'BGR';
      mean: [number, number, number];
      std: [number, number, number];
      /** Longest side limit before rounding to `multiple`. */
      maxSide: number;
      multiple: number;
    }
  | {
      kind: 'rec' | 'cls';
      channels: 'RGB' | 'BGR';
      mean: [number, number, number];
      std: [number, number, number];
      height: number;
      /** For cls a fixed width; for rec the widest crop fed (wider crops are squeezed). */
      maxWidth: number;
    };

export interface ManifestFile {
  /** Path relative to the repository root, with forward slashes. */
  path: string;
  bytes: number;
  sha256: string;
}

/** How a variant was made from another repository model (absent for models taken as published). */
export interface ModelDerivation {
  /** The model it was made from, by manifest name/version, and that file's sha256. */
  from: { name: string; version: string; sha256: string };
  method: 'weight-only-int8' | 'float16' | 'static-qdq-int8' | 'compact-io';
  /** Repository-relative path of the code that made it. */
  tool: string;
  /** Method settings, as recorded by the tool (JSON values). */
  params: Record<string, unknown>;
  /** For methods that looked at data: what data and how ranges were taken from it. */
  calibration?: { method: string; data: unknown };
}

export interface ManifestModel {
  name: string;
  version: string;
  /** `compact`: fp32 weights with 8-bit crops in and CTC steps out, for recognition across the network. */
  variant: 'fp32' | 'fp16' | 'int8' | 'int8-weights' | 'compact';
  task: 'text-detection' | 'text-orientation' | 'text-recognition';
  file: ManifestFile;
  /** Extra files the model needs (e.g. the recogniser's character dictionary). */
  assets: Record<string, ManifestFile>;
  opset: number;
  inputs: ManifestTensor[];
  outputs: ManifestTensor[];
  preprocess: Preprocess;
  source: { package: string; version: string; file: string; upstream: string };
  license: string;
  derivation?: ModelDerivation;
}

export interface Manifest {
  schema: 1;
  models: ManifestModel[];
}
