/**
 * Speed presets over the time limit (the budget the planner plans for): a person picks how long they will wait, and
 * the custom field stays behind them for any other value.
 */
export const SPEED_PRESETS = [
  { id: 'fast', label: 'Fast', budgetMs: 1000 },
  { id: 'balanced', label: 'Balanced', budgetMs: 2000 },
  // "No limit" as the field's largest value: the planner then takes its most accurate plan.
  { id: 'best', label: 'Best', budgetMs: 60_000 },
] as const;

/** The preset radio value a budget corresponds to, or 'custom'. */
export function presetValue(budgetMs: number): string {
  return SPEED_PRESETS.some((p) => p.budgetMs === budgetMs) ? String(budgetMs) : 'custom';
}

/**
 * Keeps the preset radios and the time-limit field in step: a preset writes its value into the field (and fires
 * `change`, so it is saved like a typed value); a typed value selects the matching preset or Custom.
 */
export function bindSpeedPresets(radios: HTMLInputElement[], budget: HTMLInputElement): { sync(): void } {
  const sync = (): void => {
    const value = presetValue(Number(budget.value));
    for (const radio of radios) radio.checked = radio.value === value;
  };
  for (const radio of radios) {
    radio.addEventListener('change', () => {
      if (!radio.checked) return;
      if (radio.value === 'custom') {
        budget.focus();
        return;
      }
      budget.value = radio.value;
      budget.dispatchEvent(new Event('change'));
    });
  }
  budget.addEventListener('input', sync);
  budget.addEventListener('change', sync);
  sync();
  return { sync };
}
