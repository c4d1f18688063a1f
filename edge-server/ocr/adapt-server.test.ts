/**
 * Collective adaptation on a real listening server: one single-thread worker with the fp32 and int8 detectors, so a
 * detector run holds the whole pool and the planner's choice decides who meets a budget.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONFIG_HEADER, formatOipAccept, parseOcrConfig } from '../../core/protocol/accept';
import { HEADER_LENGTH_HEADER, type InferenceRequest, type InferenceResponse } from '../../core/protocol/oip';
import { decodeInferenceResponse, encodeInferenceRequest } from '../../core/protocol/oip-codec';
import { BUDGET_HEADER, type OcrResponse, type StatusResponse } from '../../core/protocol/v1';
import { renderTextImage, type TextImage } from '../../test-support/text-image';
import { repositoryAccuracy } from './accept';
import { listen, type Listening } from '../http/listen';
import type { ModelRepository } from '../model-repository';
import { seededFloats, startTestEdge, type TestEdge } from '../test/edge-fixture';

let edge: TestEdge;
let http: Listening;
let base: string;
let fixture: TextImage;
/** A 720p photo-sized page with large text: still readable with the detector at 320 px. */
let page: TextImage;
const PAGE = { width: 1280, height: 720 };

const DET = 'ppocr-det';
const DET_INT8 = 'ppocr-det-int8';
const SHAPE = [1, 3, 640, 960];
const FLEX = formatOipAccept([DET, DET_INT8]);
/** int8's running average must be below this share of fp32's. */
const INT8_FASTER = 0.95;
const DEFAULTS = { det: DET, maxSide: 960, rec: 'ppocr-rec' };

/**
 * The detector the server ranks more accurate: measured word recall from profiles.json when the repository has one
 * (the variants differ by tenths of a point there, either way), else the variant ordering. On a tie the faster runs.
 */
function mostAccurate(repo: ModelRepository, whole: boolean): string {
  const table = repositoryAccuracy(repo, DEFAULTS);
  const score = (det: string) => (whole ? table.ocr({ ...DEFAULTS, det }) : table.model(det));
  return score(DET_INT8) >= score(DET) ? DET_INT8 : DET;
}

beforeAll(async () => {
  [edge, fixture] = await Promise.all([
    startTestEdge({
      MODELS: `${DET},${DET_INT8},ppocr-cls,ppocr-rec`,
      POOL_WORKERS: '1',
      ORT_INTRA_OP_THREADS: '1',
      BATCH_MAX_SIZE: '1',
      MAX_BODY_BYTES: '20000000',
    }),
    renderTextImage({ lines: ['Adapt 7'], width: 320, height: 96 }),
  ]);
  page = await renderTextImage({ lines: ['TANDEM', 'ADAPTS'], ...PAGE, fontSize: 120 });
  http = await listen(edge.app, 0, '127.0.0.1');
  base = `http://127.0.0.1:${http.port}`;
});
afterAll(async () => {
  await http?.close(1000);
  await edge?.dispose();
});

interface Sent {
  status: number;
  ms: number;
  body: InferenceResponse | { code?: string; error?: string };
}

const inputs = new Map<number, Float32Array>();
/** The seeded input, made once per seed: encoding a request is then a copy, so budgets set just before sending hold. */
const input = (seed: number) => {
  if (!inputs.has(seed))
    inputs.set(
      seed,
      seededFloats(
        SHAPE.reduce((a, b) => a * b, 1),
        seed,
      ),
    );
  return inputs.get(seed)!;
};

/** Sends a detector run on the same seeded input every time (binary both ways), timed from the client. */
async function infer(model: string, parameters: InferenceRequest['parameters'] = {}, seed = 1): Promise<Sent> {
  const request: InferenceRequest = {
    inputs: [{ name: 'x', datatype: 'FP32', shape: SHAPE, data: input(seed) }],
    parameters: { binary_data_output: true, ...parameters },
  };
  const wire = encodeInferenceRequest(request, { binaryInputs: true });
  const t = performance.now();
  const res = await fetch(`${base}/v2/models/${model}/infer`, {
    method: 'POST',
    body: wire.body as Uint8Array<ArrayBuffer>,
    headers: { 'content-type': 'application/octet-stream', [HEADER_LENGTH_HEADER]: String(wire.headerLength) },
  });
  const bytes = new Uint8Array(await res.arrayBuffer());
  const ms = performance.now() - t;
  const header = res.headers.get(HEADER_LENGTH_HEADER);
  const body = res.status === 200 ? decodeInferenceResponse(bytes, header === null ? null : Number(header)) : JSON.parse(new TextDecoder().decode(bytes));
  return { status: res.status, ms, body };
}

