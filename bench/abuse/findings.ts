/**
 * The six abuse findings, each replayed against a fresh server process at its default settings, each returning the
 * figures that say whether the server now holds. Every loop and wait here is bounded.
 */
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { connect } from 'node:net';
import { join } from 'node:path';
import { HEADER_LENGTH_HEADER } from '../../core/protocol/oip';
import { encodeInferenceRequest } from '../../core/protocol/oip-codec';
import { BUDGET_HEADER, type OcrResponse } from '../../core/protocol/v1';
import { zeroPng } from '../../edge-server/fuzz/images';
import { sleep } from '../../test-support/edge-process';
import { sharedEvalDir } from '../../test-support/shared-set';
import { renderTextImage } from '../../test-support/text-image';
import { codeOf, countBy, gb, idle, outcomes, send, status, sum, totalRuns, waitFor, watchedServer, type WatchedServer } from './server-probe';

const OCR = '/v1/ocr';

async function withServer<T>(env: Record<string, string>, probe: (s: WatchedServer) => Promise<T>): Promise<T> {
  const server = await watchedServer(env);
  try {
    return await probe(server);
  } finally {
    await server.stop();
  }
}

/** A receipt photo from the shared dev set when present, otherwise a generated page of text. */
export async function receiptPhoto(): Promise<{ bytes: Uint8Array; source: string }> {
  const dir = sharedEvalDir();
  if (dir) return { bytes: new Uint8Array(readFileSync(join(dir, 'images/sroie/031.jpg'))), source: '../shared/ocr-eval/dev/images/sroie/031.jpg' };
  const page = await renderTextImage({ lines: Array.from({ length: 12 }, (_, i) => `Line ${i} of the generated receipt`), width: 1080, height: 1500 });
  return { bytes: page.jpeg, source: 'generated 1080x1500 page, 12 lines' };
}

const postImage = (base: string, bytes: Uint8Array, headers: Record<string, string> = {}, type = 'image/jpeg') =>
  send(`${base}${OCR}`, { body: bytes, headers: { 'content-type': type, ...headers } });

/** Posts the image and destroys the connection `afterMs` later, whatever the server is doing by then. */
function postAndHangUp(base: string, bytes: Uint8Array, afterMs: number, headers: Record<string, string> = {}): Promise<void> {
  return new Promise((resolve) => {
    const req = request(`${base}${OCR}`, {
      method: 'POST',
      headers: { 'content-type': 'image/jpeg', 'content-length': bytes.length, ...headers },
      agent: false,
    });
    req.on('error', () => resolve());
    req.on('response', (res) => {
      res.resume();
      res.on('end', () => resolve());
    });
    req.end(bytes);
    setTimeout(() => {
      req.destroy();
      resolve();
    }, afterMs);
  });
}

/** One wave of clients that hang up; model runs counted until every request is answered inside the server and after. */
async function abandonWave(s: WatchedServer, photo: Uint8Array, clients: number, hangUpMs: number, headers: Record<string, string>) {
  const before = await outcomes(s.base, OCR);
  const runs0 = totalRuns(await status(s.base));
  const t0 = performance.now();
  await Promise.all(Array.from({ length: clients }, () => postAndHangUp(s.base, photo, hangUpMs, headers)));
  // Every request has been answered inside the server: refused at its door, or stopped at its next stage boundary.
  // Connections closed before the server read their request never become one, so the count may stop short: it is
  // taken as final once it has not moved for 3 s.
  let last = -1;
  let still = performance.now();
  const answered = await waitFor(async () => {
    const n = sum(await outcomes(s.base, OCR)) - sum(before);
    if (n !== last) {
      last = n;
      still = performance.now();
    }
    return n >= clients || performance.now() - still > 3000;
  }, 120_000);
  const answeredMs = performance.now() - t0;
  const runsAtAnswered = totalRuns(await status(s.base));
  const wentIdle = await idle(s.base);
  await sleep(500);
  const runsAtIdle = totalRuns(await status(s.base));
  const after = await outcomes(s.base, OCR);
  return {
    headers,
    requests_seen_by_server: last,
    settled: answered,
    answered_after_ms: Math.round(answeredMs),
    outcomes: Object.fromEntries(
      Object.entries(after)
        .map(([k, v]) => [k, v - (before[k] ?? 0)])
        .filter(([, v]) => (v as number) > 0),
    ),
    model_runs_while_clients_left: runsAtAnswered - runs0,
    model_runs_after_all_answered: runsAtIdle - runsAtAnswered,
    pool_idle: wentIdle,
  };
}

