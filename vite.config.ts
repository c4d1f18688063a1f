import { defineConfig } from 'vite';
import { VitePWA } from 'vite-plugin-pwa';
import { precompressTree } from './edge-server/http/precompress.ts';

/** Cross-origin isolation makes SharedArrayBuffer available, which multi-threaded WASM inference needs. */
const isolationHeaders = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin',
};

/** `npm run dev` forwards API and model requests to an edge server (`npm run serve`, port 8787 by default). */
const EDGE_URL = process.env.TANDEM_EDGE_URL ?? 'http://127.0.0.1:8787';
const edgeProxy = Object.fromEntries(['/v1', '/v2', '/models'].map((prefix) => [prefix, { target: EDGE_URL }]));

/** Paths that must always reach the network: API calls, and models (those live in IndexedDB via the model store). */
const NETWORK_ONLY = /^\/(v1|v2|models)\//;

export default defineConfig({
  root: 'web',
  publicDir: '../public',
  build: {
    outDir: '../dist',
    emptyOutDir: true,
    target: 'es2022',
  },
  worker: { format: 'es' },
  // The prebundler rewrites onnxruntime-web's relative WASM URLs; serve it as shipped.
  optimizeDeps: { exclude: ['onnxruntime-web'] },
  server: { headers: isolationHeaders, proxy: edgeProxy },
  preview: { headers: isolationHeaders },
  plugins: [
    {
      // Brotli and gzip copies beside every built file, for the edge server to pick by Accept-Encoding. After the
      // PWA plugin, which writes sw.js in the same hook.
      name: 'tandem-precompress',
      apply: 'build',
      closeBundle: {
        order: 'post',
        sequential: true,
        async handler() {
          const s = await precompressTree('dist');
          this.info?.(`precompressed ${s.files} files: ${(s.bytes / 1e6).toFixed(1)} MB → brotli ${(s.brBytes / 1e6).toFixed(1)} MB`);
        },
      },
    },
    VitePWA({
      // A new version waits until the person reloads from the page's prompt, never mid-request.
      registerType: 'prompt',
      injectRegister: false,
      includeAssets: ['apple-touch-icon.png'],
      manifest: {
        name: 'Tandem',
        short_name: 'Tandem',
        description: 'Read text from photos on your phone or on a nearby edge server.',
        theme_color: '#0f5e9c',
        background_color: '#ffffff',
        display: 'standalone',
        start_url: '/',
        scope: '/',
        icons: [
          { src: 'icon-192.png', sizes: '192x192', type: 'image/png' },
          { src: 'icon-512.png', sizes: '512x512', type: 'image/png' },
          { src: 'icon-maskable-512.png', sizes: '512x512', type: 'image/png', purpose: 'maskable' },
        ],
        // The installed app is offered in the phone's share sheet for images (public/share-target-sw.js takes them).
        share_target: {
          action: '/share-target',
          method: 'POST',
          enctype: 'multipart/form-data',
          params: { files: [{ name: 'image', accept: ['image/*'] }] },
        },
      },
      workbox: {
        // The shell only. The device runtime (OCR worker, onnxruntime's JS and WASM) is fetched when a photo is first
        // read on the device, through the runtime cache below, so a visit that only uses the edge never pays for it.
        globPatterns: ['**/*.{html,js,css}'],
        globIgnores: ['**/ocr.worker-*.js', '**/ort-*.js', '**/*.wasm'],
        navigateFallback: 'index.html',
        navigateFallbackDenylist: [NETWORK_ONLY],
        cleanupOutdatedCaches: true,
        importScripts: ['share-target-sw.js'],
        // The first install takes over the open page at once, so the runtime fetched for its first device run goes
        // through the runtime cache (and stays for offline use).
        clientsClaim: true,
        runtimeCaching: [
          {
            // Serialised into sw.js on its own: it may not refer to anything outside itself.
            urlPattern: ({ url, sameOrigin }) => sameOrigin && !/^\/(v1|v2|models)\//.test(url.pathname) && /\.(wasm|js)$/.test(url.pathname),
            handler: 'CacheFirst',
            options: {
              cacheName: 'tandem-runtime',
              expiration: { maxEntries: 12 },
              cacheableResponse: { statuses: [200] },
            },
          },
        ],
      },
    }),
  ],
});
