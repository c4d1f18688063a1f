/** The profiled model list: every manifest model, addressed as `<family>@<variant>` (e.g. `ppocr-det@int8-weights`). */
import type { Manifest, ManifestModel } from '../../core/models/manifest';
import type { OcrRole } from '../../core/ocr/types';
import type { ProfiledModel } from '../../core/profiles';

const ROLE_OF_TASK: Record<ManifestModel['task'], OcrRole> = {
  'text-detection': 'det',
  'text-orientation': 'cls',
  'text-recognition': 'rec',
};

/** A variant's family is the model it was derived from; a published model is its own family. */
export function familyOf(model: ManifestModel): string {
  return model.derivation?.from.name ?? model.name;
}

export function profiledId(model: ManifestModel): string {
  return `${familyOf(model)}@${model.variant}`;
}

export interface ProfiledManifestModel extends ProfiledModel {
  /** Path inside the repository. */
  path: string;
}

export function profiledModels(manifest: Manifest): ProfiledManifestModel[] {
  const out = manifest.models.map((m) => ({
    id: profiledId(m),
    name: m.name,
    variant: m.variant,
    role: ROLE_OF_TASK[m.task],
    weightBytes: m.file.bytes,
    path: m.file.path,
  }));
  const ids = new Set<string>();
  for (const m of out) {
    if (ids.has(m.id)) throw new Error(`two manifest models share the profile id ${m.id}`);
    ids.add(m.id);
  }
  return out;
}

/** The published (fp32) model of a role: the configuration the others are compared with. */
export function baseModel(models: readonly ProfiledManifestModel[], role: OcrRole): ProfiledManifestModel {
  const m = models.find((x) => x.role === role && x.variant === 'fp32');
  if (!m) throw new Error(`the manifest has no fp32 ${role} model`);
  return m;
}
