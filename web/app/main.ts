import { registerSW } from 'virtual:pwa-register';
import { messageOf } from '../coded-error';
import { edgeStatus } from '../edge-client';
import { ModelStore } from '../model-store';
import type { LoadInfo, LoadProgress } from '../worker/api';
import { DeviceOcr } from './device-ocr';
import { byId, formatBytes } from './dom';
import { bindImageInput } from './image-input';
import type { Mode } from './placement';
import { runOcr } from './run-ocr';
import { loadOptionsFromUrl, saveMode, savedMode } from './settings';
import { renderModels, renderProgress } from './views/models';
import { Preview } from './views/preview';
import { renderResult } from './views/results';

const ui = {
  status: byId('status'),
  drop: byId('drop'),
  camera: byId<HTMLInputElement>('camera'),
  file: byId<HTMLInputElement>('file'),
  preview: new Preview(byId<HTMLCanvasElement>('preview')),
  mode: byId<HTMLSelectElement>('mode'),
  run: byId<HTMLButtonElement>('run'),
  progressWrap: byId('progress-wrap'),
  progress: byId<HTMLProgressElement>('progress'),
  progressLabel: byId('progress-label'),
  error: byId('error'),
  result: byId('result'),
  where: byId('where'),
  lines: byId<HTMLOListElement>('lines'),
  timings: byId<HTMLTableElement>('timings'),
  models: byId<HTMLUListElement>('models'),
  storage: byId('storage'),
  download: byId<HTMLButtonElement>('download'),
  deleteAll: byId<HTMLButtonElement>('delete-all'),
  backend: byId('backend'),
};

const device = new DeviceOcr();
const loadOptions = loadOptionsFromUrl(location.search);
let image: Blob | undefined;
/** Whether the edge answered lately; undefined until the first probe or request says. */
let edgeReachable: boolean | undefined;
let storePromise: Promise<ModelStore> | undefined;

function store(): Promise<ModelStore> {
  storePromise ??= ModelStore.open();
  storePromise.catch(() => (storePromise = undefined));
  return storePromise;
}

type State = 'idle' | 'loading' | 'running' | 'done' | 'error';

function setState(state: State): void {
  document.body.dataset.state = state;
  ui.run.disabled = state === 'running' || state === 'loading' || !image;
}

function showError(error: unknown): void {
  ui.error.hidden = false;
  ui.error.textContent = error instanceof Error ? `${error.message} (${error.name})` : String(error);
  ui.error.dataset.code = error instanceof Error ? error.name : 'Error';
}

function renderStatus(): void {
  const isolated = globalThis.crossOriginIsolated === true;
  const offlineReady = Boolean(navigator.serviceWorker?.controller);
  ui.status.textContent = [
    `crossOriginIsolated: ${isolated ? 'yes' : 'no (single-threaded)'}`,
    navigator.onLine ? 'online' : 'offline',
    edgeReachable === undefined ? 'edge: checking' : edgeReachable ? 'edge: reachable' : 'edge: unreachable',
    offlineReady ? 'works offline' : 'not yet installed for offline use',
  ].join(' · ');
  ui.status.dataset.edge = edgeReachable === undefined ? '' : String(edgeReachable);
  ui.status.dataset.coi = String(isolated);
  ui.status.dataset.online = String(navigator.onLine);
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

async function probeEdge(): Promise<void> {
  edgeReachable = navigator.onLine ? await edgeStatus().then(() => true, () => false) : false;
  renderStatus();
}

async function refreshModels(): Promise<void> {
  try {
    const records = await (await store()).list();
    renderModels(ui.models, records, (name) => void removeModels(name));
    const estimate = await navigator.storage?.estimate?.();
    ui.storage.textContent = estimate?.quota ? `Storage used ${formatBytes(estimate.usage ?? 0)} of ${formatBytes(estimate.quota)}.` : '';
  } catch (error) {
    ui.storage.textContent = messageOf(error);
  }
}

async function loadDevice(): Promise<LoadInfo> {
  const info = await device.load(loadOptions, onProgress);
  ui.progressWrap.hidden = true;
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
  renderBackend(undefined);
  const models = await store();
  await (name ? models.delete(name) : models.clear());
  await refreshModels();
}

async function run(): Promise<void> {
  if (!image || document.body.dataset.state === 'running') return;
  const photo = image;
  setState('running');
  ui.error.hidden = true;
  try {
    // The device path loads (and if needed downloads) models itself; make its backend visible the same way.
    const outcome = await runOcr(photo, ui.mode.value as Mode, {
      device: {
        load: () => loadDevice(),
        ocr: (blob) => device.ocr(blob),
      },
      online: navigator.onLine,
      edgeReachable,
    });
    if (outcome.target === 'edge') edgeReachable = true;
    if (outcome.fellBack) edgeReachable = false;
    renderStatus();
    // A photo picked while this one was being read gets its own run; don't show stale boxes over it.
    if (photo !== image) return setState('idle');
    renderResult(outcome, ui.where, ui.lines, ui.timings);
    ui.preview.draw(outcome.lines, outcome.image);
    ui.result.hidden = false;
    setState('done');
  } catch (error) {
    ui.progressWrap.hidden = true;
    showError(error);
    setState('error');
  }
  // Auto mode skips an edge that failed; look again so it is used once it is back.
  if (edgeReachable === false && navigator.onLine) void probeEdge();
}

async function chooseImage(file: Blob): Promise<void> {
  const running = document.body.dataset.state === 'running';
  image = file;
  ui.error.hidden = true;
  ui.result.hidden = true;
  if (!running) setState('loading');
  try {
    await ui.preview.show(file);
  } catch (error) {
    showError(error);
  }
  if (document.body.dataset.state !== 'running') setState('idle');
}

function boot(): void {
  registerSW({ immediate: true, onOfflineReady: renderStatus });
  navigator.serviceWorker?.addEventListener('controllerchange', renderStatus);
  addEventListener('online', () => void probeEdge());
  addEventListener('offline', () => void probeEdge());
  renderStatus();
  void probeEdge();

  ui.mode.value = savedMode();
  ui.mode.addEventListener('change', () => saveMode(ui.mode.value as Mode));
  ui.run.addEventListener('click', () => void run());
  bindImageInput(ui.drop, [ui.camera, ui.file], (file) => void chooseImage(file));
  ui.download.addEventListener('click', () => {
    ui.error.hidden = true;
    loadDevice().catch(showError);
  });
  ui.deleteAll.addEventListener('click', () => void removeModels().catch(showError));

  void refreshModels();
  // Models already on the device: start the runtime now so the first photo doesn't wait for it.
  void store()
    .then((s) => s.storedManifest())
    .then((manifest) => (manifest ? loadDevice() : undefined))
    .catch((error: unknown) => renderBackend(undefined, `not loaded: ${messageOf(error)}`));
}

boot();
