/**
 * Debian Chromium slowed down like a phone, for replays and profiles that must see a phone's CPU in every thread.
 *
 * CDP's CPU throttling slows only the thread of the target that receives it: onnxruntime-web in the page's dedicated
 * worker (and its WASM threads, workers themselves) would run at full speed. So the browser is started inside its own
 * cgroup v1 CPU group holding all its processes to `1/throttle` of one core: every thread is slowed for real. Where
 * the group cannot be made (not root, no cgroup v1 cpu controller), CDP throttling is sent to each page and, through
 * auto-attach, to every worker it starts, nested ones too (`throttlePage`). Current Chromium refuses it for workers
 * ("only supported for pages"): verify() then says so in `workersRefused`, and only the page thread is slowed.
 */
import { accessSync, constants, existsSync, mkdirSync, mkdtempSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type CDPSession, type Page } from '@playwright/test';

export const CHROMIUM = '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const CPU_CGROUP = '/sys/fs/cgroup/cpu';
const PERIOD_US = 100_000;

export type ThrottleMethod = 'cgroup' | 'cdp' | 'none';

export interface PhoneOptions {
  /** How many times slower than one core of this machine (1: not slowed). */
  throttle?: number;
  /** Chromium arguments in place of CHROMIUM_ARGS. */
  args?: string[];
  /** Force a method (e.g. 'cdp' to try the fallback where the cgroup works). */
  method?: Exclude<ThrottleMethod, 'none'>;
}

export interface WorkerCheck {
  /** Time of a fixed busy loop inside a dedicated worker the page started. */
  insideWorkerMs: number;
  /** insideWorkerMs over the unthrottled time given to verify(). */
  ratio?: number;
  /** Under 'cdp': why a worker refused the throttling (this Chromium throttles pages only), so workers run at full speed. */
  workersRefused?: string;
}

export interface Phone {
  browser: Browser;
  method: ThrottleMethod;
  throttle: number;
  /**
   * Slows a page and every worker it starts under 'cdp' (done by itself for pages of contexts made with
   * browser.newContext or browser.newPage, from their 'page' event on); does nothing otherwise.
   */
  throttlePage(page: Page): Promise<void>;
  /** Times the busy loop in a worker of `page` (throttled first if needed); with `unthrottledMs`, the slowdown. */
  verify(page: Page, unthrottledMs?: number): Promise<WorkerCheck>;
  close(): Promise<void>;
}

/** Iterations of the busy loop: a few hundred milliseconds on one core of a desktop. */
export const BUSY_LOOP_ITERATIONS = 15_000_000;

/** Starts Chromium at `throttle` times slower than one core, by the best method this machine allows. */
export async function launchPhone(options: PhoneOptions = {}): Promise<Phone> {
  const throttle = options.throttle ?? 4;
  if (!(throttle >= 1)) throw new Error(`throttle must be ≥ 1, got ${throttle}`);
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM} (apt-get install chromium)`);
  const args = options.args ?? CHROMIUM_ARGS;
  const group = throttle > 1 && options.method !== 'cdp' ? makeCpuGroup(throttle) : null;
  if (options.method === 'cgroup' && group === null) throw new Error(`cannot create a CPU cgroup under ${CPU_CGROUP} (needs root and cgroup v1)`);
  const method: ThrottleMethod = throttle === 1 ? 'none' : group ? 'cgroup' : 'cdp';

  let browser: Browser;
  try {
    browser = await chromium.launch({ executablePath: group ? group.launcher : CHROMIUM, args });
  } catch (error) {
    if (group) removeCpuGroup(group);
    throw error;
  }
  const sessions: CdpThrottle[] = [];
  const throttled = new WeakSet<Page>();
  const throttlePage = async (page: Page) => {
    if (method !== 'cdp' || throttled.has(page)) return;
    throttled.add(page);
    sessions.push(await throttleWithCdp(page, throttle));
  };
  if (method === 'cdp') {
    const newContext = browser.newContext.bind(browser);
    browser.newContext = async (contextOptions) => {
      const context = await newContext(contextOptions);
      context.on('page', (page) => void throttlePage(page).catch(() => undefined));
      return context;
    };
  }
  return {
    browser,
    method,
    throttle,
    throttlePage,
    async verify(page, unthrottledMs) {
      await throttlePage(page);
      const insideWorkerMs = await workerBusyLoopMs(page, { settleMs: method === 'cdp' ? 300 : 0 });
      const check: WorkerCheck = unthrottledMs === undefined ? { insideWorkerMs } : { insideWorkerMs, ratio: insideWorkerMs / unthrottledMs };
      const refused = sessions.find((s) => s.workersRefused !== undefined)?.workersRefused;
      return refused === undefined ? check : { ...check, workersRefused: refused };
    },
    async close() {
      for (const s of sessions) await s.cdp.detach().catch(() => undefined);
      await browser.close();
      if (group) await removeCpuGroupWhenEmpty(group);
    },
  };
}

/**
 * Runs BUSY_LOOP_ITERATIONS square roots in a dedicated worker started by `page` from a blob, and returns how long
 * they took inside the worker. `settleMs`: time between the worker's start and the loop (CDP throttling reaches a
 * new worker only once it is attached).
 */
export async function workerBusyLoopMs(page: Page, options: { iterations?: number; settleMs?: number } = {}): Promise<number> {
  const iterations = options.iterations ?? BUSY_LOOP_ITERATIONS;
  return page.evaluate(
    async ([n, settle]) => {
      const source = `onmessage = (e) => { const t0 = performance.now(); let x = 0; for (let i = 0; i < e.data; i++) x += Math.sqrt(i); postMessage({ ms: performance.now() - t0, x }); };`;
      const url = URL.createObjectURL(new Blob([source], { type: 'text/javascript' }));
      const worker = new Worker(url);
      try {
        await new Promise((resolve) => setTimeout(resolve, settle));
        const reply = await new Promise<{ ms: number }>((resolve, reject) => {
          worker.onmessage = (e) => resolve(e.data as { ms: number });
          worker.onerror = (e) => reject(new Error(e.message));
          worker.postMessage(n);
        });
        return reply.ms;
      } finally {
        worker.terminate();
        URL.revokeObjectURL(url);
      }
    },
    [iterations, options.settleMs ?? 0] as const,
  );
}

interface CpuGroup {
  dir: string;
  /** Executable that moves itself into the group, then becomes Chromium. */
  launcher: string;
  tmp: string;
}

let groups = 0;

/** A CPU group at `1/throttle` of one core and its launcher, or null when this machine does not allow one. */
function makeCpuGroup(throttle: number): CpuGroup | null {
  try {
    accessSync(join(CPU_CGROUP, 'cgroup.procs'), constants.W_OK);
  } catch {
    return null;
  }
  const dir = join(CPU_CGROUP, `tandem-phone-${process.pid}-${groups++}`);
  try {
    // Not recursive: an existing group of the same name (EEXIST) is not ours to use.
    mkdirSync(dir);
    writeFileSync(join(dir, 'cpu.cfs_period_us'), String(PERIOD_US));
    writeFileSync(join(dir, 'cpu.cfs_quota_us'), String(Math.max(1000, Math.round(PERIOD_US / throttle))));
  } catch {
    try {
      rmdirSync(dir);
    } catch {
      // Never made.
    }
    return null;
  }
  const tmp = mkdtempSync(join(tmpdir(), 'tandem-phone-'));
  const launcher = join(tmp, 'chromium');
  // The shell joins the group, then exec keeps its PID for Chromium: every process Chromium starts inherits the group.
  writeFileSync(launcher, `#!/bin/sh\necho $$ > '${join(dir, 'cgroup.procs')}' || exit 70\nexec '${CHROMIUM}' "$@"\n`, { mode: 0o755 });
  return { dir, launcher, tmp };
}

