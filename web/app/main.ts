import { firstDownload, type Observation, type RequestInfo } from '../../core/placement';
import { hasCode, messageOf } from '../coded-error';
import { edgeOcr } from '../edge-client';
import type { Manifest } from '../../core/models/manifest';
import { ModelStore } from '../model-store';
import type { Executors } from '../placement/execute';
import { LinkMonitor } from '../placement/link-monitor';
import { buildObservation, deviceModelStates, transferKbps, warmUpRequest } from '../placement/observations';
import { PagePlanner, type Mode, type PageDecision } from '../placement/page-planner';
import type { LoadInfo, LoadProgress } from '../worker/api';
import { DEFAULT_DEVICE_VARIANT, isDeviceVariant, pickModels } from '../worker/model-choice';
import { DeviceOcr } from './device-ocr';
import { DeviceWork } from './device-work';
import { byId, formatBytes } from './dom';
import { bindImageInput } from './image-input';
import { keepRuntimeOffline } from './offline-runtime';
import { runOcr, type OcrOutcome } from './run-ocr';
import { buildRunRecord, publishRun, type RunRecord } from './run-record';
import { DEFAULT_BUDGET_MS, loadOptionsFromUrl, runSettingsFromUrl, saveAutoSettings, saveMode, savedAutoSettings, savedMode } from './settings';
import { renderModels, renderProgress } from './views/models';
import { LinesView, linesText } from './views/lines';
import { RunsChart } from './views/runs-chart';
import { statusText } from './views/status';
import { renderVariants, variantSets, type VariantSet } from './views/variants';
import { readingOrder } from './reading-order';
import { bindSpeedPresets } from './speed';
import { setupPwa } from './pwa';
import { takeSharedImage } from './share-target';
import { fetchManifest } from '../model-store/download';
import type { ModelVariant } from '../worker/api';
import type { OcrLine } from '../../core/ocr/types';
import { Preview } from './views/preview';
import { renderResult } from './views/results';

const ui = {
  status: byId('status'),
  drop: byId('drop'),
  camera: byId<HTMLInputElement>('camera'),
  file: byId<HTMLInputElement>('file'),
  preview: new Preview(byId<HTMLCanvasElement>('preview')),
  mode: byId<HTMLSelectElement>('mode'),
  budget: byId<HTMLInputElement>('budget'),
  saveData: byId<HTMLInputElement>('save-data'),
  cellularOffload: byId<HTMLInputElement>('cellular-offload'),
  link: byId('link'),
  profiles: byId('profiles'),
  plan: byId('plan'),
  prediction: byId<HTMLTableElement>('prediction'),
  run: byId<HTMLButtonElement>('run'),
  stop: byId<HTMLButtonElement>('stop'),
  progressWrap: byId('progress-wrap'),
  progress: byId<HTMLProgressElement>('progress'),
  progressLabel: byId('progress-label'),
  error: byId('error'),
  result: byId('result'),
  where: byId('where'),
  lines: byId<HTMLOListElement>('lines'),
  copy: byId<HTMLButtonElement>('copy'),
  share: byId<HTMLButtonElement>('share'),
  copied: byId('copied'),
  showBoxes: byId<HTMLInputElement>('show-boxes'),
  details: byId<HTMLDetailsElement>('details'),
  variants: byId<HTMLUListElement>('variants'),
  install: byId<HTMLButtonElement>('install'),
  update: byId('update'),
  updateReload: byId<HTMLButtonElement>('update-reload'),
  offlineBadge: byId('offline-badge'),
  speed: [...document.querySelectorAll<HTMLInputElement>('input[name="speed"]')],
  timings: byId<HTMLTableElement>('timings'),
  record: byId('record'),
  models: byId<HTMLUListElement>('models'),
  storage: byId('storage'),
  download: byId<HTMLButtonElement>('download'),
  deleteAll: byId<HTMLButtonElement>('delete-all'),
  backend: byId('backend'),
};

