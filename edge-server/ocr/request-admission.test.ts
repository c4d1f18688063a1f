import { describe, expect, it } from 'vitest';
import { isRefusal, kindLevels, RequestAdmission, type Ticket } from './request-admission';

function setup(servers = 1, priorScale = 1) {
  let clock = 0;
  const adm = new RequestAdmission({ servers: () => servers, marginMs: 0, marginShare: 0, priorScale, now: () => clock });
  return {
    adm,
    at: (t: number) => {
      clock = t;
    },
  };
}

/** Teaches `ms` as the execution time of `kind` (and of requests in general). */
function teach(adm: RequestAdmission, kind: string, ...ms: number[]) {
  for (const m of ms) adm.release(adm.admit(Infinity, kind) as Ticket, m);
}

describe('RequestAdmission', () => {
  it('admits everything while nothing is measured, and requests without budget always', () => {
    const { adm } = setup();
    expect(isRefusal(adm.admit(1))).toBe(false);
    expect(isRefusal(adm.admit(Infinity))).toBe(false);
    expect(adm.active).toBe(2);
  });

  it('refuses on arrival what the requests in progress leave no room for, with the predicted time', () => {
    const { adm, at } = setup();
    teach(adm, '720p', 100, 100, 100);
    const first = adm.admit(170, '720p');
    expect(isRefusal(first)).toBe(false);
    at(10);
    const second = adm.admit(180, '720p'); // 90 left of the first + 100 > 170 left
    expect(second).toMatchObject({ predictedMs: 190, budgetMs: 170, retryAfterS: 1 });
    adm.release(first as Ticket, 100);
    expect(isRefusal(adm.admit(180, '720p'))).toBe(false);
  });

  it('does not admit an urgent request that would make an admitted one late', () => {
    const { adm } = setup();
    teach(adm, 'a', 100, 100, 100);
    expect(isRefusal(adm.admit(190, 'a'))).toBe(false);
    // Alone it would fit (deadline 120), but EDF would run it first and the first request would end at 200 > 190.
    expect(adm.admit(120, 'a')).toMatchObject({ predictedMs: 100 });
  });

  it('counts as started only the requests the servers can have been working on', () => {
    const { adm, at } = setup(1);
    teach(adm, 'k', 100, 100, 100);
    for (let i = 0; i < 3; i++) expect(isRefusal(adm.admit(300, 'k'))).toBe(false);
    at(150);
    // One server for 150 ms: the first is done with its estimate, the second half-way, the third not started, so
    // 10 (a tenth kept by the one past its estimate) + 50 + 100 ms are ahead of a newcomer, not 3 x 10.
    expect(adm.admit(350, 'k')).toMatchObject({ predictedMs: 260, budgetMs: 200 });
    expect(isRefusal(adm.admit(420, 'k'))).toBe(false);
  });

  it('counts no work for requests past their deadline, and none of those without budget for one with a budget', () => {
    const { adm, at } = setup(1);
    teach(adm, 'k', 100, 100, 100);
    const budgeted = adm.admit(150, 'k') as Ticket;
    const noBudget = adm.admit(Infinity, 'k') as Ticket;
    expect(isRefusal(budgeted) || isRefusal(noBudget)).toBe(false);
    expect(adm.predictedWaitMs()).toBe(200);
    expect(adm.predictedWaitMs(true)).toBe(100);
    at(20);
    expect(adm.predictedWaitMs(true)).toBe(80);
    // Past its deadline the first one is given up by the pipeline: nothing of it is ahead of a newcomer any more.
    at(160);
    expect(adm.predictedWaitMs(true)).toBe(0);
    expect(adm.admit(260, 'k')).not.toHaveProperty('retryAfterS');
    adm.release(budgeted);
    adm.release(noBudget);
  });

  it('refines the estimate once the kind is known and releases a request it then refuses', () => {
    const { adm, at } = setup();
    teach(adm, 'small', 50, 50, 50);
    teach(adm, 'large', 400, 400, 400);
    const t = adm.admit(300) as Ticket; // unknown kind: admitted while idle on the p50 over all kinds (50)
    expect(isRefusal(t)).toBe(false);
    at(20);
    expect(adm.refine(t, 'large')).toMatchObject({ budgetMs: 280 });
    expect(adm.active).toBe(0);
    const u = adm.admit(300) as Ticket;
    expect(adm.refine(u, 'small')).toBeNull();
    expect(adm.active).toBe(1);
    // Within the tolerance of what it was admitted on, a request is not tested again.
    teach(adm, 'similar', 55, 55, 55);
    const v = adm.admit(300, 'small') as Ticket;
    expect(adm.refine(v, 'similar')).toBeNull();
    expect(v.kind).toBe('similar');
  });

  it('refines a request alone on the server on lone runs, not on the times of a burst before it', () => {
    const { adm } = setup();
    teach(adm, 'k', 50, 50, 50);
    // A burst: every request's time includes the others' work on the same cores.
    const burst = Array.from({ length: 4 }, () => adm.admit(Infinity, 'k') as Ticket);
    for (const t of burst) adm.release(t, 400);
    const t = adm.admit(300) as Ticket;
    expect(adm.refine(t, 'k')).toBeNull();
    expect(adm.active).toBe(1);
    // With another request in progress, the burst's p90 is the evidence.
    const other = adm.admit(Infinity, 'k') as Ticket;
    const u = adm.admit(1000) as Ticket;
    expect(adm.refine(u, 'k')).toBeNull();
    expect(u.estimateMs).toBe(400);
    adm.release(other);
  });

  it('judges a request on the finest level of its kind that has been measured', () => {
    expect(kindLevels('960/-@landscape@736x1280')).toEqual(['960/-', '960/-@landscape', '960/-@landscape@736x1280']);
    expect(kindLevels(null)).toEqual([]);
    const { adm } = setup();
    // Recorded on a replayed LTE session: a receipt at 960 px took 2.7 s of work; the next photo, a 1280×720 street
    // scene with 1 s of budget left, was refused on it by an idle server, which reads such a scene in 0.3 s.
    teach(adm, '960/-@portrait@1024x480', 2700);
    const scene = adm.admit(1000, '960/-@landscape');
    expect(isRefusal(scene)).toBe(false);
    adm.release(scene as Ticket);
    // A request that does not say its shape is judged on its options, every shape pooled.
    expect(adm.admit(1000, '960/-')).toMatchObject({ predictedMs: 2700 });
    // Another receipt is judged on the receipts.
    expect(adm.admit(1000, '960/-@portrait')).toMatchObject({ predictedMs: 2700 });
    teach(adm, '960/-@landscape@736x1280', 300);
    expect(adm.estimate('960/-@landscape')).toBe(300);
    expect(adm.estimate('960/-@portrait@1600x736')).toBe(2700);
  });

  it('gives no server time to a request whose body is still arriving', () => {
    const { adm, at } = setup();
    teach(adm, 'k', 100);
    const uploading = adm.admit(1000, 'k', 0, true) as Ticket;
    at(500);
    // Not served while it uploaded: all 100 ms of its work are still ahead of a request arriving now.
    expect(adm.predictedWaitMs(true)).toBe(100);
    adm.refine(uploading, 'k');
    at(550);
    expect(adm.predictedWaitMs(true)).toBe(50);
  });

  it('uses the p90 while busy and the p50 when idle, so stale slow figures do not refuse forever', () => {
    const { adm } = setup(2);
    teach(adm, 'k', 100, 100, 100, 100, 100, 100, 100, 100, 100, 900);
    expect(adm.estimate('k')).toBe(100);
    const busy = adm.admit(Infinity, 'k') as Ticket;
    expect(adm.estimate('k')).toBe(100);
    teach(adm, 'k', 900);
    expect(adm.estimate('k')).toBe(900);
    adm.release(busy);
    expect(adm.estimate('k')).toBe(100);
  });

  it('learns from measured response times how far to trust its predictions while busy', () => {
    const { adm, at } = setup(2);
    teach(adm, 'k', 100, 100, 100);
    expect(adm.calibration()).toBe(1);
    // Five admitted requests each took three times what the schedule predicted (contention it does not model).
    for (let i = 0; i < 5; i++) {
      const t = adm.admit(1000, 'k') as Ticket;
      expect(t.predictedRawMs).toBe(100);
      adm.release(t, 100, 300);
    }
    expect(adm.calibration()).toBe(3);
    // With another request in progress, 100 ms on the free worker fits 250 on the schedule alone; calibrated it needs 300.
    const busy = adm.admit(Infinity, 'k') as Ticket;
    expect(adm.admit(250, 'k')).toMatchObject({ predictedMs: 300, budgetMs: 250 });
    expect(isRefusal(adm.admit(310, 'k'))).toBe(false);
    adm.release(busy);
    // An idle server judges on the estimate alone, so old misses cannot refuse everything for ever.
    const idle = setup(2);
    teach(idle.adm, 'k', 100, 100, 100);
    for (let i = 0; i < 5; i++) idle.adm.release(idle.adm.admit(1000, 'k') as Ticket, 100, 300);
    expect(isRefusal(idle.adm.admit(250, 'k'))).toBe(false);
    // And the evidence expires.
    at(16_000);
    expect(adm.calibration()).toBe(1);
  });

  it('never plans for less than its estimates, and follows recent evidence', () => {
    const { adm } = setup();
    teach(adm, 'k', 100, 100, 100);
    for (let i = 0; i < 10; i++) adm.release(adm.admit(1000, 'k') as Ticket, 100, 40);
    expect(adm.calibration()).toBe(1);
    for (let i = 0; i < 10; i++) adm.release(adm.admit(1000, 'k') as Ticket, 100, 500);
    expect(adm.calibration()).toBe(5);
    for (let i = 0; i < 100; i++) adm.release(adm.admit(1000, 'k') as Ticket, 100, 110);
    expect(adm.calibration()).toBeCloseTo(1.1);
    // Requests without a budget were not predicted, so they teach execution times only.
    adm.release(adm.admit(Infinity, 'k') as Ticket, 100, 5000);
    expect(adm.calibration()).toBeCloseTo(1.1);
  });

  it('judges an idle server on requests that ran alone, so a burst without budgets does not refuse everything after', () => {
    const { adm, at } = setup();
    teach(adm, '720p', 300, 300, 300); // one at a time: 300 ms each
    // A burst of 100 overlapping requests without budget: each took 4.6 s with the others on the same cores.
    const burst = Array.from({ length: 100 }, () => adm.admit(Infinity, '720p') as Ticket);
    at(5_000);
    for (const t of burst) adm.release(t, 4_600);
    at(10_000);
    expect(adm.active).toBe(0);
    // Idle again: a budgeted request that fits a lone run is admitted, one that does not is still refused.
    const fits = adm.admit(10_000 + 1_000, '720p');
    expect(isRefusal(fits)).toBe(false);
    adm.release(fits as Ticket, 310);
    expect(adm.admit(10_000 + 100, '720p')).toMatchObject({ predictedMs: 300 });
  });

  it('admits on an idle server that has only measured overlapping requests, and learns from the one it admits', () => {
    const { adm, at } = setup();
    const burst = Array.from({ length: 10 }, () => adm.admit(Infinity, 'a') as Ticket);
    at(5_000);
    for (const t of burst) adm.release(t, 4_600);
    const first = adm.admit(5_000 + 500, 'a');
    expect(isRefusal(first)).toBe(false);
    at(5_300);
    adm.release(first as Ticket, 300);
    expect(adm.estimate('a')).toBe(300);
  });
});
