import { describe, expect, it } from 'vitest';
import { isRefusal, RequestAdmission, type Ticket } from './request-admission';

function setup(servers = 1) {
  let clock = 0;
  const adm = new RequestAdmission({ servers: () => servers, marginMs: 0, marginShare: 0, now: () => clock });
  return { adm, at: (t: number) => { clock = t; } };
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
});