const device = new DeviceOcr();
const loadOptions = loadOptionsFromUrl(location.search);
const runSettings = runSettingsFromUrl(location.search);
let image: Blob | undefined;
let storePromise: Promise<ModelStore> | undefined;
const link = new LinkMonitor(() => renderStatus());
let plannerPromise: Promise<PagePlanner> | undefined;
/** What the device holds, for the planner's model states. */
const deviceFacts = { manifest: undefined as Manifest | undefined, stored: new Set<string>(), warm: new Set<string>() };

const deviceWork = new DeviceWork();
/**
 * The one variant set the device may run when the address names it (`?variant=`, for comparisons); otherwise the
 * planner chooses among every set, held or fetchable, request by request.
 */
const variantOverride: ModelVariant | undefined = loadOptions.variant;

/** The variant set the device runtime has loaded, if any. */
/** Whether every model of `variant`'s set is stored on this device. */
function holdsSet(variant: ModelVariant): boolean {
  const manifest = deviceFacts.manifest;
  if (manifest === undefined) return false;
  try {
    return Object.values(pickModels(manifest, variant)).every((m) => deviceFacts.stored.has(m.name));
  } catch {
    return false;
  }
}

function loadedVariant(): ModelVariant | undefined {
  const v = device.info?.models[0]?.variant ?? null;
  return isDeviceVariant(v) ? v : undefined;
}
const chart = new RunsChart(byId('runs-chart'), byId('runs-chart-summary'));
/** The lines shown, in reading order, with the photo size their boxes are in. */
let shown: { lines: OcrLine[]; image: { width: number; height: number } } = { lines: [], image: { width: 1, height: 1 } };
let selectedLine = -1;
const linesView = new LinesView(ui.lines, (i) => selectLine(i, false));

function planner(): Promise<PagePlanner> {
  plannerPromise ??= PagePlanner.create(variantOverride ?? null, { policy: runSettings.policy, learned: runSettings.learned });
  plannerPromise.then(renderProfiles, () => (plannerPromise = undefined));
  return plannerPromise;
}

function renderProfiles(p: PagePlanner): void {
  ui.profiles.dataset.source = p.source.source;
  ui.profiles.dataset.restoredFits = String(p.restoredFits);
  ui.profiles.dataset.policy = p.planner.policy.name;
  ui.profiles.dataset.learned = String(p.keepsLearned);
  ui.profiles.textContent =
    (p.source.source === 'example'
      ? `Planning with example figures (${p.source.note ?? 'built in'}), corrected by every run on this device.`
      : `Planning with measured profiles: ${p.profiles.source.description}`) +
    (p.restoredFits > 0 ? ` Restored ${p.restoredFits} stage fits learnt on earlier visits.` : '') +
    (p.planner.policy.name !== 'tandem' ? ` Auto mode uses the ${p.planner.policy.name} policy.` : '') +
    (p.keepsLearned ? '' : ' Nothing learnt is restored or kept (learned=0).');
}

function budgetMs(): number {
  const ms = Number(ui.budget.value);
  return Number.isFinite(ms) && ms >= 100 ? ms : DEFAULT_BUDGET_MS;
}

function saveSettings(): void {
  saveAutoSettings({ budgetMs: budgetMs(), saveData: ui.saveData.checked, offloadOnCellular: ui.cellularOffload.checked });
}

function restoreSettings(): void {
  const saved = savedAutoSettings();
  if (saved.budgetMs !== undefined) ui.budget.value = String(saved.budgetMs);
  if (saved.saveData !== undefined) ui.saveData.checked = saved.saveData;
  if (saved.offloadOnCellular !== undefined) ui.cellularOffload.checked = saved.offloadOnCellular;
  if (runSettings.budgetMs !== undefined) ui.budget.value = String(runSettings.budgetMs);
}

