import { describe, expect, it } from 'vitest';
import { summaryText, type ChartRun } from './runs-chart';

const run = (where: ChartRun['where'], seconds: number, budgetSeconds = 2): ChartRun => ({ seq: 0, seconds, where, budgetSeconds, p95Seconds: null });

describe('summaryText', () => {
  it('counts requests by where they ran and those within the limit', () => {
    expect(summaryText([run('phone', 1), run('edge', 3), run('phone', 0.5)])).toBe('Last 3 requests: 2 on this phone, 1 on the edge; 2 within the time limit.');
  });

  it('says when there is nothing to show', () => {
    expect(summaryText([])).toBe('No requests yet.');
  });
});
