import type { Manifest, ManifestModel } from '../../core/models/manifest';
import type { OcrRole } from '../../core/ocr/types';
import { codedError } from '../coded-error';
import type { ModelVariant } from './api';

const ROLE_TASK: Record<OcrRole, ManifestModel['task']> = {
  det: 'text-detection',
  cls: 'text-orientation',
  rec: 'text-recognition',
};

/** Every variant set a device can load (`?variant=`), smallest download first. */
export const DEVICE_VARIANTS: readonly ModelVariant[] = ['int8-weights', 'int8', 'fp16', 'fp32'];

/**
 * What a phone downloads unless told otherwise: int8 weights (4.4 MB for detector, classifier and recogniser against
 * 16.1 MB in fp32) read within 0.4 points of fp32's word recall on the dev set (0.887 against 0.891,
 * bench/eval-ocr/results/device-int8-weights.json), and the
 * runtime folds them back to float at load, so they run at fp32's speed. Static int8 is a larger download (5.5 MB)
 * and its recogniser loses 0.7 points.
 */
export const DEFAULT_DEVICE_VARIANT: ModelVariant = 'int8-weights';

export function isDeviceVariant(value: string | null): value is ModelVariant {
  return DEVICE_VARIANTS.includes(value as ModelVariant);
}

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