/** The device runtime the planner predicts for: the loaded one, else what a load would start. */
function deviceRuntime(): { backend: string; threads: number } {
  const info = device.info;
  if (info) return { backend: info.backend, threads: info.threads };
  const threads = loadOptions.threads ?? (globalThis.crossOriginIsolated ? Math.min(4, navigator.hardwareConcurrency || 1) : 1);
  return { backend: loadOptions.backend === 'webgpu' ? 'webgpu' : 'wasm', threads };
}

function observation(p: PagePlanner, request: RequestInfo): Observation {
  const loaded = new Set((device.info?.models ?? []).map((m) => m.name));
  const models = deviceModelStates(p.profiles, {
    manifest: deviceFacts.manifest?.models ?? [],
    stored: deviceFacts.stored,
    loaded,
    warm: new Set([...deviceFacts.warm].filter((n) => loaded.has(n))),
  });
  return buildObservation({
    nowMs: performance.now(),
    online: navigator.onLine,
    connection: link.connection,
    networkChanges: link.networkChanges,
    rtt: link.rtt.list,
    throughput: link.throughput.list,
    device: { ...deviceRuntime(), models, busyMs: deviceWork.busyMs() },
    edge: { status: link.status, statusAtMs: link.statusAtMs },
    request,
    preferences: { costWeight: 0, saveData: ui.saveData.checked, offloadOnCellular: ui.cellularOffload.checked },
  });
}

async function refreshDeviceFacts(): Promise<void> {
  const s = await store();
  const [manifest, records] = await Promise.all([s.storedManifest(), s.list()]);
  deviceFacts.manifest = manifest;
  deviceFacts.stored = new Set(records.map((r) => r.name));
}

function store(): Promise<ModelStore> {
  storePromise ??= ModelStore.open();
  storePromise.catch(() => (storePromise = undefined));
  return storePromise;
}

type State = 'idle' | 'loading' | 'running' | 'done' | 'error';

function setState(state: State): void {
  document.body.dataset.state = state;
  ui.run.disabled = state === 'running' || state === 'loading' || !image;
  ui.stop.hidden = state !== 'running';
}

/** Stops the read under way (Stop button): a slow phone may take half a minute on a long receipt. */
let stopRead: AbortController | undefined;

function showError(error: unknown): void {
  ui.error.hidden = false;
  ui.error.textContent = error instanceof Error ? `${error.message} (${error.name})` : String(error);
  ui.error.dataset.code = error instanceof Error ? error.name : 'Error';
}

function renderStatus(): void {
  const isolated = globalThis.crossOriginIsolated === true;
  const offlineReady = Boolean(navigator.serviceWorker?.controller);
  ui.status.textContent = statusText({
    online: navigator.onLine,
    edgeReachable: link.edgeReachable,
    offlineReady,
    device: device.info ? 'running' : deviceFacts.stored.size > 0 ? 'stored' : 'none',
  });
  ui.status.title = `cross-origin isolated: ${isolated ? 'yes' : 'no (one thread)'}`;
  ui.status.dataset.edge = link.edgeReachable === undefined ? '' : String(link.edgeReachable);
  ui.status.dataset.coi = String(isolated);
  ui.status.dataset.online = String(navigator.onLine);
  ui.status.dataset.offlineReady = String(offlineReady);
  renderLink();
}

function renderLink(): void {
  const rtt = link.rtt.list.at(-1);
  const probe = link.lastProbe;
  const kbps = probe ? transferKbps(probe, rtt?.rttMs ?? 0) : null;
  const downKbps = link.lastDownProbe ? transferKbps(link.lastDownProbe, rtt?.rttMs ?? 0) : null;
  ui.link.dataset.probe = link.probeState;
  ui.link.dataset.upKbps = kbps === null ? '' : kbps.toFixed(0);
  ui.link.dataset.downKbps = downKbps === null ? '' : downKbps.toFixed(0);
  ui.link.textContent = [
    rtt ? `RTT ${Math.round(rtt.rttMs)} ms` : 'RTT not measured yet',
    kbps !== null ? `uplink probe ${Math.round(kbps)} kbit/s` : `uplink probe ${link.probeState}`,
    downKbps !== null ? `downlink probe ${Math.round(downKbps)} kbit/s` : '',
  ]
    .filter(Boolean)
    .join(' · ');
}

