import type { ModelRecord } from '../../model-store';
import { el, formatBytes } from '../dom';

export function renderModels(list: HTMLUListElement, records: ModelRecord[], onDelete: (name: string) => void): void {
  if (records.length === 0) {
    list.replaceChildren(el('li', { className: 'empty', textContent: 'No models stored yet. They download on first use on this device.' }));
    return;
  }
  list.replaceChildren(
    ...records.map((record) => {
      const remove = el('button', { className: 'button danger', type: 'button', textContent: 'Delete' });
      remove.addEventListener('click', () => onDelete(record.name));
      const item = el(
        'li',
        {},
        el(
          'span',
          {},
          `${record.name} v${record.version} (${record.variant})`,
          el('small', { textContent: `${formatBytes(record.totalBytes)} · stored ${new Date(record.storedAt).toLocaleString()}` }),
        ),
        remove,
      );
      item.dataset.model = record.name;
      return item;
    }),
  );
}

export function renderProgress(wrap: HTMLElement, bar: HTMLProgressElement, label: HTMLElement, loaded: number, total: number): void {
  wrap.hidden = loaded >= total;
  bar.max = Math.max(1, total);
  bar.value = loaded;
  label.textContent = `Downloading models ${formatBytes(loaded)} / ${formatBytes(total)}`;
}
