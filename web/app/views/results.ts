import { el, formatMs } from '../dom';
import type { OcrOutcome } from '../run-ocr';

export function renderResult(outcome: OcrOutcome, where: HTMLElement, lines: HTMLOListElement, timings: HTMLTableElement): void {
  where.textContent = `Ran on: ${outcome.where}` + (outcome.fellBack ? ` (edge failed: ${outcome.fellBack})` : '');
  where.dataset.target = outcome.target;
  where.dataset.reason = outcome.placement.reason;

  lines.replaceChildren(
    ...outcome.lines.map((line) =>
      el(
        'li',
        {},
        el('span', { className: 'text', textContent: line.text }),
        el('span', { className: 'score', textContent: line.score.toFixed(3), title: `box score ${line.boxScore.toFixed(3)}` }),
      ),
    ),
  );
  if (outcome.lines.length === 0) lines.append(el('li', { className: 'empty', textContent: 'No text found.' }));

  const rows = [...outcome.stages, ['wall', outcome.wallMs] as [string, number]].map(([stage, ms]) => {
    const row = el('tr', { className: stage === 'total' || stage === 'wall' ? 'total' : '' }, el('th', { textContent: stage }), el('td', { textContent: formatMs(ms) }));
    row.dataset.stage = stage;
    row.dataset.ms = ms.toFixed(2);
    return row;
  });
  timings.tBodies[0]!.replaceChildren(...rows);
}
