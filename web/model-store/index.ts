export { ModelStore } from './store';
export type { EnsureResult, ModelSelector, ModelStoreOptions } from './store';
export type { DownloadProgress, ProgressFn } from './download';
export type { ModelRecord } from './schema';
