import { describe, expect, it } from 'vitest';
import {
  admit,
  admitSchedulable,
  edfInsert,
  estimateFor,
  isLate,
  nextLateAt,
  predictInProgressWait,
  predictWait,
  retryAfterSeconds,
  type Scheduled,
} from './edf';

const job = (seq: number, deadline: number, estimateMs = 10): Scheduled => ({ seq, deadline, estimateMs });

describe('EDF scheduling', () => {
  it('orders by deadline, FIFO among equal deadlines, jobs without budget last', () => {
    const q: Scheduled[] = [];
    for (const j of [job(1, Infinity), job(2, 500), job(3, 100), job(4, 500), job(5, Infinity), job(6, 50)]) edfInsert(q, j);
    expect(q.map((j) => j.seq)).toEqual([6, 3, 2, 4, 1, 5]);
  });

  it('predicts the wait from running remainders and the queued work served first', () => {
    const running = [
      { startedAt: 0, estimateMs: 100 },
      { startedAt: 50, estimateMs: 100 },
    ];
    const queue = [job(1, 200, 40), job(2, 300, 40), job(3, Infinity, 1000)];
    // now=60: workers free at 40 and 90; job 1 → worker A (free 80), job 2 → worker A again (free 90 vs 80 → A: 120).
    expect(predictWait(60, 2, running, queue, 250)).toBe(80); // only job 1 is ahead
    expect(predictWait(60, 2, running, queue, 300)).toBe(90); // jobs 1 and 2 ahead (equal deadline arrived first)
    expect(predictWait(60, 2, running, queue, Infinity)).toBe(120);
    expect(predictWait(0, 3, [], [], 10)).toBe(0);
    // A running job past its estimate counts as about to finish, not as negative time.
    expect(predictWait(500, 1, [{ startedAt: 0, estimateMs: 100 }], [], 600)).toBe(0);
  });

  it('predicts the wait behind multi-stage requests in progress from their remaining work', () => {
    const inProgress = [
      { seq: 1, deadline: 1000, estimateMs: 600, startedAt: 0 }, // 100 ms in: 500 left
      { seq: 2, deadline: 1500, estimateMs: 400, startedAt: 50 }, // 350 left
      { seq: 3, deadline: 900, estimateMs: 50, startedAt: 0 }, // overran its estimate: 0 left
      { seq: 4, deadline: Infinity, estimateMs: 5000, startedAt: 90 }, // no budget: never ahead of a budgeted request
    ];
    expect(predictInProgressWait(100, 1, inProgress, 1200)).toBe(500);
    expect(predictInProgressWait(100, 1, inProgress, 2000)).toBe(850);
    expect(predictInProgressWait(100, 2, inProgress, 2000)).toBe(350);
    expect(predictInProgressWait(100, 2, inProgress, 800)).toBe(0);
  });

  it('admits only what is predicted to finish within the budget', () => {
    expect(admit(1000, 1100, 30, 60)).toEqual({ ok: true, predictedMs: 90, budgetMs: 100 });
    expect(admit(1000, 1100, 50, 60)).toEqual({ ok: false, predictedMs: 110, budgetMs: 100 });
    expect(admit(1000, 1000, 0, 0).ok).toBe(false); // nothing left
    expect(admit(1000, Infinity, 1e9, 1e9).ok).toBe(true);
  });

  it('finds late jobs and when the next one becomes late', () => {
    const q = [job(1, 100, 30), job(2, 90, 5), job(3, Infinity, 5)];
    expect(nextLateAt(q)).toBe(70);
    expect(isLate(70, q[0])).toBe(false);
    expect(isLate(71, q[0])).toBe(true);
    expect(isLate(1e12, q[2])).toBe(false);
    expect(nextLateAt([job(1, Infinity)])).toBe(Infinity);
  });

  it('estimates unseen sizes from the nearest measured size, scaled by elements', () => {
    const measured = new Map([
      ['1x3x480x640', 100],
      ['1x3x960x960', 320],
    ]);
    expect(estimateFor(measured, '1x3x480x640')).toBe(100);
    expect(estimateFor(measured, '1x3x960x1280')).toBeCloseTo((320 * (960 * 1280)) / (960 * 960));
    expect(estimateFor(measured, '1x3x240x640')).toBeCloseTo(50);
    expect(estimateFor(new Map(), '1x3x32x32')).toBeNull();
  });

  it('asks to retry once the backlog should have cleared', () => {
    expect(retryAfterSeconds(0)).toBe(1);
    expect(retryAfterSeconds(2500)).toBe(3);
  });
});

describe('admitSchedulable', () => {
  const running = (seq: number, deadline: number, estimateMs: number, startedAt: number) => ({ seq, deadline, estimateMs, startedAt });

  it('admits when the candidate and every request in progress still finish in time', () => {
    // One server: request 1 has 60 ms left (started at 0, estimate 100, now 40); the candidate needs 100 → 160.
    const v = admitSchedulable(40, 1, [running(1, 500, 100, 0)], job(2, 600, 100));
    expect(v).toEqual({ ok: true, predictedMs: 160, wouldDelay: 0 });
  });

  it('refuses a candidate predicted to finish after its deadline', () => {
    expect(admitSchedulable(40, 1, [running(1, 150, 100, 0)], job(2, 150, 100))).toMatchObject({ ok: false, predictedMs: 160 });
  });

  it('refuses a candidate whose earlier deadline would push an admitted request late', () => {
    // Alone, request 1 finishes at 100 (deadline 150). The candidate (deadline 120) would run first under EDF: 1 ends at 150+.
    const v = admitSchedulable(0, 1, [running(1, 150, 100, 0)], job(2, 120, 60));
    expect(v).toMatchObject({ ok: false, wouldDelay: 1 });
    // With a second server both fit.
    expect(admitSchedulable(0, 2, [running(1, 150, 100, 0)], job(2, 120, 60)).ok).toBe(true);
  });

  it('does not blame the candidate for a request that was late anyway, and keeps a floor of work for overdue ones', () => {
    const overdue = running(1, 100, 100, 0); // at now=200 it is overdue: 10 ms (10 %) assumed left
    expect(admitSchedulable(200, 1, [overdue], job(2, 400, 100))).toEqual({ ok: true, predictedMs: 110, wouldDelay: 0 });
  });
});