/**
 * 1. Clients that post a photo and hang up: how much model work is still done for them. Once without a budget (as
 * first found; past EDGE_MAX_UNBUDGETED they are refused at the door) and once with a generous budget, so that
 * every one is admitted and queues model runs.
 */
export async function abandonedRequests(clients = 200, hangUpMs = 50) {
  const photo = await receiptPhoto();
  return withServer({}, async (s) => {
    const warm = await postImage(s.base, photo.bytes);
    const rssIdle = s.rss();
    s.resetPeak();
    const unbudgeted = await abandonWave(s, photo.bytes, clients, hangUpMs, {});
    const budgeted = await abandonWave(s, photo.bytes, clients, hangUpMs, { [BUDGET_HEADER]: '600000' });
    const peak = s.peak();
    const next = await postImage(s.base, photo.bytes);
    const nextBody = next.status === 200 ? (JSON.parse(next.body) as OcrResponse) : null;
    const abandonedLines = s.log.filter((l) => l.includes('request abandoned') && l.includes('"code":"ClientClosed"'));
    return {
      image: photo.source,
      image_bytes: photo.bytes.length,
      clients,
      hang_up_ms: hangUpMs,
      warm_status: warm.status,
      warm_ms: Math.round(warm.ms),
      unbudgeted,
      budgeted,
      rss_idle_gb: gb(rssIdle),
      rss_peak_gb: gb(peak),
      rss_after_gb: gb(s.rss()),
      next_request: { status: next.status, ms: Math.round(next.ms), server_queue_ms: nextBody?.server.queue ?? null, lines: nextBody?.lines.length ?? null },
      log_client_closed_info_lines: abandonedLines.filter((l) => / info  /.test(l) && !l.includes('stack')).length,
      log_error_lines: s.log.filter((l) => / error /.test(l)).length,
    };
  });
}

/** Samples RSS `at` seconds after `t0` (relative to now) and returns them by label. */
async function settled(s: WatchedServer, marks: number[]): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  const t0 = performance.now();
  for (const m of marks) {
    await sleep(Math.max(0, m * 1000 - (performance.now() - t0)));
    out[`rss_after_${m}s_gb`] = gb(s.rss());
  }
  return out;
}

/** 2a. Twenty concurrent 6000×6600 PNGs of zeros (about 0.1 MB each, 40 Mpx decoded). */
export async function pixelBombs(count = 20) {
  const png = await zeroPng();
  return withServer({}, async (s) => {
    const rssIdle = s.rss();
    s.resetPeak();
    const t0 = performance.now();
    const replies = await Promise.all(Array.from({ length: count }, () => postImage(s.base, png, {}, 'image/png')));
    const ms = performance.now() - t0;
    const peak = s.peak();
    return {
      image: '6000x6600 PNG of zeros',
      image_bytes: png.length,
      requests: count,
      replies: countBy(replies, (r) => `${r.status} ${codeOf(r)}`),
      all_done_ms: Math.round(ms),
      rss_idle_gb: gb(rssIdle),
      rss_peak_gb: gb(peak),
      ...(await settled(s, [3, 15])),
      health_after: (await send(`${s.base}/v2/health/ready`)).status,
    };
  });
}

