/**
 * A cross-origin-isolated page in headless Chromium for profiling: a loopback server (COOP/COEP on every reply)
 * serves the bundled page script, onnxruntime-web's files, the model repository and data the profiler registers.
 * Each CPU throttle gets its own browser, slowed as a whole by launchPhone (the replay's phone is the same), so
 * WASM threads are slowed like the page thread.
 */
import { createServer, type Server } from 'node:http';
import { readFileSync, existsSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, extname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AddressInfo } from 'node:net';
import { build } from 'esbuild';
import type { BrowserContext, Page } from '@playwright/test';
import { CHROMIUM, launchPhone, type Phone, type ThrottleMethod } from '../../../test-support/phone';
import type { ProfilePageApi } from './page';

const here = dirname(fileURLToPath(import.meta.url));
const TYPES: Record<string, string> = {
  '.mjs': 'text/javascript',
  '.js': 'text/javascript',
  '.wasm': 'application/wasm',
  '.html': 'text/html',
  '.jpg': 'image/jpeg',
  '.png': 'image/png',
};
const ISOLATION = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin',
};

function ortDist(): string {
  const require = createRequire(import.meta.url);
  return dirname(require.resolve('onnxruntime-web'));
}

async function bundlePage(): Promise<string> {
  const out = await build({
    entryPoints: [join(here, 'page.ts')],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'chrome120',
    write: false,
    logLevel: 'silent',
  });
  return out.outputFiles[0].text;
}

function inside(root: string, rel: string): string | null {
  const p = resolve(root, '.' + rel);
  return p.startsWith(root + sep) && existsSync(p) && statSync(p).isFile() ? p : null;
}

export class ProfileHarness {
  private constructor(
    private readonly server: Server,
    /** One browser per CPU throttle, started when first asked for. */
    private readonly browsers: Map<number, Promise<Phone>>,
    readonly base: string,
    private readonly data: Map<string, { body: Uint8Array; type: string }>,
  ) {}

  static async start(repositoryDir: string): Promise<ProfileHarness> {
    if (!existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM} (apt-get install chromium)`);
    const script = await bundlePage();
    const ort = ortDist();
    const data = new Map<string, { body: Uint8Array; type: string }>();
    const server = createServer((req, res) => {
      const path = decodeURIComponent((req.url ?? '/').split('?')[0]);
      const send = (status: number, body: string | Uint8Array, type = 'text/plain') => {
        res.writeHead(status, { 'Content-Type': type, 'Cache-Control': 'no-store', ...ISOLATION });
        res.end(body);
      };
      if (path === '/')
        return send(200, '<!doctype html><meta charset="utf-8"><title>profile</title><script type="module" src="/page.js"></script>', 'text/html');
      if (path === '/page.js') return send(200, script, 'text/javascript');
      const file = path.startsWith('/ort/') ? inside(ort, path.slice(4)) : path.startsWith('/models/') ? inside(repositoryDir, path.slice(7)) : null;
      if (file) return send(200, readFileSync(file), TYPES[extname(file)] ?? 'application/octet-stream');
      const d = path.startsWith('/data/') ? data.get(path.slice(6)) : undefined;
      if (d) return send(200, d.body, d.type);
      send(404, `no ${path}`);
    });
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    const browsers = new Map([[1, launchPhone({ throttle: 1 })]]);
    try {
      await browsers.get(1);
    } catch (error) {
      server.close();
      throw error;
    }
    return new ProfileHarness(server, browsers, `http://127.0.0.1:${(server.address() as AddressInfo).port}`, data);
  }

  /** Makes bytes available to the page at /data/<name>. */
  register(name: string, body: Uint8Array, type = 'application/octet-stream'): string {
    this.data.set(name, { body, type });
    return `/data/${name}`;
  }

  private phone(cpuThrottle: number): Promise<Phone> {
    let phone = this.browsers.get(cpuThrottle);
    if (phone === undefined) this.browsers.set(cpuThrottle, (phone = launchPhone({ throttle: cpuThrottle })));
    return phone;
  }

  /** How the browser of `cpuThrottle` is slowed: a cgroup CPU quota on every process, CDP on the page thread, or not. */
  async throttleMethod(cpuThrottle: number): Promise<ThrottleMethod> {
    return (await this.phone(cpuThrottle)).method;
  }

  /** A fresh page (its own WASM instance) in the browser slowed `cpuThrottle` times. */
  async page(cpuThrottle: number): Promise<ProfilePage> {
    const phone = await this.phone(cpuThrottle);
    const context = await phone.browser.newContext();
    const page = await context.newPage();
    await phone.throttlePage(page);
    await page.goto(this.base + '/');
    await page.waitForFunction(() => 'tandemProfile' in globalThis);
    return new ProfilePage(context, page);
  }

  get version(): Promise<string> {
    return this.phone(1).then((p) => p.browser.version());
  }

  async close(): Promise<void> {
    for (const phone of this.browsers.values()) await (await phone.catch(() => null))?.close();
    await new Promise<void>((ok) => this.server.close(() => ok()));
  }
}

type Api = ProfilePageApi;

export class ProfilePage {
  constructor(
    private readonly context: BrowserContext,
    readonly page: Page,
  ) {}

  /** Calls one page function with JSON arguments. */
  call<K extends keyof Api>(name: K, ...args: Parameters<Api[K]>): Promise<Awaited<ReturnType<Api[K]>>> {
    return this.page.evaluate(
      ([n, a]) => (globalThis as unknown as { tandemProfile: Record<string, (...x: unknown[]) => unknown> }).tandemProfile[n as string](...(a as unknown[])),
      [name, args] as const,
    ) as Promise<Awaited<ReturnType<Api[K]>>>;
  }

  async close(): Promise<void> {
    await this.context.close();
  }
}