function renderBackend(info: LoadInfo | undefined, note?: string): void {
  ui.backend.dataset.backend = info?.backend ?? '';
  ui.backend.dataset.threads = info ? String(info.threads) : '';
  ui.backend.dataset.modelSource = info?.modelSource ?? '';
  ui.backend.title = info ? `models ready in ${Math.round(info.timings.modelsMs)} ms, sessions in ${Math.round(info.timings.sessionsMs)} ms` : '';
  ui.backend.textContent = info
    ? `${info.backend}${info.backend === 'wasm' ? ` · ${info.threads} thread${info.threads === 1 ? '' : 's'}` : ''}` +
      (info.webgpuSkipped ? ` (WebGPU not used: ${info.webgpuSkipped})` : '')
    : (note ?? 'not loaded');
}

function onProgress(progress: LoadProgress): void {
  renderProgress(ui.progressWrap, ui.progress, ui.progressLabel, progress.loaded, progress.total);
}

/** The server's manifest when reachable, else the one stored with the models. */
async function offeredManifest(): Promise<Manifest | undefined> {
  try {
    return await fetchManifest(new URL('/models/manifest.json', location.origin));
  } catch {
    return (await store()).storedManifest();
  }
}

async function keepVariant(variant: ModelVariant): Promise<void> {
  ui.error.hidden = true;
  try {
    const s = await store();
    await s.ensure((manifest) => Object.values(pickModels(manifest, variant)), onProgress);
    ui.progressWrap.hidden = true;
    await navigator.storage?.persist?.().catch(() => false);
  } catch (error) {
    ui.progressWrap.hidden = true;
    showError(error);
  }
  await refreshModels();
  await refreshDeviceFacts().catch(() => undefined);
}

async function removeVariant(set: VariantSet): Promise<void> {
  const inUse = set.variant === loadedVariant();
  if (inUse) device.terminate();
  deviceFacts.warm.clear();
  if (inUse) renderBackend(undefined);
  const s = await store();
  for (const name of set.names) await s.delete(name);
  await refreshModels();
  await refreshDeviceFacts().catch(() => undefined);
}

async function refreshModels(): Promise<void> {
  try {
    const records = await (await store()).list();
    renderModels(ui.models, records, (name) => void removeModels(name));
    const manifest = await offeredManifest().catch(() => undefined);
    // The set in use: the loaded one, else the one the planner would fetch first.
    const inUse = loadedVariant() ?? (await firstVariant().catch(() => undefined));
    renderVariants(ui.variants, manifest ? variantSets(manifest, records) : [], inUse, {
      keep: (v) => void keepVariant(v),
      remove: (set) => void removeVariant(set).catch(showError),
    });
    renderStatus();
    const estimate = await navigator.storage?.estimate?.();
    ui.storage.textContent = estimate?.quota ? `Storage used ${formatBytes(estimate.usage ?? 0)} of ${formatBytes(estimate.quota)}.` : '';
  } catch (error) {
    ui.storage.textContent = messageOf(error);
  }
}

/** Lines recognised by the warm-up: a few, so a slow phone is not kept busy long. */
const WARM_UP_LINES = 4;
/** A reply that waited this long in the edge's queue saw it busy: the next request asks it again first. */
const BUSY_QUEUE_MS = 250;

/**
 * Runs the models once on blank input and tells the planner how fast they ran, so the first photo is placed for
 * this device rather than for the profiles' default one. A failed warm-up only leaves the planner to learn from
 * the first run.
 */