function removeCpuGroup(group: CpuGroup): boolean {
  rmSync(group.tmp, { recursive: true, force: true });
  try {
    rmdirSync(group.dir);
    return true;
  } catch {
    return false;
  }
}

/** Removes the group once Chromium's processes have left it; stragglers are moved out to the parent group first. */
async function removeCpuGroupWhenEmpty(group: CpuGroup): Promise<void> {
  for (let i = 0; i < 50; i++) {
    if (removeCpuGroup(group)) return;
    if (i === 25) {
      const left = readFileSync(join(group.dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean);
      for (const pid of left) {
        try {
          writeFileSync(join(CPU_CGROUP, 'cgroup.procs'), pid);
        } catch {
          // Exited meanwhile.
        }
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`could not remove ${group.dir}: processes still in it`);
}

/**
 * CDP throttling for a page and, recursively, every worker it starts (nested WASM threads included). Worker targets
 * are reached through non-flat sessions (Target.sendMessageToTarget), which the page's own CDP session can carry.
 */
interface CdpThrottle {
  cdp: CDPSession;
  /** The error a worker answered the throttling with (Chromium 14x: "only supported for pages, not workers"). */
  workersRefused?: string;
}

async function throttleWithCdp(page: Page, rate: number): Promise<CdpThrottle> {
  const cdp = await page.context().newCDPSession(page);
  const result: CdpThrottle = { cdp };
  await cdp.send('Emulation.setCPUThrottlingRate', { rate });
  let nextId = 1;
  const throttleIds = new Set<number>();
  type Send = (method: string, params: Record<string, unknown>) => void;
  const autoAttach = { autoAttach: true, waitForDebuggerOnStart: false, flatten: false };
  // One node per attached worker: its messages come wrapped in its parent's receivedMessageFromTarget events.
  const node = (send: Send) => {
    const children = new Map<string, (message: { method?: string; params?: Record<string, unknown> }) => void>();
    const onMessage = (message: { id?: number; method?: string; params?: Record<string, unknown>; error?: { message?: string } }) => {
      if (message.id !== undefined && throttleIds.has(message.id) && message.error) result.workersRefused = message.error.message ?? 'refused';
      const params = message.params ?? {};
      if (message.method === 'Target.attachedToTarget') {
        const sessionId = params.sessionId as string;
        const childSend: Send = (method, p) => send('Target.sendMessageToTarget', { sessionId, message: JSON.stringify({ id: nextId++, method, params: p }) });
        const child = node(childSend);
        children.set(sessionId, child);
        throttleIds.add(nextId);
        childSend('Emulation.setCPUThrottlingRate', { rate });
        childSend('Target.setAutoAttach', autoAttach);
      } else if (message.method === 'Target.receivedMessageFromTarget') {
        children.get(params.sessionId as string)?.(JSON.parse(params.message as string) as { method?: string; params?: Record<string, unknown> });
      } else if (message.method === 'Target.detachedFromTarget') {
        children.delete(params.sessionId as string);
      }
    };
    return onMessage;
  };
  const root = node((method, params) => void cdp.send(method as 'Target.sendMessageToTarget', params as never).catch(() => undefined));
  for (const event of ['Target.attachedToTarget', 'Target.receivedMessageFromTarget', 'Target.detachedFromTarget'] as const) {
    cdp.on(event, (params) => root({ method: event, params: params as unknown as Record<string, unknown> }));
  }
  await cdp.send('Target.setAutoAttach', autoAttach);
  return result;
}
