/**
 * `npm run profile [-- --set DIR --out FILE --quick]`: measures every model configuration and writes profiles.json
 * (schema: core/profiles.ts) — accuracy on a labelled set, latency on onnxruntime-node (edge, 1 and 2 threads) and
 * onnxruntime-web WASM in headless Chromium (1 and 2 threads, at full speed and in a browser held to a quarter of one
 * core, as the replay's phone is), session creation and cold
 * first runs, and bytes (models, re-encoded uploads, split activations, replies). By default it writes
 * models/profiles.json (tracked) and models/repository/profiles.json (served at /models/profiles.json).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { parseProfiles, type Profiles, type RuntimeProfile } from '../../core/profiles';
import { detTensor } from '../../core/ocr/preprocess';
import { decodeRgba, loadSet } from '../../bench/eval-ocr/dataset';
import { sharedEvalDir } from '../../test-support/shared-set';
import { loadManifest } from '../../test-support/ort-node-infer';
import { measureAccuracy } from './accuracy';
import { parseProfileArgs, USAGE } from './args';
import { measureReencode, measureSplits, measureTransfer } from './bytes';
import { ProfileHarness } from './browser/harness';
import { ladderShapes, type LatencyPlan } from './latency-plan';
import { baseModel, profiledModels } from './models';
import { profileCompact } from './compact';
import { NodeSessions, runSession } from './node-sessions';
import { profileModels, runtimeProfile, type ModelDriver } from './runtime-profile';
import { nodeStages, pageStages, type StageInputs } from './stages';
import { meanSd, percentile } from './stats';
import {
  BROWSER_THREADS,
  DEFAULT_DEVICE_RUNTIME,
  DEFAULT_EDGE_RUNTIME,
  DEFAULT_SIDE,
  LADDER,
  NODE_THREADS,
  QUICK_LADDER,
  REENCODE,
  REPOSITORY_DIR,
  SERVED_PROFILES,
  SPLIT_POINTS,
  THROTTLES,
  TRACKED_PROFILES,
  deviceRuntimeId,
  edgeRuntimeId,
} from './profile-constants';

interface Scored {
  accuracy: Profiles['accuracy'];
  reencode: Profiles['reencode'];
  transfer: Profiles['transfer'];
  content: Profiles['content'];
  /** How the figures above were obtained, for the source description. */
  note: string;
  /** What was added to those figures after their run, carried to the end of the description. */
  added?: string;
}

function fail(message: string): never {
  console.error(`profile: ${message}`);
  process.exit(2);
}

/** How the throttled device runtimes were slowed: the same launcher (test-support/phone) as the replay's phone. */
function deviceThrottleText(throttling: Map<number, string>): string {
  if (throttling.size === 0) return 'no throttled runtimes timed in this run.';
  return [...throttling]
    .map(([t, method]) =>
      method === 'cgroup'
        ? `the ${t}x runtimes in a Chromium whose every process is held to 1/${t} of one core by a cgroup CPU quota (every thread, WASM threads included, shares it, as on the replay's phone).`
        : `the ${t}x runtimes with CDP CPU throttling (no cgroup CPU quota on that machine: it slows the page thread only, so 2-thread runs are partly throttled).`,
    )
    .join(' ');
}

/**
 * What scripts added to an earlier profiles file after its run (accuracy of more variant sets, the compact
 * recogniser): the sentences after its load average, kept when its figures are carried into a new run.
 */
function addedTo(description: string): string {
  const m = /Load average \(1\/5\/15 min\) \S+ at start, \S+ at end\. ?/.exec(description);
  return m === null ? '' : description.slice(m.index + m[0].length).trim();
}