/** 2b. Recognition of shape [1,3,48,16000] with JSON outputs: a 9 MB request asking for a 300 MB reply. */
export async function hugeJsonOutput() {
  const shape = [1, 3, 48, 16000];
  const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
  for (let i = 0; i < data.length; i++) data[i] = ((i * 2654435761) % 1000) / 1000;
  const wire = encodeInferenceRequest({ inputs: [{ name: 'x', datatype: 'FP32', shape, data }] }, { binaryInputs: true });
  return withServer({}, async (s) => {
    const rssIdle = s.rss();
    s.resetPeak();
    // How long the HTTP thread is blocked: the worst wait of a liveness probe sent every 50 ms meanwhile.
    let probing = true;
    let worstLiveMs = 0;
    const prober = (async () => {
      while (probing) {
        const r = await send(`${s.base}/v2/health/live`, { timeoutMs: 60_000 });
        worstLiveMs = Math.max(worstLiveMs, r.ms);
        await sleep(50);
      }
    })();
    const reply = await send(`${s.base}/v2/models/ppocr-rec/infer`, {
      body: wire.body,
      headers: { 'content-type': 'application/octet-stream', [HEADER_LENGTH_HEADER]: String(wire.headerLength) },
    });
    probing = false;
    await prober;
    const peak = s.peak();
    return {
      shape,
      request_bytes: wire.body.length,
      status: reply.status,
      code: codeOf(reply),
      reply_bytes: reply.body.length,
      ms: Math.round(reply.ms),
      message: reply.status === 200 ? null : (JSON.parse(reply.body) as { error: string }).error.slice(0, 200),
      worst_health_live_ms: Math.round(worstLiveMs),
      rss_idle_gb: gb(rssIdle),
      rss_peak_gb: gb(peak),
      ...(await settled(s, [3])),
    };
  });
}

/** 3. A budget of 3·10⁹ ms (past a 32-bit timer) on whole-image OCR and on OIP inference. */
export async function hugeBudget() {
  const page = await renderTextImage({ lines: ['Budget 3e9'], width: 320, height: 96 });
  return withServer({}, async (s) => {
    const ocr = await postImage(s.base, page.png, { [BUDGET_HEADER]: '3e9' }, 'image/png');
    const shape = [1, 3, 64, 64];
    const wire = encodeInferenceRequest(
      {
        inputs: [{ name: 'x', datatype: 'FP32', shape, data: new Float32Array(3 * 64 * 64).fill(0.5) }],
        parameters: { deadline_ms: 3e9, binary_data_output: true },
      },
      { binaryInputs: true },
    );
    const oip = await send(`${s.base}/v2/models/ppocr-det/infer`, {
      body: wire.body,
      headers: { 'content-type': 'application/octet-stream', [HEADER_LENGTH_HEADER]: String(wire.headerLength) },
    });
    const text = ocr.status === 200 ? (JSON.parse(ocr.body) as OcrResponse).lines.map((l) => l.text) : [];
    return {
      ocr_status: ocr.status,
      ocr_code: ocr.status === 200 ? null : codeOf(ocr),
      ocr_text: text,
      ocr_ms: Math.round(ocr.ms),
      oip_status: oip.status,
      oip_ms: Math.round(oip.ms),
    };
  });
}

/** 4. After a burst of 100 requests without a budget, is the next budgeted request that fits admitted? */
export async function admissionRecovery(burst = 100) {
  const page = await renderTextImage({ lines: ['Admission 1', 'recovers after', 'a burst of', 'unbudgeted work'], width: 1280, height: 720 });
  return withServer({}, async (s) => {
    await postImage(s.base, page.jpeg);
    const lone: number[] = [];
    for (let i = 0; i < 3; i++) lone.push((await postImage(s.base, page.jpeg)).ms);
    const replies = await Promise.all(Array.from({ length: burst }, () => postImage(s.base, page.jpeg)));
    const served = replies
      .filter((r) => r.status === 200)
      .map((r) => r.ms)
      .sort((a, b) => a - b);
    const wentIdle = await idle(s.base);
    // Room for a lone run three times over: it fits an idle server, while the burst's requests took far longer.
    const budget = Math.round([...lone].sort((a, b) => a - b)[1] * 3 + 100);
    const next: Array<{ status: number; code: string | null; ms: number; predicted_ms: number | null }> = [];
    for (let i = 0; i < 5; i++) {
      const r = await postImage(s.base, page.jpeg, { [BUDGET_HEADER]: String(budget) });
      const body = r.status === 200 ? null : (JSON.parse(r.body) as { code: string; predicted_ms?: number });
      next.push({ status: r.status, code: body?.code ?? null, ms: Math.round(r.ms), predicted_ms: body?.predicted_ms ?? null });
    }
    return {
      image: 'generated 1280x720 JPEG, 4 lines',
      lone_ms: lone.map(Math.round),
      burst,
      burst_replies: countBy(replies, (r) => `${r.status} ${codeOf(r)}`),
      burst_served_p50_ms: Math.round(served[served.length >> 1] ?? 0),
      idle_after_burst: wentIdle,
      budget_ms: budget,
      budget_below_burst_p50: budget < (served[served.length >> 1] ?? 0),
      next_budgeted: next,
      first_budgeted_admitted: next[0].status === 200,
      admitted_of_5: next.filter((n) => n.status === 200).length,
    };
  });
}

