import type { Manifest } from '../../../core/models/manifest';
import type { ModelRecord } from '../../model-store';
import { modelFiles } from '../../model-store/download';
import type { ModelVariant } from '../../worker/api';
import { DEVICE_VARIANTS, pickModels } from '../../worker/model-choice';
import { el, formatBytes } from '../dom';

export interface VariantSet {
  variant: ModelVariant;
  /** Bytes of detector, classifier, recogniser and dictionary (decoded). */
  bytes: number;
  stored: boolean;
  names: string[];
}

const VARIANT_LABEL: Record<ModelVariant, string> = {
  'int8-weights': 'Compact (int8 weights)',
  int8: 'Integer (static int8)',
  fp16: 'Half precision (fp16)',
  fp32: 'Full precision (fp32)',
};

/** Every variant set the manifest offers, its size, and whether all of it is stored. */
export function variantSets(manifest: Manifest, records: ModelRecord[]): VariantSet[] {
  const stored = new Map(records.map((r) => [r.name, r.file.sha256]));
  const sets: VariantSet[] = [];
  for (const variant of DEVICE_VARIANTS) {
    let models;
    try {
      models = Object.values(pickModels(manifest, variant));
    } catch {
      continue;
    }
    sets.push({
      variant,
      bytes: modelFiles(models).reduce((sum, f) => sum + f.bytes, 0),
      stored: models.every((m) => stored.get(m.name) === m.file.sha256),
      names: models.map((m) => m.name),
    });
  }
  return sets;
}

export interface VariantActions {
  keep(variant: ModelVariant): void;
  remove(set: VariantSet): void;
}

export function renderVariants(list: HTMLUListElement, sets: VariantSet[], inUse: ModelVariant | undefined, actions: VariantActions): void {
  if (sets.length === 0) {
    list.replaceChildren(el('li', { className: 'empty', textContent: 'The model list is not available offline until it has been downloaded once.' }));
    return;
  }
  list.replaceChildren(
    ...sets.map((set) => {
      const button = set.stored
        ? el('button', { className: 'button danger', type: 'button', textContent: 'Delete' })
        : el('button', { className: 'button', type: 'button', textContent: 'Keep on this phone' });
      // The visible words first, so voice control finds the button by what it shows.
      button.setAttribute('aria-label', `${button.textContent}: ${VARIANT_LABEL[set.variant]}`);
      button.addEventListener('click', () => (set.stored ? actions.remove(set) : actions.keep(set.variant)));
      const item = el(
        'li',
        {},
        el(
          'span',
          {},
          VARIANT_LABEL[set.variant] + (set.variant === inUse ? ' — used by this phone' : ''),
          el('small', { textContent: `${formatBytes(set.bytes)} · ${set.stored ? 'on this phone' : 'not downloaded'}` }),
        ),
        button,
      );
      Object.assign(item.dataset, { variant: set.variant, stored: String(set.stored), bytes: String(set.bytes), inUse: String(set.variant === inUse) });
      return item;
    }),
  );
}