async function main(): Promise<void> {
  let args;
  try {
    args = parseProfileArgs(process.argv.slice(2));
  } catch (e) {
    fail((e as Error).message);
  }
  const setDir = args.set ? resolve(args.set) : sharedEvalDir();
  if (setDir === null)
    fail(`no profiling set: ../shared/ocr-eval/dev is not on this machine; pass --set DIR (a folder with det.jsonl, rec.jsonl and images/). ${USAGE}`);
  if (!existsSync(join(setDir, 'det.jsonl')) || !existsSync(join(setDir, 'rec.jsonl')))
    fail(`${setDir} has no det.jsonl and rec.jsonl: not an OCR evaluation set`);
  const started = Date.now();
  const loadStart = loadavg();
  const log = (line: string) => console.log(`[${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s] ${line}`);
  log(`profiling on ${setDir}${args.quick ? ' (quick)' : ''}; load average ${loadStart.map((l) => l.toFixed(2)).join(' ')}`);

  const manifest = loadManifest(REPOSITORY_DIR);
  // The compact recogniser takes 8-bit crops and runs on the edge only: compact.ts profiles it after the rest.
  const models = profiledModels(manifest).filter((m) => m.variant !== 'compact');
  const [det0, rec0, cls0] = (['det', 'rec', 'cls'] as const).map((r) => baseModel(models, r));
  const set = loadSet(setDir);
  const detRows = set.det.filter((_, i) => i % args.sample === 0).slice(0, args.limit);
  const recRows = set.rec.filter((_, i) => i % args.sample === 0).slice(0, args.quick ? 200 : Infinity);
  if (detRows.length === 0) fail(`${setDir}/det.jsonl has no images`);
  const sides = args.quick ? QUICK_LADDER : LADDER;

  // Latency inputs: a typical photo of the set (the most common size) and a tall one for decode and re-encode.
  const sizes = new Map<string, number>();
  for (const r of set.det) sizes.set(`${r.width}x${r.height}`, (sizes.get(`${r.width}x${r.height}`) ?? 0) + 1);
  const common = [...sizes.entries()].sort((a, b) => b[1] - a[1])[0][0];
  const typical = set.det.find((r) => `${r.width}x${r.height}` === common)!;
  const tall = set.det.filter((r) => r.height > r.width).sort((a, b) => b.width * b.height - a.width * a.height)[0];
  const photos = [typical, ...(tall ? [tall] : [])];
  const detSpec = manifest.models.find((m) => m.name === det0.name)!.preprocess;
  const recSpec = manifest.models.find((m) => m.name === rec0.name)!.preprocess;
  const clsSpec = manifest.models.find((m) => m.name === cls0.name)!.preprocess;
  if (detSpec.kind !== 'det' || recSpec.kind !== 'rec' || clsSpec.kind !== 'cls') fail('the manifest lacks preprocessing for the fp32 models');
  const shapes = ladderShapes(typical.width, typical.height, sides, detSpec.multiple);

  // Detector outputs of the typical photo (post-processing is timed on a real probability map) and the padded
  // widths of the lines the default detector finds on every sixth photo (recognition is timed at their median).
  const acc2 = new NodeSessions(REPOSITORY_DIR, manifest, 2);
  const typicalImage = await decodeRgba(readFileSync(join(setDir, typical.image)));
  const probs: StageInputs['probs'] = new Map();
  for (const s of shapes) probs.set(s.side, { data: (await acc2.run(det0.name, detTensor(typicalImage, detSpec, s.side).tensor)).data.slice(), url: '' });
  const widthRows = set.det.filter((_, i) => i % 6 === 0);
  const detector = acc2.pipeline({ det: det0.name, cls: cls0.name, rec: rec0.name });
  const lineWidths: number[] = [];
  for (const r of widthRows) {
    const found = await detector.detect(await decodeRgba(readFileSync(join(setDir, r.image))), { maxSide: DEFAULT_SIDE });
    for (const d of found.detections)
      lineWidths.push(Math.min(recSpec.maxWidth, Math.max(detector.config.recMinWidth, Math.ceil((recSpec.height * d.crop.width) / d.crop.height))));
  }
  const recWidth = Math.ceil(percentile(lineWidths.length ? lineWidths : [recSpec.height * 4], 0.5) / 8) * 8;
  log(
    `latency inputs: ${typical.width}×${typical.height} photo, sides ${sides.join('/')}, lines ${recWidth} px wide (median of ${lineWidths.length} on ${widthRows.length} photos)`,
  );
  const plan = (throttle: number): LatencyPlan => ({
    models,
    det: shapes,
    detFirst: shapes.find((s) => s.side === 640) ?? shapes[0],
    recWidth,
    clsWidth: clsSpec.maxWidth,
    lineHeight: recSpec.height,
    lines: [1, 6],
    warmup: args.quick ? 1 : 2,
    reps: args.quick ? 3 : throttle > 1 ? 5 : 7,
    creates: args.quick ? 1 : 2,
  });
  const stageInputs = (reps: number): StageInputs => ({
    images: photos.map((r) => ({ file: join(setDir, r.image), url: `/data/photo-${r.image.replace(/[^a-z0-9.]+/gi, '-')}`, width: r.width, height: r.height })),
    spec: detSpec,
    shapes,
    probs,
    reencode: { maxSide: DEFAULT_SIDE, quality: 0.8 },
    warmup: args.quick ? 1 : 2,
    reps,
  });

  // Accuracy (onnxruntime-node here) and the Chromium runtimes (their own processes, timed inside the page) run
  // side by side to keep the whole profile within half an hour; the edge runtimes are timed afterwards, alone.
  const reencodeRows = detRows.filter((_, i) => i % 3 === 0).slice(0, args.quick ? 4 : Infinity);
  const scoring = (async (): Promise<Scored> => {
    if (args.accuracyFrom) {
      await acc2.release();
      const prev = parseProfiles(readFileSync(args.accuracyFrom, 'utf8'));
      log(`accuracy, uploads, replies and lines per image from ${args.accuracyFrom} (${prev.source.createdAt ?? 'undated'})`);
      const first = prev.source.description.split('. ').slice(0, 1).join('');
      return {
        accuracy: prev.accuracy,
        reencode: prev.reencode,
        transfer: prev.transfer,
        content: prev.content,
        note: `Accuracy, re-encoded uploads, reply sizes and lines per image from the run of ${prev.source.createdAt ?? 'an earlier date'} (${first}); latency measured without an accuracy pass alongside. `,
        added: addedTo(prev.source.description),
      };
    }
    log(`accuracy: ${detRows.length} images, ${recRows.length} word crops, sides ${sides.join('/')}`);
    const accuracy = await measureAccuracy(
      acc2,
      {
        dets: models.filter((m) => m.role === 'det').sort((a, b) => Number(b === det0) - Number(a === det0)),
        recs: models.filter((m) => m.role === 'rec').sort((a, b) => Number(b === rec0) - Number(a === rec0)),
        cls: cls0,
        sides,
        defaultSide: DEFAULT_SIDE,
        cross: args.cross,
        matched: args.matched,
      },
      setDir,
      detRows,
      recRows,
      log,
    );
    // Every third photo (both sources of the set): re-encoding needs a whole OCR pass per option.
    log('re-encoded uploads');
    const reencode = await measureReencode(
      acc2,
      { det: det0.name, cls: cls0.name, rec: rec0.name },
      args.quick ? REENCODE.slice(1, 3) : REENCODE,
      DEFAULT_SIDE,
      setDir,
      reencodeRows,
      log,
    );
    await acc2.release();
    return {
      accuracy: accuracy.entries,
      reencode,
      transfer: measureTransfer(accuracy.replies, recWidth, recSpec.height),
      content: { linesPerImage: meanSd(accuracy.linesPerImage) },
      note: `Accuracy: detector ladder × ${rec0.id}${args.cross ? ' × every recogniser' : `${args.matched ? " and × its own variant's recogniser" : ''}, every recogniser with ${det0.id} at ${DEFAULT_SIDE}`}; re-encoded uploads on every third photo (${reencodeRows.length}); Chromium runtimes timed while this accuracy pass ran in the profiler process. `,
    };
  })();

  const runtimes: RuntimeProfile[] = [];
  let chromium = 'not run';
  /** How each throttled browser was slowed (launchPhone), for the description. */
  const throttling = new Map<number, string>();
  const timedFrom = args.latencyFrom ?? (args.retimeThrottled ? args.accuracyFrom : null);
  const timed = timedFrom ? parseProfiles(readFileSync(timedFrom, 'utf8')) : null;
  /** Re-timed here: every runtime, none (runtimes from --latency-from), or only the throttled device ones. */
  const retimes = (location: 'device' | 'edge', throttle: number) => !timed || (args.retimeThrottled && location === 'device' && throttle > 1);
  if (timed) {
    log(
      `runtimes and detector cuts from ${timedFrom} (${timed.source.createdAt ?? 'undated'})${args.retimeThrottled ? ', throttled device runtimes re-timed' : ''}`,
    );
    // Stages of models this run does not profile (the compact recogniser) are left out: profileCompact times them again.
    const profiled = new Set(models.map((m) => m.id));
    runtimes.push(
      ...timed.runtimes
        .filter((r) => !retimes(r.location, r.cpuThrottle ?? 1))
        .map((r) => ({ ...r, stages: r.stages.filter((st) => st.model === undefined || profiled.has(st.model)) })),
    );
    chromium = timed.source.machine?.split('Chromium ')[1] ?? 'not run';
  }
  const browsing = (async () => {
    if (!args.browser || (timed && !args.retimeThrottled)) return;
    const harness = await ProfileHarness.start(REPOSITORY_DIR);
    chromium = await harness.version;
    try {
      const inputs = stageInputs(args.quick ? 3 : 5);
      for (const img of inputs.images) harness.register(img.url.slice('/data/'.length), readFileSync(img.file), 'image/jpeg');
      for (const [side, p] of probs) p.url = harness.register(`prob-${side}`, new Uint8Array(p.data.buffer, p.data.byteOffset, p.data.byteLength));
      for (const throttle of THROTTLES.filter((t) => retimes('device', t))) {
        if (throttle > 1) throttling.set(throttle, await harness.throttleMethod(throttle));
        for (const threads of BROWSER_THREADS) {
          const id = deviceRuntimeId(threads, throttle);
          log(`runtime ${id}`);
          const page = await harness.page(throttle);
          try {
            const init = await page.call('init', threads, cls0.path);
            if (threads > 1 && !init.crossOriginIsolated) throw new Error('the profiling page is not cross-origin isolated: WASM threads unavailable');
            const driver: ModelDriver = {
              create: (path) => page.call('create', path),
              run: (path, dims, warmup, reps) => page.call('run', path, dims, warmup, reps),
              release: (path) => page.call('release', path),
              rounds: (paths, dims, warmup, reps) => page.call('rounds', paths, dims, warmup, reps),
            };
            const stages = await profileModels(driver, plan(throttle), log);
            const around = await pageStages(page, { ...inputs, reps: throttle > 1 ? inputs.reps : inputs.reps + 2 });
            runtimes.push(runtimeProfile(id, 'device', 'wasm', threads, throttle, [...around, ...stages], [init.initMs]));
          } finally {
            await page.close();
          }
        }
      }
    } finally {
      await harness.close();
    }
  })();
  const [scored] = await Promise.all([scoring, browsing]);

  const mid = shapes.find((s) => s.side === 640) ?? shapes[0];
  let splits = timed?.splits ?? [];
  if (!timed) {
    log('splits');
    splits = await measureSplits(new NodeSessions(REPOSITORY_DIR, manifest, 1), det0, SPLIT_POINTS, [1, 3, mid.height, mid.width], args.quick ? 3 : 7, log);
  }

  const edgeStages = timed ? [] : await nodeStages(stageInputs(args.quick ? 3 : 7));
  for (const threads of timed ? [] : NODE_THREADS) {
    log(`runtime ${edgeRuntimeId(threads)}`);
    const sessions = new NodeSessions(REPOSITORY_DIR, manifest, threads);
    const live = new Map<string, Awaited<ReturnType<NodeSessions['create']>>>();
    const byPath = (path: string) => manifest.models.find((m) => m.file.path === path)!.name;
    const driver: ModelDriver = {
      async create(path) {
        await live.get(path)?.release();
        const t0 = performance.now();
        live.set(path, await sessions.create(byPath(path)));
        return performance.now() - t0;
      },
      async run(path, dims, warmup, reps) {
        const s = live.get(path)!;
        const input = { data: new Float32Array(dims.reduce((a, b) => a * b, 1)).fill(0.25), dims };
        const out: number[] = [];
        for (let i = 0; i < warmup + reps; i++) {
          const t0 = performance.now();
          await runSession(s, input);
          if (i >= warmup) out.push(performance.now() - t0);
        }
        return out;
      },
      async release(path) {
        await live.get(path)?.release();
        live.delete(path);
      },
    };
    const stages = await profileModels(driver, plan(1), log);
    runtimes.push(runtimeProfile(edgeRuntimeId(threads), 'edge', 'ort-node', threads, 1, [...edgeStages, ...stages]));
  }

  const loadEnd = loadavg();
  const minutes = (Date.now() - started) / 60000;
  const profiles: Profiles = {
    schema: 1,
    source: {
      kind: 'measured',
      description:
        `npm run profile${args.quick ? ' --quick' : ''}${args.sample > 1 ? ` --sample ${args.sample}` : ''} on ${setDir.split('/').slice(-3).join('/')} (${detRows.length} images, ${recRows.length} word crops) in ${minutes.toFixed(1)} min. ` +
        `Latency: median/p90 of ${plan(1).reps} runs (${plan(4).reps} at 4x throttling) after ${plan(1).warmup} warm-ups, model inputs filled with seeded values; detector at a ${typical.width}×${typical.height} photo's shape, ` +
        `recogniser batches of ${recWidth}-pixel-wide lines. Device: onnxruntime-web WASM on the page thread of headless Chromium; ` +
        `${deviceThrottleText(throttling)} ` +
        (timed
          ? `${args.retimeThrottled ? 'Throttled device runtimes re-timed in this run; the other runtimes' : 'Runtimes'} and detector cuts from the run of ${timed.source.createdAt ?? 'an earlier date'} (${timed.source.description.split('. ')[0]})${args.retimeThrottled ? '. ' + scored.note : '; accuracy scored alone. '}`
          : `Edge: onnxruntime-node in process, timed alone after the rest. ` + scored.note) +
        `Load average (1/5/15 min) ${loadStart.map((l) => l.toFixed(2)).join('/')} at start, ${loadEnd.map((l) => l.toFixed(2)).join('/')} at end.` +
        (scored.added ? ` ${scored.added}` : ''),
      machine: `${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} cores, Node ${process.version}, Chromium ${chromium}`,
      createdAt: new Date().toISOString(),
      loadAverage: { start: loadStart.map((l) => Math.round(l * 100) / 100), end: loadEnd.map((l) => Math.round(l * 100) / 100) },
      minutes: Math.round(minutes * 10) / 10,
    },
    models: models.map(({ path: _p, ...m }) => m),
    runtimes,
    accuracy: scored.accuracy,
    reencode: scored.reencode,
    splits,
    transfer: scored.transfer,
    content: scored.content,
    defaults: {
      det: det0.id,
      maxSide: DEFAULT_SIDE,
      rec: rec0.id,
      cls: null,
      ...(runtimes.some((r) => r.id === DEFAULT_DEVICE_RUNTIME) ? { deviceRuntime: DEFAULT_DEVICE_RUNTIME } : {}),
      edgeRuntime: DEFAULT_EDGE_RUNTIME,
    },
  };
  const withCompact = await profileCompact(parseProfiles(profiles), manifest, REPOSITORY_DIR, { warmup: plan(1).warmup, reps: plan(1).reps, log });
  const text = JSON.stringify(withCompact, null, 1) + '\n';
  const targets = args.out ? [resolve(args.out)] : [TRACKED_PROFILES, SERVED_PROFILES];
  for (const t of targets) {
    mkdirSync(dirname(t), { recursive: true });
    writeFileSync(t, text);
  }
  log(`wrote ${targets.join(', ')} in ${minutes.toFixed(1)} min; load average ${loadEnd.map((l) => l.toFixed(2)).join(' ')}`);
}

await main();
