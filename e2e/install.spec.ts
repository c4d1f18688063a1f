import { expect, test } from '@playwright/test';
import { waitForServiceWorker } from './support/app';

test('the app is installable: manifest, icons, and a service worker that precaches the shell but not the device runtime', async ({ page, request }) => {
  await page.goto('/');
  const href = await page.locator('link[rel="manifest"]').getAttribute('href');
  const manifest = await (await request.get(new URL(href!, page.url()).href)).json();
  expect(manifest).toMatchObject({ name: 'Tandem', short_name: 'Tandem', display: 'standalone', start_url: '/' });
  expect(manifest.theme_color).toMatch(/^#[0-9a-f]{6}$/i);
  const sizes = manifest.icons.map((icon: { sizes: string; purpose?: string }) => `${icon.sizes}${icon.purpose ? ` ${icon.purpose}` : ''}`);
  expect(sizes).toEqual(expect.arrayContaining(['192x192', '512x512', '512x512 maskable']));
  for (const icon of manifest.icons as { src: string }[]) {
    const response = await request.get(new URL(icon.src, page.url()).href);
    expect(response.headers()['content-type']).toContain('image/png');
  }

  await waitForServiceWorker(page);
  const cached = await page.evaluate(async () => {
    const urls: string[] = [];
    for (const name of await caches.keys()) {
      for (const request of await (await caches.open(name)).keys()) urls.push(new URL(request.url).pathname);
    }
    return urls;
  });
  // The 14 MB WASM runtime waits until a photo is first read on the device (offline.spec.ts checks it is kept then).
  expect(cached.filter((path) => path.endsWith('.wasm'))).toEqual([]);
  expect(cached).toContain('/index.html');
  expect(cached.filter((path) => /^\/(v1|v2|models)\//.test(path))).toEqual([]);
});
