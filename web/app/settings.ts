import type { LoadOptions } from '../worker/api';
import type { Mode } from '../placement/page-planner';

const MODE_KEY = 'tandem.mode';
const MODES: Mode[] = ['auto', 'device', 'edge'];

export function savedMode(): Mode {
  const stored = localStorage.getItem(MODE_KEY) as Mode | null;
  return stored && MODES.includes(stored) ? stored : 'auto';
}

export function saveMode(mode: Mode): void {
  localStorage.setItem(MODE_KEY, mode);
}

/** Device runtime overrides from the address (`?backend=wasm&threads=1&variant=int8-weights`), for comparing runtimes on one phone. */
export function loadOptionsFromUrl(search: string): LoadOptions {
  const params = new URLSearchParams(search);
  const options: LoadOptions = {};
  const backend = params.get('backend');
  if (backend === 'auto' || backend === 'wasm' || backend === 'webgpu') options.backend = backend;
  const variant = params.get('variant');
  if (variant === 'fp32' || variant === 'int8-weights' || variant === 'fp16') options.variant = variant;
  const threads = Number(params.get('threads'));
  if (Number.isInteger(threads) && threads >= 1 && threads <= 16) options.threads = threads;
  return options;
}
