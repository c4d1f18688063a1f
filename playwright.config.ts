import { defineConfig } from '@playwright/test';

/** A fixed port away from the default 8787, so a running dev server never answers the tests. */
const PORT = Number(process.env.TANDEM_E2E_PORT ?? 8790);
const BASE_URL = `http://127.0.0.1:${PORT}`;

/** Debian's Chromium (e2e/ensure-chromium.sh); Playwright's browser downloads are never used. */
const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export default defineConfig({
  testDir: 'e2e',
  // WASM inference on a small shared machine: first runs compile 14 MB of WASM and create three sessions.
  timeout: 240_000,
  expect: { timeout: 90_000 },
  workers: 1,
  fullyParallel: false,
  retries: 0,
  forbidOnly: Boolean(process.env.CI),
  reporter: [['list']],
  outputDir: 'test-results',
  use: {
    baseURL: BASE_URL,
    headless: true,
    trace: 'retain-on-failure',
    launchOptions: { executablePath: CHROMIUM, args: CHROMIUM_ARGS },
  },
  projects: [
    { name: 'chromium', testIgnore: /webgpu\.spec\.ts/ },
    // SwiftShader's software adapter proves the WebGPU path works but takes ~2.5 min of both cores for one
    // small image (27 s of sessions, 80 s first run), so it runs only when asked: TANDEM_E2E_WEBGPU=1.
    ...(process.env.TANDEM_E2E_WEBGPU === '1'
      ? [
          {
            name: 'webgpu',
            testMatch: /webgpu\.spec\.ts/,
            use: { launchOptions: { executablePath: CHROMIUM, args: [...CHROMIUM_ARGS, '--enable-unsafe-webgpu'] } },
          },
        ]
      : []),
  ],
  webServer: {
    // Serves dist/ as built by `npm run build` (the test script builds first).
    command: 'npx tsx edge-server/server.ts',
    env: { PORT: String(PORT), HOST: '127.0.0.1' },
    url: `${BASE_URL}/v1/status`,
    timeout: 120_000,
    reuseExistingServer: false,
    stdout: 'ignore',
    stderr: 'pipe',
  },
});