async function warmUp(): Promise<void> {
  const p = await planner();
  const maxSide = p.profiles.defaults.maxSide;
  const warm = await deviceWork.track(() =>
    link.busyWhile(() =>
      device.warmUp({
        maxSide,
        width: maxSide,
        height: Math.round((maxSide * 3) / 4),
        lines: WARM_UP_LINES,
        lineTensorBytes: p.profiles.transfer.cropBytesPerLine,
      }),
    ),
  );
  for (const m of device.info?.models ?? []) deviceFacts.warm.add(m.name);
  p.observeWarmUp(observation(p, warmUpRequest(warm, budgetMs())), warm);
}

/**
 * Starts the device runtime with the models of `variant` (fetched when the device does not hold them; another set
 * already loaded is released first); `warm` runs the warm-up before the runtime is shown as ready (a request that
 * needs the device at once skips it: its own run teaches the planner).
 */
async function loadDevice(variant: ModelVariant, warm = true): Promise<LoadInfo> {
  if (device.info && loadedVariant() !== variant) {
    await device.release();
    deviceFacts.warm.clear();
  }
  const info = await link.busyWhile(() => device.load({ ...loadOptions, variant }, onProgress));
  ui.progressWrap.hidden = true;
  keepRuntimeOffline(info.runtimeUrls);
  await refreshDeviceFacts().catch(() => undefined);
  if (warm) await warmUp().catch((error: unknown) => console.warn(`Device warm-up failed: ${messageOf(error)}`));
  renderBackend(info);
  if (info.modelSource === 'network') {
    // Ask the browser not to evict the models under storage pressure (Safari drops unpersisted data after 7 days).
    await navigator.storage?.persist?.().catch(() => false);
    await refreshModels();
  }
  return info;
}

async function removeModels(name?: string): Promise<void> {
  // Running sessions hold their own copy; end the worker so what is shown matches what is stored.
  device.terminate();
  deviceFacts.warm.clear();
  renderBackend(undefined);
  const models = await store();
  await (name ? models.delete(name) : models.clear());
  await refreshModels();
  await refreshDeviceFacts().catch(() => undefined);
}

const executors: Executors = {
  async deviceReady(variant, use = 'plan') {
    const wanted = isDeviceVariant(variant) ? variant : (variantOverride ?? DEFAULT_DEVICE_VARIANT);
    if (device.info && loadedVariant() === wanted) return { ms: 0 };
    if (device.info && (use === 'loaded' || (use === 'held' && !holdsSet(wanted)))) return { ms: 0 };
    const started = performance.now();
    await loadDevice(wanted, false);
    return { ms: performance.now() - started };
  },
  async deviceOcr(blob, options, signal) {
    const result = await deviceWork.track(() => device.ocr(blob, options, signal));
    for (const m of device.info?.models ?? []) deviceFacts.warm.add(m.name);
    return result;
  },
  reencode: (blob, maxSide, quality) => device.reencode(blob, maxSide, quality),
  edgeOcr: (blob, options) => edgeOcr(blob, options),
  now: () => performance.now(),
};

/** Requests finished on this page so far (the next record's position). */
let runs = 0;

