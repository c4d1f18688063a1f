import { beforeAll, describe, expect, it, vi } from 'vitest';
import type { RequestInfo } from '../../core/placement';
import { buildObservation, linkSamples } from '../../core/placement/observation-builder';
import type { EdgeOcrOptions, EdgeOcrResult } from '../edge-client';
import { edgeReplyOf } from '../edge-client/reply-fixture';
import { PagePlanner } from '../placement/page-planner';
import { runOcr, type OcrOutcome, type RunContext } from './run-ocr';

// The real page planner (example profiles: no server here); the edge is scripted by detector side. The first plan is
// held at 320 px, as Tandem chose for receipts whose larger sides were all predicted late.
const lineAt = (k: number) => ({
  text: `line ${k}`,
  score: 1,
  boxScore: 1,
  box: [
    [0, 10 * k],
    [400, 10 * k],
    [400, 10 * k + 8],
    [0, 10 * k + 8],
  ],
  rotated: false,
});

function reply(lines: number, image: { width: number; height: number }): EdgeOcrResult {
  return edgeReplyOf(
    Array.from({ length: lines }, (_, k) => lineAt(k)),
    image,
    { up: 137_000, down: 3000 },
  );
}

const image = { width: 1080, height: 1527 };

async function setUp(secondLook: (options: EdgeOcrOptions) => Promise<EdgeOcrResult>) {
  const p = await PagePlanner.create('fp32', { learned: false });
  const tandem = p.planner.policy;
  const decide = p.decide.bind(p);
  p.decide = (obs, mode) => {
    p.planner.policy = { ...tandem, allows: (plan) => plan.kind === 'edge' && plan.config.maxSide === 320 && !plan.race };
    try {
      return { ...decide(obs, mode), policy: tandem };
    } finally {
      p.planner.policy = tandem;
    }
  };
  const calls: EdgeOcrOptions[] = [];
  const firstAnswers: OcrOutcome[] = [];
  const link = linkSamples({ atMs: performance.now(), rttMs: 10, upKbps: 20_000, downKbps: 50_000 });
  const context: RunContext = {
    planner: p,
    observe: (request: RequestInfo) => buildObservation({ nowMs: performance.now(), request, ...link }),
    executors: {
      deviceReady: () => Promise.reject(new Error('no device run expected')),
      deviceOcr: () => Promise.reject(new Error('no device run expected')),
      reencode: () => Promise.reject(new Error('no re-encode expected')),
      edgeOcr: (_, options) => {
        calls.push(options);
        return options.maxSide === 320 ? Promise.resolve(reply(0, image)) : secondLook(options);
      },
      now: () => performance.now(),
    },
    deviceInfo: () => undefined,
    imageSize: image,
    budgetMs: 2000,
    onFirstAnswer: (first) => firstAnswers.push(first),
  };
  const photo = new Blob([new Uint8Array(137_000)], { type: 'image/jpeg' });
  return { context, photo, calls, firstAnswers };
}

describe('a second look after a read far short of the lines expected', () => {
  // The edge's answer names the page's host.
  beforeAll(() => vi.stubGlobal('location', { href: 'http://edge.test/' }));

  it('reads the photo again at a larger side and shows that answer when it arrives in time', async () => {
    const { context, photo, calls, firstAnswers } = await setUp(async () => reply(38, image));
    const outcome = await runOcr(photo, 'auto', context);
    expect(calls.map((c) => c.maxSide)).toEqual([320, expect.any(Number)]);
    expect(calls[1].maxSide).toBeGreaterThan(320);
    // The second request carries what is left of the budget, so the edge can refuse what it cannot finish in it.
    expect(calls[1].budgetMs).toBeGreaterThan(0);
    expect(calls[1].budgetMs).toBeLessThan(2000);
    expect(firstAnswers).toHaveLength(1);
    expect(firstAnswers[0].lines).toHaveLength(0);
    expect(outcome.lines).toHaveLength(38);
    expect(outcome.secondLook).toMatchObject({ used: true, firstLines: 0, lines: 38 });
    expect(outcome.placement.decision.plan.config.maxSide).toBe(320);
  });

  it('keeps the first answer and withdraws the request when the second look is late', async () => {
    let withdrawn = false;
    const { context, photo, calls } = await setUp(
      (options) =>
        new Promise<EdgeOcrResult>((_, reject) =>
          options.signal!.addEventListener('abort', () => {
            withdrawn = true;
            reject(options.signal!.reason);
          }),
        ),
    );
    const started = performance.now();
    const outcome = await runOcr(photo, 'auto', context);
    expect(calls).toHaveLength(2);
    expect(withdrawn).toBe(true);
    expect(performance.now() - started).toBeLessThan(2500);
    expect(outcome.lines).toHaveLength(0);
    expect(outcome.secondLook).toMatchObject({ used: false, lines: null });
    expect(outcome.secondLook!.note).toMatch(/within the budget/);
    expect(outcome.wallMs).toBeGreaterThanOrEqual(outcome.secondLook!.firstMs);
  });

  it('does not look again in the forced modes', async () => {
    const { context, photo, calls } = await setUp(async () => reply(38, image));
    const outcome = await runOcr(photo, 'edge', context);
    expect(calls).toHaveLength(1);
    expect(outcome.secondLook).toBeUndefined();
  });
});
