import type { ManifestModel } from '../../core/models/manifest';
import { codedError, messageOf } from '../coded-error';
import type { ModelStore } from '../model-store';
import type { BackendChoice } from './api';
import { SessionSet } from './sessions';

export interface Started {
  sessions: SessionSet;
  threads: number;
  webgpuSkipped?: string;
  /** The runtime's script and WASM URLs. */
  runtimeUrls: string[];
}

export function defaultThreads(): number {
  // Without cross-origin isolation there is no SharedArrayBuffer, and ORT silently falls back to one thread.
  return self.crossOriginIsolated ? Math.min(4, navigator.hardwareConcurrency || 1) : 1;
}

/**
 * WebGPU when asked for (or 'auto') and an adapter exists and every session creates on it; otherwise WASM.
 * Each runtime is imported only when chosen, so a phone without WebGPU never downloads its 27 MB build.
 */
export async function startSessions(choice: BackendChoice, threads: number, models: ManifestModel[], store: ModelStore): Promise<Started> {
  let webgpuSkipped: string | undefined;
  if (choice !== 'wasm') {
    const adapter = await findAdapter(choice);
    if (typeof adapter === 'string') {
      webgpuSkipped = adapter;
    } else {
      try {
        const { webgpuRuntime, webgpuRuntimeUrls } = await import('./ort-webgpu');
        const sessions = await SessionSet.create(webgpuRuntime(threads, adapter), 'webgpu', models, store);
        return { sessions, threads, runtimeUrls: webgpuRuntimeUrls() };
      } catch (error) {
        if (choice === 'webgpu') throw error;
        webgpuSkipped = `WebGPU sessions failed: ${messageOf(error)}`;
      }
    }
    if (choice === 'webgpu') {
      throw codedError('BackendUnavailable', `WebGPU was requested but is not usable here: ${webgpuSkipped}. Choose WASM.`);
    }
  }
  const { wasmRuntime, wasmRuntimeUrls } = await import('./ort-wasm');
  const sessions = await SessionSet.create(wasmRuntime(threads), 'wasm', models, store);
  return { sessions, threads, webgpuSkipped, runtimeUrls: wasmRuntimeUrls() };
}

/** The adapter, or the reason there is none worth using. */
async function findAdapter(choice: BackendChoice): Promise<GPUAdapter | string> {
  if (!('gpu' in navigator) || !navigator.gpu) return 'this browser has no WebGPU';
  let adapter: GPUAdapter | null = null;
  try {
    adapter = await navigator.gpu.requestAdapter();
  } catch (error) {
    return `requestAdapter failed: ${messageOf(error)}`;
  }
  // navigator.gpu exists on many devices where no adapter is available (Android, headless, blocklisted GPUs).
  if (!adapter) return 'no WebGPU adapter';
  // A software adapter (SwiftShader) runs these models ~80x slower than WASM; only use it when asked explicitly.
  if (choice === 'auto' && adapter.info?.isFallbackAdapter) return 'only a software WebGPU adapter';
  return adapter;
}
