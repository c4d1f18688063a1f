import { defineConfig } from 'vite';
import { VitePWA } from 'vite-plugin-pwa';

/** Cross-origin isolation makes SharedArrayBuffer available, which multi-threaded WASM inference needs. */
const isolationHeaders = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin',
};

/** Raised so the 14 MB onnxruntime WASM is precached and inference works offline from the first visit on. */
const PRECACHE_LIMIT_BYTES = 20 * 1024 * 1024;

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
    VitePWA({
      registerType: 'autoUpdate',
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
      },
      workbox: {
        globPatterns: ['**/*.{html,js,css,wasm}'],
        // The WebGPU build's WASM (27 MB) is only fetched on devices with an adapter; it goes through the runtime cache below.
        globIgnores: ['**/*.asyncify-*.wasm', '**/*.jsep-*.wasm', '**/*.jspi-*.wasm'],
        maximumFileSizeToCacheInBytes: PRECACHE_LIMIT_BYTES,
        navigateFallback: 'index.html',
        navigateFallbackDenylist: [NETWORK_ONLY],
        cleanupOutdatedCaches: true,
        runtimeCaching: [
          {
            // Serialised into sw.js on its own: it may not refer to anything outside itself.
            urlPattern: ({ url, sameOrigin }) =>
              sameOrigin && !/^\/(v1|v2|models)\//.test(url.pathname) && /\.(wasm|js)$/.test(url.pathname),
            handler: 'CacheFirst',
            options: {
              cacheName: 'tandem-large-assets',
              expiration: { maxEntries: 8 },
              cacheableResponse: { statuses: [200] },
            },
          },
        ],
      },
    }),
  ],
});
