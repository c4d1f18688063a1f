import type { OcrLine } from '../../../core/ocr/types';
import { el } from '../dom';

/**
 * The lines as selectable text, one list item each. Tapping (or Enter/Space on) a line selects it, so the page can
 * highlight its box on the photo; `select` marks a line chosen on the photo.
 */
export class LinesView {
  private items: HTMLLIElement[] = [];

  constructor(
    private readonly list: HTMLOListElement,
    private readonly onSelect: (index: number) => void,
  ) {}

  /** `image`: the size the boxes are measured in; each item carries its box centre as a share of it (`data-centre`). */
  render(lines: OcrLine[], image: { width: number; height: number }): void {
    this.items = lines.map((line, i) => {
      const item = el('li', { tabIndex: 0, title: `confidence ${Math.round(line.score * 100)}%` }, el('span', { className: 'text', textContent: line.text }));
      item.dataset.index = String(i);
      const cx = line.box.reduce((s, p) => s + p[0], 0) / 4 / image.width;
      const cy = line.box.reduce((s, p) => s + p[1], 0) / 4 / image.height;
      item.dataset.centre = `${cx.toFixed(4)},${cy.toFixed(4)}`;
      item.addEventListener('click', () => {
        // A drag that selected text in this line is a selection, not a tap.
        const selection = getSelection();
        if (selection && !selection.isCollapsed && selection.containsNode(item, true)) return;
        this.onSelect(i);
      });
      item.addEventListener('keydown', (event) => {
        if (event.key !== 'Enter' && event.key !== ' ') return;
        event.preventDefault();
        this.onSelect(i);
      });
      return item;
    });
    this.list.replaceChildren(...this.items);
    if (lines.length === 0) this.list.append(el('li', { className: 'empty', textContent: 'No text found.' }));
  }

  select(index: number, scroll = false): void {
    this.items.forEach((item, i) => {
      if (i === index) item.setAttribute('aria-current', 'true');
      else item.removeAttribute('aria-current');
    });
    if (scroll) this.items[index]?.scrollIntoView({ block: 'nearest' });
  }
}

/** The text to copy or share: the lines in reading order, one per row. */
export function linesText(lines: readonly { text: string }[]): string {
  return lines.map((l) => l.text).join('\n');
}
