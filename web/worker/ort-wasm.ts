import * as ort from 'onnxruntime-web/wasm';
// Resolved by the bundler to a file on our own origin, never a CDN.
import wasmUrl from 'onnxruntime-web/ort-wasm-simd-threaded.wasm?url';

export type Ort = typeof ort;

/** This runtime's script and WASM, for the service worker to keep for offline use. */
export const wasmRuntimeUrls = (): string[] => [import.meta.url, new URL(wasmUrl, self.location.href).href];

/** The CPU build (14 MB WASM): what most phones run. */
export function wasmRuntime(threads: number): Ort {
  ort.env.wasm.wasmPaths = { wasm: new URL(wasmUrl, self.location.href).href };
  ort.env.wasm.numThreads = threads;
  // Already inside a worker: ORT's own proxy worker would only add a hop.
  ort.env.wasm.proxy = false;
  ort.env.logLevel = 'error';
  return ort;
}