/** 5. A page on a DNS-rebound name (its Origin and Host agree, and name this server's port) calling the API. */
export async function dnsRebinding() {
  return withServer({}, async (s) => {
    const rebound = `rebound.example:${s.port}`;
    const evil = await send(`${s.base}/v1/status`, { headers: { host: rebound, origin: `http://${rebound}` } });
    const own = await send(`${s.base}/v1/status`, { headers: { origin: s.base } });
    const page = await send(`${s.base}/`);
    // A model error that onnxruntime words with its source paths (a 1×7 image cannot be broadcast in the detector's
    // upsampling): the reply must not carry them.
    const bad = encodeInferenceRequest({ inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 3, 1, 7], data: new Float32Array(21) }] }, { binaryInputs: true });
    const failed = await send(`${s.base}/v2/models/ppocr-det/infer`, {
      body: bad.body,
      headers: { 'content-type': 'application/octet-stream', [HEADER_LENGTH_HEADER]: String(bad.headerLength) },
    });
    return {
      rebound_status: evil.status,
      rebound_code: codeOf(evil),
      rebound_cors_header: evil.headers['access-control-allow-origin'] ?? null,
      own_origin_status: own.status,
      own_origin_cors_header: own.headers['access-control-allow-origin'] ?? null,
      web_app_csp: page.headers['content-security-policy'] ?? null,
      nosniff: page.headers['x-content-type-options'] ?? null,
      frame_options: page.headers['x-frame-options'] ?? null,
      model_error_status: failed.status,
      model_error_code: codeOf(failed),
      model_error_has_source_path: /\.(cc|cpp|h):\d+|onnxruntime_src|\/home\/|\/work\//.test(failed.body),
      model_error_message: failed.status === 200 ? null : failed.body.slice(0, 240),
    };
  });
}

/** 6. A client hanging up (logged and counted how?), a body that stops arriving and headers that never end. */
export async function hangUpsAndStalls() {
  const photo = await receiptPhoto();
  return withServer({}, async (s) => {
    await postAndHangUp(s.base, photo.bytes, 50);
    await waitFor(async () => ((await outcomes(s.base, OCR)).ClientClosed ?? 0) >= 1, 30_000);
    const line = s.log.find((l) => l.includes('request abandoned') && l.includes('ClientClosed')) ?? null;

    const stalledBody = new Promise<number>((resolve) => {
      const t0 = performance.now();
      const req = request(`${s.base}${OCR}`, { method: 'POST', headers: { 'content-type': 'image/jpeg', 'content-length': photo.bytes.length }, agent: false });
      req.on('error', () => {});
      req.on('close', () => resolve(performance.now() - t0));
      req.write(photo.bytes.subarray(0, photo.bytes.length >> 1));
      setTimeout(() => req.destroy(), 60_000);
    });
    const stalledHeaders = new Promise<{ ms: number; reply: string }>((resolve) => {
      const t0 = performance.now();
      const socket = connect(s.port, '127.0.0.1');
      let reply = '';
      socket.on('data', (d) => {
        reply += d.toString();
      });
      socket.on('error', () => {});
      socket.on('close', () => resolve({ ms: performance.now() - t0, reply: reply.split('\r\n')[0] }));
      socket.write(`POST ${OCR} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: image/jpeg\r\n`);
      setTimeout(() => socket.destroy(), 60_000);
    });
    const [bodyMs, headers] = await Promise.all([stalledBody, stalledHeaders]);
    await waitFor(async () => ((await outcomes(s.base, OCR)).BodyTimeout ?? 0) >= 1, 10_000);
    const counted = await outcomes(s.base, OCR);
    return {
      hang_up_outcome_counts: counted,
      hang_up_log_line: line?.replace(/^\S+ /, '') ?? null,
      hang_up_logged_info_without_stack: line !== null && / info  /.test(line) && !line.includes('stack'),
      log_error_lines: s.log.filter((l) => / error /.test(l)).length,
      stalled_body_closed_after_ms: Math.round(bodyMs),
      stalled_headers_closed_after_ms: Math.round(headers.ms),
      stalled_headers_reply: headers.reply,
    };
  });
}