const ewma = async (model: string) => {
  const status = (await (await fetch(`${base}/v1/status`)).json()) as StatusResponse;
  return status.models.find((m) => m.name === model)!.latency.find((b) => b.size === SHAPE.join('x'))!.ewmaMs;
};

async function untilBusy(): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (edge.pool.status().pool.busy > 0) return;
    await new Promise((r) => setTimeout(r, 2));
  }
  throw new Error('the worker never became busy');
}

/** The map a model gives for the seeded input, to tell from a reply's outputs which model really ran. */
const reference = new Map<string, Float32Array>();
const outputOf = (s: Sent) => (s.body as InferenceResponse).outputs[0].data as Float32Array;
const sameAs = (a: Float32Array, b: Float32Array) => a.length === b.length && a.every((v, i) => Math.abs(v - b[i]) < 1e-4);

describe('collective adaptation on a socket', () => {
  it('measures both detectors and tells their outputs apart', async () => {
    // Alternating runs until the server's running averages show int8 faster (one sample can be noise on a shared
    // machine); without that there is nothing to adapt to. On x86 without VNNI (AVX2 only) the int8 detector takes
    // about 0.9 of fp32's time on one thread at full size, so the margin asked for is 5 %.
    for (let pair = 0; pair < 16; pair++) {
      for (const model of [DET, DET_INT8]) {
        const r = await infer(model);
        expect(r.status).toBe(200);
        reference.set(model, outputOf(r));
      }
      if (pair >= 3 && (await ewma(DET_INT8)) < INT8_FASTER * (await ewma(DET))) break;
    }
    expect(sameAs(reference.get(DET)!, reference.get(DET_INT8)!)).toBe(false);
    expect(await ewma(DET_INT8)).toBeLessThan(INT8_FASTER * (await ewma(DET)));
  });

  it('with no load the most accurate accepted model runs, and the reply says so', async () => {
    const best = mostAccurate(edge.repo, false);
    const r = await infer(best === DET ? DET_INT8 : DET, { accept: FLEX, deadline_ms: 60_000 });
    expect(r.status).toBe(200);
    const body = r.body as InferenceResponse;
    expect(body).toMatchObject({ model_name: best, model_version: '1', parameters: { model_name: best, model_version: '1' } });
    expect(sameAs(outputOf(r), reference.get(best)!)).toBe(true);
    // Without accept the reply stays as before: the URL's model, no parameters.
    const plain = await infer(DET);
    expect((plain.body as InferenceResponse).parameters).toBeUndefined();
  });

  it('under load, requests accepting int8 get it and meet budgets that fp32-only requests miss', async () => {
    // Behind a running detector, pairs of requests with the same budget, one accepting int8 and one fp32 only; budgets
    // lie between "wait + int8" and "wait + fp32" by the server's own estimates (steps are shares of the gap). On a machine
    // shared with other work, run times stray from the estimates, so rounds repeat until one shows the outcome.
    const rounds: Array<{ fp32Only: Sent; flex: Sent; budget: number }> = [];
    const met = (s: Sent, budget: number) => s.status === 200 && s.ms <= budget;
    const int8Won = () =>
      rounds.some(({ fp32Only, flex, budget }) => met(flex, budget) && !met(fp32Only, budget) && (flex.body as InferenceResponse).model_name === DET_INT8);
    const sweep = [0.5, 0.25, 0.75, 0, 0.5, 1, 0.25, 0.75, -0.25, 0.5, 0.25, 0.75, 0.5, 0, 0.5, 0.25];
    // Two passes: on a busy machine a whole pass can see run times stray past every budget of the sweep.
    for (const step of [...sweep, ...sweep]) {
      if (int8Won()) break;
      const [fp32Ms, int8Ms] = [await ewma(DET), await ewma(DET_INT8)];
      const blocker = infer(DET, {}, 7);
      await untilBusy();
      // The blocker's remaining time shrinks while a request is sent, by part of its round trip (a request with no
      // budget at all is refused once it has been read); half of it is taken off, the sweep covers the rest.
      const transit = (await infer(DET, { deadline_ms: 0 })).ms;
      const budget = Math.round(edge.pool.predictedWaitMs() - transit / 2 + int8Ms + step * (fp32Ms - int8Ms));
      // The accepting request first (queued or answered before the other is sent): it sees the wait the budget was
      // set from, and the fp32-only one then waits behind it as well as behind the detector.
      let settled = false;
      const first = infer(DET, { deadline_ms: budget, accept: FLEX }).finally(() => {
        settled = true;
      });
      while (!settled && edge.pool.status().pool.queued === 0) await new Promise((r) => setTimeout(r, 1));
      const [flex, fp32Only] = await Promise.all([first, infer(DET, { deadline_ms: budget })]);
      expect((await blocker).status).toBe(200);
      rounds.push({ fp32Only, flex, budget });
    }
    for (const { fp32Only, flex } of rounds) {
      // Every reply names the model that really ran (its outputs are that model's).
      for (const r of [fp32Only, flex]) {
        if (r.status !== 200) {
          expect(r.body, `${r.status} ${JSON.stringify(r.body)}`).toMatchObject({ code: 'DeadlineUnmeetable' });
          continue;
        }
        const ran = (r.body as InferenceResponse).model_name;
        expect(sameAs(outputOf(r), reference.get(ran)!)).toBe(true);
      }
      expect((fp32Only.body as InferenceResponse).model_name ?? DET).toBe(DET);
    }
    const won = rounds.filter(({ fp32Only, flex, budget }) => met(flex, budget) && !met(fp32Only, budget));
    const summary = JSON.stringify(
      rounds.map((r) => [
        r.budget,
        r.fp32Only.status,
        Math.round(r.fp32Only.ms),
        r.flex.status,
        Math.round(r.flex.ms),
        (r.flex.body as InferenceResponse).model_name,
      ]),
    );
    // Where the accepting request fits only on int8, it gets int8 and says so (it may run fp32 where that still fits).
    expect(won.filter(({ flex }) => (flex.body as InferenceResponse).model_name === DET_INT8).length, summary).toBeGreaterThan(0);
    for (const { flex } of won)
      expect((flex.body as InferenceResponse).parameters).toEqual({ model_name: (flex.body as InferenceResponse).model_name, model_version: '1' });
  });

  it('refuses malformed or impossible accept lists with 400', async () => {
    const cases: Array<[string, RegExp]> = [
      ['["ppocr-nope"]', /unknown model "ppocr-nope"/],
      ['["ppocr-cls"]', /cannot stand in for ppocr-det/],
      ['[1', /not a valid JSON list/],
    ];
    for (const [accept, message] of cases) {
      const r = await infer(DET, { accept });
      expect(r.status).toBe(400);
      expect(r.body).toMatchObject({ error: expect.stringMatching(message) });
    }
    expect(await infer(DET, { accept: true })).toMatchObject({ status: 400, body: { code: 'OipMalformed' } });
  });

  it('whole-image OCR names the configuration that ran, in the reply and in x-tandem-config', async () => {
    const post = (headers: Record<string, string>, query = '') =>
      fetch(`${base}/v1/ocr${query}`, {
        method: 'POST',
        body: fixture.png as Uint8Array<ArrayBuffer>,
        headers: { 'content-type': 'image/png', ...headers },
      });
    const plain = await post({});
    expect(plain.status).toBe(200);
    const plainBody = (await plain.json()) as OcrResponse;
    expect(plainBody.config).toEqual({ det: DET, maxSide: 960, rec: 'ppocr-rec' });
    expect(parseOcrConfig(plain.headers.get(CONFIG_HEADER)!)).toEqual(plainBody.config);

    const flex = await post({ 'x-tandem-accept': `det=${DET},${DET_INT8};max_side=960,640`, [BUDGET_HEADER]: '60000' });
    expect(flex.status).toBe(200);
    const body = (await flex.json()) as OcrResponse;
    // No load: the most accurate accepted configuration.
    const best = mostAccurate(edge.repo, true);
    expect(body.config).toEqual({ det: best, maxSide: 960, rec: 'ppocr-rec' });
    expect(body.models.det).toBe(best);
    expect(body.lines.map((l) => l.text)).toEqual(fixture.lines);

    // The query form, restricted to int8: that is what runs, and the reply says so.
    const int8 = await post({}, `?accept=${encodeURIComponent(`det=${DET_INT8}`)}`);
    expect(int8.status).toBe(200);
    expect(((await int8.json()) as OcrResponse).config).toEqual({ det: DET_INT8, maxSide: 960, rec: 'ppocr-rec' });
    expect(int8.headers.get(CONFIG_HEADER)).toBe(`det=${DET_INT8};max_side=960;rec=ppocr-rec`);

    const bad = await post({ 'x-tandem-accept': 'det=ppocr-rec' });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ error: expect.stringMatching(/not a text-detection model/) });
    const conflict = await post({ 'x-tandem-accept': 'max_side=640,480' }, '?maxSide=960');
    expect(conflict.status).toBe(400);
  });

  it('under load, whole-image OCR accepting a smaller detector side gets it and meets a budget the default side misses', async () => {
    const post = (query: string, headers: Record<string, string> = {}) => {
      const t = performance.now();
      return fetch(`${base}/v1/ocr${query}`, {
        method: 'POST',
        body: page.png as Uint8Array<ArrayBuffer>,
        headers: { 'content-type': 'image/png', ...headers },
      }).then(async (res) => ({ res, body: (await res.json()) as OcrResponse & { code?: string }, ms: performance.now() - t }));
    };
    // Teach the server both sides (alternating).
    for (let i = 0; i < 4; i++) {
      for (const q of ['', '?maxSide=320']) {
        const r = await post(q);
        expect(r.res.status).toBe(200);
        expect(r.body.lines.map((l) => l.text)).toEqual(page.lines);
      }
    }
    // The server's own whole-request estimates per side (what admission and the side choice go by).
    const [full, small] = [edge.ocr.estimate(PAGE.width, PAGE.height, {}), edge.ocr.estimate(PAGE.width, PAGE.height, { maxSide: 320 })];
    expect(small).toBeLessThan(full);

    const rounds: Array<{ budget: number; flex: { status: number; ms: number; side?: number; error?: string }; plain: { status: number; ms: number } }> = [];
    const flexWon = () =>
      rounds.some((r) => r.flex.status === 200 && r.flex.ms <= r.budget && r.flex.side === 320 && !(r.plain.status === 200 && r.plain.ms <= r.budget));
    for (const step of [2, 3, 1, 2, 3, 1, 2, 3]) {
      if (flexWon()) break;
      const blocker = infer(DET, {}, 7);
      await untilBusy();
      const budget = Math.round(edge.pool.predictedWaitMs() + small + (step / 4) * (full - small));
      let settled = false;
      const first = post('', { 'x-tandem-accept': 'max_side=960,320', [BUDGET_HEADER]: String(budget) }).finally(() => {
        settled = true;
      });
      while (!settled && edge.pool.status().pool.queued === 0) await new Promise((r) => setTimeout(r, 1));
      const [flex, plain] = await Promise.all([first, post('', { [BUDGET_HEADER]: String(budget) })]);
      expect((await blocker).status).toBe(200);
      for (const r of [flex, plain]) {
        if (r.res.status === 200) {
          // The reply's configuration and header agree, and the page is read at either side.
          expect(parseOcrConfig(r.res.headers.get(CONFIG_HEADER)!)).toEqual(r.body.config);
          expect(r.body.lines.map((l) => l.text)).toEqual(page.lines);
        } else expect(r.body.code).toBe('DeadlineUnmeetable');
      }
      expect(plain.body.config?.maxSide ?? 960).toBe(960);
      rounds.push({
        budget,
        flex: { status: flex.res.status, ms: flex.ms, side: flex.body.config?.maxSide, error: (flex.body as { error?: string }).error },
        plain: { status: plain.res.status, ms: plain.ms },
      });
    }
    expect(flexWon(), JSON.stringify({ full, small, rounds })).toBe(true);
  });

  it('through EDGE_BACKEND the front plans the accepted models and the backend runs the one chosen', async () => {
    const front = await startTestEdge({ EDGE_BACKEND: base, MODELS: `${DET},${DET_INT8},ppocr-cls,ppocr-rec`, MAX_BODY_BYTES: '20000000' });
    const frontHttp = await listen(front.app, 0, '127.0.0.1');
    try {
      // Asked for the less accurate detector, accepting the other too: with nothing queued the more accurate runs.
      const best = mostAccurate(front.repo, false);
      const other = best === DET ? DET_INT8 : DET;
      const request: InferenceRequest = {
        inputs: [{ name: 'x', datatype: 'FP32', shape: SHAPE, data: input(1) }],
        parameters: { binary_data_output: true, accept: formatOipAccept([best]) },
      };
      const wire = encodeInferenceRequest(request, { binaryInputs: true });
      const res = await fetch(`http://127.0.0.1:${frontHttp.port}/v2/models/${other}/infer`, {
        method: 'POST',
        body: wire.body as Uint8Array<ArrayBuffer>,
        headers: { 'content-type': 'application/octet-stream', [HEADER_LENGTH_HEADER]: String(wire.headerLength) },
      });
      expect(res.status).toBe(200);
      const body = decodeInferenceResponse(new Uint8Array(await res.arrayBuffer()), Number(res.headers.get(HEADER_LENGTH_HEADER)));
      expect(body).toMatchObject({ model_name: best, parameters: { model_name: best } });
      expect(sameAs(body.outputs[0].data as Float32Array, reference.get(best)!)).toBe(true);
    } finally {
      await frontHttp.close(1000);
      await front.dispose();
    }
  });
});
