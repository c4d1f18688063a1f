import type { Manifest, ManifestModel } from '../../core/models/manifest';
import type { OcrRole } from '../../core/ocr/types';
import { codedError } from '../coded-error';
import type { ModelVariant } from './api';

const ROLE_TASK: Record<OcrRole, ManifestModel['task']> = {
  det: 'text-detection',
  cls: 'text-orientation',
  rec: 'text-recognition',
};

/** One model per pipeline role, all of the wanted variant (the server offers several; the phone needs three). */
export function pickModels(manifest: Manifest, variant: ModelVariant): Record<OcrRole, ManifestModel> {
  const pick = (role: OcrRole): ManifestModel => {
    const task = ROLE_TASK[role];
    const model = manifest.models.find((m) => m.task === task && m.variant === variant);
    if (!model) {
      const offered = manifest.models.filter((m) => m.task === task).map((m) => m.variant);
      throw codedError('ModelUnavailable', `The server offers no ${variant} ${task} model (offered: ${offered.join(', ') || 'none'}).`);
    }
    return model;
  };
  return { det: pick('det'), cls: pick('cls'), rec: pick('rec') };
}
