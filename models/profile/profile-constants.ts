/** What the profiler measures and where it writes: shared by the profiler, its test and the README table. */
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const MODELS_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const REPOSITORY_DIR = join(MODELS_DIR, 'repository');
export const SPLIT_POINTS = join(MODELS_DIR, 'variants', 'det-split-points.json');
/** Tracked copy; `npm run models` installs it as the served one. */
export const TRACKED_PROFILES = join(MODELS_DIR, 'profiles.json');
export const SERVED_PROFILES = join(REPOSITORY_DIR, 'profiles.json');

/** Detector longest-side ladder. */
export const LADDER = [320, 480, 640, 800, 960];
export const QUICK_LADDER = [320, 640, 960];
export const DEFAULT_SIDE = 960;
export const NODE_THREADS = [1, 2];
export const BROWSER_THREADS = [1, 2];
/** Chromium CPU throttling rates: 1 = this machine, 4 = a mid-range phone. */
export const THROTTLES = [1, 4];
export const REENCODE = [
  { maxSide: 640, quality: 0.8 },
  { maxSide: 960, quality: 0.6 },
  { maxSide: 960, quality: 0.8 },
  { maxSide: 1280, quality: 0.8 },
];

export const deviceRuntimeId = (threads: number, throttle: number) => `device-wasm-${threads}t-cpu${throttle}x`;
export const edgeRuntimeId = (threads: number) => `edge-ort-node-${threads}t`;
/** The edge server's default pool runs single-thread sessions (edge-server/config.ts); a 4x-throttled page stands for a phone. */
export const DEFAULT_EDGE_RUNTIME = edgeRuntimeId(1);
export const DEFAULT_DEVICE_RUNTIME = deviceRuntimeId(1, 4);
