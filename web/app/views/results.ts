import { fetchText, REASON_TEXT } from '../../../core/placement';
import { el, formatMs } from '../dom';
import type { Escalated, OcrOutcome, SecondLook } from '../run-ocr';

export interface ResultViews {
  where: HTMLElement;
  plan: HTMLElement;
  timings: HTMLTableElement;
  prediction: HTMLTableElement;
}

export function renderResult(outcome: OcrOutcome, v: ResultViews): void {
  const { decision, label, why, whyText } = outcome.placement;
  const note = outcome.fellBack
    ? ` (edge failed: ${outcome.fellBack})`
    : outcome.retried
      ? ` (asked again without a deadline after: ${outcome.retried})`
      : outcome.raceWon === 'device'
        ? ' (won the race against the edge)'
        : '';
  v.where.textContent = `Ran on: ${outcome.where}${note} · ${(outcome.wallMs / 1000).toFixed(1)} s`;
  v.where.dataset.target = outcome.target;
  v.where.dataset.reason = outcome.mode === 'auto' ? decision.reason : 'chosen';
  v.where.dataset.constraints = decision.constraints.join(' ');

  v.plan.replaceChildren(
    el('strong', { textContent: outcome.mode === 'auto' ? `Plan: ${label}` : `Plan (${outcome.mode} chosen): ${label}` }),
    ...(outcome.recognitionLabel ? [el('br'), el('span', { textContent: `After detection: ${outcome.recognitionLabel}` })] : []),
    ...(outcome.secondLook ? [el('br'), el('span', { className: 'second-look', textContent: secondLookText(outcome.secondLook) })] : []),
    ...(outcome.escalated ? [el('br'), el('span', { className: 'escalated', textContent: escalatedText(outcome.escalated) })] : []),
    el('br'),
    ...(outcome.mode === 'auto'
      ? [
          el('span', {
            className: 'why',
            textContent:
              `${REASON_TEXT[decision.reason] ?? decision.reason}${decision.fetch ? ` ${fetchText(decision.fetch)}` : ''}` +
              ` Why here: ${whyText}. Decided by the ${outcome.placement.policy.name} policy.`,
          }),
          el('br'),
        ]
      : []),
    el('span', {
      className: 'why',
      textContent:
        `Predicted ${formatMs(decision.predicted.expectedMs)} (p95 ${formatMs(decision.predicted.p95Ms)}) for a budget of ${formatMs(decision.budgetMs)}` +
        `${outcome.profiles === 'example' ? ' from example figures' : ''}; uplink ${Math.round(decision.inputs.upKbps)} kbit/s (${decision.inputs.bandwidthSource}), RTT ${formatMs(decision.inputs.rttMs)}.`,
    }),
  );
  Object.assign(v.plan.dataset, {
    plan: decision.plan.id,
    policy: outcome.placement.policy.name,
    kind: decision.plan.kind,
    race: String(decision.plan.race),
    raceWon: outcome.raceWon ?? '',
    ranOn: outcome.target,
    recognition: outcome.recognitionLabel ?? '',
    edgeLines: String(outcome.split?.edgeLines ?? 0),
    reason: decision.reason,
    why,
    constraints: decision.constraints.join(' '),
    maxSide: String(decision.plan.config.maxSide),
    variant: decision.plan.config.variant,
    fetchBytes: String(Math.round(decision.fetch?.bytes ?? 0)),
    upload: decision.plan.upload?.kind ?? '',
    fits: String(decision.fits),
    profiles: outcome.profiles,
    predictedMs: decision.predicted.expectedMs.toFixed(1),
    p95Ms: decision.predicted.p95Ms.toFixed(1),
    upKbps: decision.inputs.upKbps.toFixed(0),
  });

  const rows = [...outcome.stages, ['wall', outcome.wallMs] as [string, number]].map(([stage, ms]) => {
    const row = el(
      'tr',
      { className: stage === 'total' || stage === 'wall' ? 'total' : '' },
      el('th', { textContent: stage }),
      el('td', { textContent: formatMs(ms) }),
    );
    row.dataset.stage = stage;
    row.dataset.ms = ms.toFixed(2);
    return row;
  });
  v.timings.tBodies[0]!.replaceChildren(...rows);

  const cell = (ms: number | null) => el('td', { textContent: ms === null ? '–' : formatMs(ms) });
  v.prediction.tBodies[0]!.replaceChildren(
    ...outcome.comparison.map((r) => {
      const row = el('tr', { className: r.stage === 'total' ? 'total' : '' }, el('th', { textContent: r.stage }), cell(r.predictedMs), cell(r.actualMs));
      row.dataset.stage = r.stage;
      if (r.predictedMs !== null) row.dataset.predicted = r.predictedMs.toFixed(2);
      if (r.actualMs !== null) row.dataset.actual = r.actualMs.toFixed(2);
      return row;
    }),
  );
}

/** E.g. "The edge looked again at 960 px: 6 lines at 480 px were far fewer than this photo was expected to hold." */
function escalatedText(e: Escalated): string {
  return `The edge looked again at ${e.toSide} px: ${e.firstLines} line${e.firstLines === 1 ? '' : 's'} at ${e.fromSide} px were far fewer than this photo was expected to hold.`;
}

/** E.g. "Second look: Edge · detector fp32 @ 960 · upload original (6 lines at first, 38 now): its answer is shown." */
function secondLookText(look: SecondLook): string {
  const found = look.lines === null ? `${look.firstLines} lines at first` : `${look.firstLines} lines at first, ${look.lines} then`;
  return `Second look (${look.why}): ${look.label} (${found}): ${look.used ? 'its answer is shown' : `the first answer stands, ${look.note ?? ''}`}.`;
}