async function run(): Promise<void> {
  if (!image || document.body.dataset.state === 'running') return;
  const photo = image;
  const stop = new AbortController();
  stopRead = stop;
  setState('running');
  ui.error.hidden = true;
  const startedAt = Date.now();
  const startMs = performance.now();
  const mode = ui.mode.value as Mode;
  const budget = budgetMs();
  let placement: PageDecision | undefined;
  const shown = ui.preview.size;
  let firstShownMs: number | undefined;
  const record = (result: { outcome: OcrOutcome } | { error: unknown }, endMs = performance.now()): RunRecord => {
    const r = buildRunRecord({
      seq: runs++,
      startedAt,
      startMs,
      endMs,
      mode,
      autoPolicy: runSettings.policy,
      budgetMs: budget,
      photo: { bytes: photo.size, type: photo.type, width: shown?.width, height: shown?.height },
      placement,
      ...result,
    });
    publishRun(r, window);
    chart.add(r);
    return r;
  };
  try {
    const p = await planner();
    const size = ui.preview.size;
    if (!size) throw new Error('The photo is not shown yet; pick it again.');
    const outcome = await link.busyWhile(() =>
      runOcr(photo, mode, {
        planner: p,
        observe: (request) => observation(p, request),
        executors,
        deviceSplit: {
          detect: (blob, options, signal) => deviceWork.track(() => device.detect(blob, options, signal)),
          recognize: async (id, options, signal) => {
            const result = await deviceWork.track(() => device.recognizeSplit(id, options, signal));
            for (const m of device.info?.models ?? []) deviceFacts.warm.add(m.name);
            return result;
          },
        },
        forcedShare: loadOptions.recEdgeShare,
        refreshLink: () => link.refreshIfStale(),
        deviceInfo: () => device.info,
        imageSize: size,
        budgetMs: budget,
        onDecision: (d) => (placement = d),
        signal: stop.signal,
        onFirstAnswer: (first) => {
          if (photo !== image) return;
          show(first);
          ui.where.textContent += ' · reading again at a larger size';
          firstShownMs = performance.now();
        },
      }),
    );
    if (outcome.target === 'edge') link.edgeReachable = true;
    if (outcome.fellBack) link.edgeFailed();
    if (outcome.retried !== undefined || (outcome.stages.find(([stage]) => stage === 'queue')?.[1] ?? 0) > BUSY_QUEUE_MS) link.edgeWasBusy();
    renderStatus();
    // A photo picked while this one was being read gets its own run; don't show stale boxes over it.
    if (photo !== image) {
      record({ outcome });
      return setState('idle');
    }
    show(outcome);
    // The record's wall time ends here, with the lines shown (or with the first answer, when a second look did not
    // replace it); it is published before the state says done.
    const done = record({ outcome }, outcome.secondLook && !outcome.secondLook.used && firstShownMs !== undefined ? firstShownMs : performance.now());
    ui.record.textContent = JSON.stringify(done, null, 1);
    setState('done');
  } catch (error) {
    ui.progressWrap.hidden = true;
    if (error instanceof Error && ['EdgeUnreachable', 'EdgeTimeout'].includes(error.name)) link.edgeFailed();
    showError(error);
    record({ error });
    // A read the user stopped is no failure: the app is ready for the next one.
    setState(hasCode(error, 'Stopped') ? 'idle' : 'error');
  } finally {
    if (stopRead === stop) stopRead = undefined;
  }
}

function show(outcome: OcrOutcome): void {
  renderResult(outcome, { where: ui.where, plan: ui.plan, timings: ui.timings, prediction: ui.prediction });
  showLines(readingOrder(outcome.lines), outcome.image);
  ui.result.hidden = false;
}

function showLines(lines: OcrLine[], image: { width: number; height: number }): void {
  shown = { lines, image };
  selectedLine = -1;
  ui.copied.textContent = '';
  linesView.render(lines, image);
  drawPreview();
}

function drawPreview(): void {
  ui.preview.draw(shown.lines, shown.image, { boxes: ui.showBoxes.checked, selected: selectedLine });
}

/** Highlights line `i` in the list and its box on the photo; a second tap on the same line clears it. */
function selectLine(i: number, fromPhoto: boolean): void {
  selectedLine = i === selectedLine && !fromPhoto ? -1 : i;
  linesView.select(selectedLine, fromPhoto);
  // A chosen line is shown on the photo even when the boxes were hidden.
  if (selectedLine >= 0 && !ui.showBoxes.checked) ui.showBoxes.checked = true;
  drawPreview();
}

async function copyLines(): Promise<void> {
  const text = linesText(shown.lines);
  try {
    await navigator.clipboard.writeText(text);
    ui.copied.textContent = `Copied ${shown.lines.length} line${shown.lines.length === 1 ? '' : 's'}.`;
  } catch (error) {
    ui.copied.textContent = `Could not copy (${messageOf(error)}); select the text and copy it instead.`;
  }
}

