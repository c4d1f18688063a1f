/**
 * Asks the service worker to keep the device runtime (the OCR worker's script, onnxruntime's script and WASM) once a
 * device run has needed it. They are not precached, so a visit that only uses the edge never downloads 14 MB; the
 * worker that fetched them may have started before the service worker took over the page, and then the service
 * worker never saw them. Workbox answers CACHE_URLS through the runtime cache's CacheFirst route: a URL already kept
 * is not fetched again, and one the worker just fetched comes from the browser's HTTP cache (immutable assets).
 */
export function keepRuntimeOffline(urls: readonly string[]): void {
  const sameOrigin = urls.filter((u) => new URL(u, location.href).origin === location.origin);
  if (sameOrigin.length === 0 || !navigator.serviceWorker) return;
  // Without a registration (plain-HTTP LAN address) `ready` never settles, and there is nothing to keep anyway.
  void navigator.serviceWorker.ready.then((registration) => registration.active?.postMessage({ type: 'CACHE_URLS', payload: { urlsToCache: sameOrigin } }));
}
