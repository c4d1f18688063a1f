import * as ort from 'onnxruntime-web/webgpu';
import wasmUrl from 'onnxruntime-web/ort-wasm-simd-threaded.asyncify.wasm?url';
import type { Ort } from './ort-wasm';

/** This runtime's script and WASM, for the service worker to keep for offline use. */
export const webgpuRuntimeUrls = (): string[] => [import.meta.url, new URL(wasmUrl, self.location.href).href];

/** The WebGPU build (27 MB WASM), only imported once an adapter is known to exist. */
export function webgpuRuntime(threads: number, adapter: GPUAdapter): Ort {
  ort.env.wasm.wasmPaths = { wasm: new URL(wasmUrl, self.location.href).href };
  ort.env.wasm.numThreads = threads;
  ort.env.wasm.proxy = false;
  ort.env.webgpu.adapter = adapter;
  ort.env.logLevel = 'error';
  return ort as Ort;
}