async function shareLines(): Promise<void> {
  try {
    await navigator.share({ title: 'Text from a photo', text: linesText(shown.lines) });
  } catch (error) {
    // Closing the share sheet is not an error.
    if (!(error instanceof DOMException && error.name === 'AbortError')) ui.copied.textContent = `Could not share (${messageOf(error)}).`;
  }
}

async function chooseImage(file: Blob): Promise<void> {
  const running = document.body.dataset.state === 'running';
  image = file;
  ui.error.hidden = true;
  ui.result.hidden = true;
  shown = { lines: [], image: { width: 1, height: 1 } };
  if (!running) setState('loading');
  try {
    await ui.preview.show(file);
  } catch (error) {
    showError(error);
  }
  if (document.body.dataset.state !== 'running') setState('idle');
}

/** The set to fetch when a person asks for the models before any request: the planner's first download. */
async function firstVariant(): Promise<ModelVariant> {
  if (variantOverride) return variantOverride;
  const p = await planner();
  const first = firstDownload(p.profiles, p.planner.state.options.variantTolerance)?.variant ?? null;
  return isDeviceVariant(first) ? first : DEFAULT_DEVICE_VARIANT;
}

/** A whole set the device holds (the named one with `?variant=`, else the smallest), to start with. */
function heldVariant(manifest: Manifest, records: Awaited<ReturnType<ModelStore['list']>>): ModelVariant | undefined {
  const held = variantSets(manifest, records).filter((s) => s.stored && (variantOverride === undefined || s.variant === variantOverride));
  return held.sort((a, b) => a.bytes - b.bytes)[0]?.variant;
}

function boot(): void {
  globalThis.tandemRuns ??= [];
  setupPwa({ install: ui.install, update: ui.update, updateReload: ui.updateReload, offlineBadge: ui.offlineBadge }, renderStatus);
  restoreSettings();
  for (const input of [ui.budget, ui.saveData, ui.cellularOffload]) input.addEventListener('change', saveSettings);
  bindSpeedPresets(ui.speed, ui.budget);
  ui.copy.addEventListener('click', () => void copyLines());
  ui.share.hidden = typeof navigator.share !== 'function';
  ui.share.addEventListener('click', () => void shareLines());
  ui.showBoxes.addEventListener('change', drawPreview);
  byId('preview').addEventListener('click', (event) => {
    const i = ui.preview.lineAt(event.clientX, event.clientY);
    if (i >= 0) selectLine(i, true);
  });
  ui.details.addEventListener('toggle', () => ui.details.open && chart.draw());
  renderStatus();
  link.start();
  void planner();
  void refreshDeviceFacts().catch(() => undefined);

  ui.mode.value = runSettings.mode ?? savedMode();
  ui.mode.addEventListener('change', () => saveMode(ui.mode.value as Mode));
  ui.run.addEventListener('click', () => void run());
  ui.stop.addEventListener('click', () => stopRead?.abort());
  bindImageInput(ui.drop, [ui.camera, ui.file], (file) => void chooseImage(file));
  ui.download.addEventListener('click', () => {
    ui.error.hidden = true;
    firstVariant()
      .then((variant) => loadDevice(variant))
      .catch(showError);
  });
  ui.deleteAll.addEventListener('click', () => void removeModels().catch(showError));

  void refreshModels();
  void takeSharedImage()
    .then((shared) => shared && chooseImage(shared))
    .catch(showError);
  // Models already on the device: start the runtime now so the first photo doesn't wait for it.
  void store()
    .then(async (s) => {
      const manifest = await s.storedManifest();
      const variant = manifest ? heldVariant(manifest, await s.list()) : undefined;
      return variant ? loadDevice(variant) : undefined;
    })
    .catch((error: unknown) => renderBackend(undefined, `not loaded: ${messageOf(error)}`));
}

boot();
