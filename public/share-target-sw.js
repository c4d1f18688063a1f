// Web Share Target: the installed app appears in the phone's share sheet for images (manifest `share_target`).
// The share arrives as a multipart POST to /share-target; the image is kept for the page (web/app/share-target.ts),
// which opens with ?shared=1. Imported into the generated service worker ahead of its routes (which see GETs only).
self.addEventListener('fetch', (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== 'POST' || url.origin !== self.location.origin || url.pathname !== '/share-target') return;
  event.respondWith(
    (async () => {
      const form = await event.request.formData();
      const image = form.getAll('image').find((f) => typeof f !== 'string' && f.type.startsWith('image/'));
      if (!image) return Response.redirect('/', 303);
      const cache = await caches.open('tandem-shared');
      await cache.put('/shared-image', new Response(image, { headers: { 'Content-Type': image.type } }));
      return Response.redirect('/?shared=1', 303);
    })(),
  );
});
