/** Where public/share-target-sw.js leaves an image shared to the installed app (Web Share Target). */
const SHARED_CACHE = 'tandem-shared';
const SHARED_KEY = '/shared-image';

/** The image shared to the app, once: it is removed as it is read, and `?shared` leaves the address. */
export async function takeSharedImage(): Promise<Blob | undefined> {
  const url = new URL(location.href);
  if (!url.searchParams.has('shared') || !('caches' in globalThis)) return undefined;
  url.searchParams.delete('shared');
  history.replaceState(null, '', url);
  const cache = await caches.open(SHARED_CACHE);
  const response = await cache.match(SHARED_KEY);
  await cache.delete(SHARED_KEY);
  return response ? response.blob() : undefined;
}
