/**
 * The real PWA across real network traces: the built app served by the real edge server, reached only through a
 * trace-driven link shaper (the page's origin is the shaper's address), in Debian Chromium slowed to a phone's speed
 * by a CPU quota that reaches the OCR worker. Every policy reads the same photos at the same times on the same links
 * through the page's own file input, in the same browser; the simulator then replays the same requests so each has
 * a predicted, a simulated and a real latency.
 *
 *   npm run eval:replay -- --traces DIR --images DIR [--links 2] [--requests-per-link 6] [--budgets 1000,2000,4000]
 *     [--policies tandem,device,edge,layercake,pieslicer] [--cpu-throttle 4] [--rate 0.5] [--seed 1]
 *     [--out FILE.json] [--plots DIR] [--profiles FILE] [--request-timeout 60000]
 *   npm run eval:replay -- --fixed-links wifi:50000/20000/10,lte:12000/3000/60 --images DIR [--photos img_6,009] ...
 *
 * `--fixed-links` holds each link at one setting (type:downKbps/upKbps/rttMs) instead of replaying traces;
 * `--photos` reads these photos of the folder (by file name without extension), in this order, once per round.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { parseProfiles } from '../../core/profiles';
import { freePort, startEdgeProcess, stopEdgeProcess } from '../../test-support/edge-process';
import { REPO_ROOT } from '../../test-support/shared-set';
import { LinkShaper } from '../../test-support/link-shaper';
import { launchPhone, workerBusyLoopMs } from '../../test-support/phone';
import { numberArg as numberArgOf } from '../sim/args';
import { fixedLinks, loadTraces, simError } from '../sim/traces';
import { attainmentRealVsSimSvg, latencyCdfSvg, predictedVsMeasuredSvg } from './plots';
import { fidelity, markdownTable, policyTable, targets } from './report';
import { REPLAY_POLICIES, runSession, type ReplayPolicy, type ReplayRecord } from './session';
import { simulateReplayed } from './simulate-replayed';
import { loadReplayImages, pickLinks, requestStream, selectPhotos } from './workload';

const UP_FROM_DOWN = 0.5;

const numberArg = (v: string | undefined, name: string, fallback: number, min: number) => numberArgOf(v, name, fallback, min, Infinity, 'ReplayBadArgument');

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      traces: { type: 'string' },
      'fixed-links': { type: 'string' },
      images: { type: 'string' },
      photos: { type: 'string' },
      links: { type: 'string' },
      'requests-per-link': { type: 'string' },
      budgets: { type: 'string' },
      policies: { type: 'string' },
      'cpu-throttle': { type: 'string' },
      rate: { type: 'string' },
      seed: { type: 'string' },
      out: { type: 'string' },
      plots: { type: 'string' },
      profiles: { type: 'string' },
      'request-timeout': { type: 'string' },
    },
  });
  if (!values.traces === !values['fixed-links']) {
    throw simError('ReplayBadArgument', 'give one of --traces DIR (t_ms,kbps[,rtt_ms] CSV traces) and --fixed-links type:down/up/rtt,...');
  }
  if (!values.images) throw simError('ReplayBadArgument', '--images DIR is required (an OCR evaluation folder with det.jsonl)');
  const nLinks = numberArg(values.links, '--links', 2, 1);
  const perLink = numberArg(values['requests-per-link'], '--requests-per-link', 6, 1);
  const budgets = (values.budgets ?? '1000,2000,4000').split(',').map((s) => numberArg(s.trim(), '--budgets', 0, 100));
  const policies = (values.policies ?? REPLAY_POLICIES.join(',')).split(',').map((s) => s.trim()) as ReplayPolicy[];
  for (const p of policies) if (!REPLAY_POLICIES.includes(p)) throw simError('ReplayBadArgument', `unknown policy "${p}" (${REPLAY_POLICIES.join(', ')})`);
  const throttle = numberArg(values['cpu-throttle'], '--cpu-throttle', 4, 1);
  const rate = numberArg(values.rate, '--rate', 0.5, 0.001);
  const seed = numberArg(values.seed, '--seed', 1, 0);
  const requestTimeoutMs = numberArg(values['request-timeout'], '--request-timeout', 60_000, 1000);
  const profilesPath = resolve(values.profiles ?? join(REPO_ROOT, 'models/repository/profiles.json'));
  const dist = join(REPO_ROOT, 'dist', 'index.html');
  if (!existsSync(dist)) throw simError('ReplayNoBuild', 'dist/index.html not found: run `npm run build` first');
  const profiles = parseProfiles(JSON.parse(readFileSync(profilesPath, 'utf8')));

  const images = selectPhotos(loadReplayImages(values.images), values.photos);
  const sessionSpanMs = (perLink / rate) * 1000 + 30_000;
  const links = values['fixed-links']
    ? fixedLinks(values['fixed-links'])
    : pickLinks(loadTraces(values.traces!, { upFromDown: UP_FROM_DOWN }), nLinks, seed, sessionSpanMs);
  const log = (s: string) => console.log(s);
  log(
    `eval:replay: ${links.length} links × ${policies.length} policies × ${perLink} requests (budgets ${budgets.join(', ')} ms in turn), CPU ×${throttle}, rate ${rate}/s`,
  );
  for (const l of links)
    log(
      `  link ${l.name} (${l.linkType}, uplink ${l.upFrom === 'up' ? 'measured' : 'derived'}, ${Math.round(l.up.meanKbps)}/${Math.round(l.down.meanKbps)} kbit/s mean up/down)`,
    );

  const started = Date.now();
  const load0 = loadavg()[0];
  const shaperPort = await freePort();
  const origin = `http://127.0.0.1:${shaperPort}`;
  const edge = await startEdgeProcess({ STATIC_DIR: join(REPO_ROOT, 'dist'), EDGE_CORS_ORIGINS: origin, EDGE_PUBLIC_ORIGINS: origin });
  const shaper = await LinkShaper.start({ target: { host: '127.0.0.1', port: edge.port }, port: shaperPort });
  const phone = await launchPhone({ throttle });
  const records: ReplayRecord[] = [];
  let firstVisit = { upBytes: 0, downBytes: 0, ms: 0 };
  let phoneCheck: unknown = null;
  try {
    const context = await phone.browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
    // First visit, unshaped: the service worker installs the app and the models go into IndexedDB.
    shaper.shape(null);
    const t0 = Date.now();
    const page = await context.newPage();
    await page.goto(`${origin}/?learned=0`);
    await page.waitForFunction(
      async () => {
        await navigator.serviceWorker.ready;
        return navigator.serviceWorker.controller !== null;
      },
      undefined,
      { timeout: 120_000 },
    );
    await page.locator('#models-panel summary').click();
    await page.locator('#download').click();
    await page.waitForFunction(() => (document.querySelector('#backend') as HTMLElement | null)?.dataset.backend, undefined, { timeout: 300_000 });
    const c = shaper.counters();
    firstVisit = { upBytes: c.upBytes, downBytes: c.downBytes, ms: Date.now() - t0 };
    log(`first visit: ${(c.downBytes / 1e6).toFixed(1)} MB down, ${(c.upBytes / 1e6).toFixed(2)} MB up, ${Math.round(firstVisit.ms / 1000)} s (unshaped)`);
    phoneCheck = await phone.verify(page, await unthrottledWorkerMs(origin));
    log(`phone speed (${phone.method}): ${JSON.stringify(phoneCheck)}`);
    await page.close();

    for (const link of links) {
      const requests = requestStream(link.name, images, perLink, rate, seed, budgets, values.photos !== undefined);
      for (const policy of policies) {
        log(`${link.name} · ${policy} (${Math.round((Date.now() - started) / 1000)} s elapsed)`);
        records.push(...(await runSession({ context, origin, shaper, link, policy, requests, requestTimeoutMs, log })));
      }
    }
    await context.close();
  } finally {
    await phone.close();
    await shaper.close();
    await stopEdgeProcess(edge);
  }

  simulateReplayed(records, links, images, profiles, seed);
  const table = policyTable(records);
  const fid = fidelity(table, records);
  const checks = targets(table, fid);
  const byUplink = {
    measured: policyTable(records, (r) => r.uplink === 'measured'),
    derived: policyTable(records, (r) => r.uplink === 'derived'),
  };
  const report = {
    meta: {
      when: new Date().toISOString(),
      command: `npm run eval:replay -- ${process.argv.slice(2).join(' ')}`,
      links: links.map((l) => ({
        name: l.name,
        linkType: l.linkType,
        uplink: l.upFrom === 'up' ? 'measured' : 'derived',
        meanUpKbps: l.up.meanKbps,
        meanDownKbps: l.down.meanKbps,
      })),
      budgets,
      policies,
      requests_per_link: perLink,
      rate_per_s: rate,
      seed,
      cpu_throttle: throttle,
      phone: { method: phone.method, check: phoneCheck },
      profiles: profiles.source.description,
      first_visit: firstVisit,
      wall_s: Math.round((Date.now() - started) / 1000),
      load_average_1m: { start: load0, end: loadavg()[0] },
    },
    requests: records,
    policies: table,
    by_uplink: byUplink,
    fidelity: fid,
    targets: checks,
  };
  const md = [
    `# Real-browser replay`,
    '',
    `${report.meta.command}`,
    '',
    `${links.length} links (${links.map((l) => `${l.name}: ${l.linkType}, uplink ${l.upFrom === 'up' ? 'measured' : 'derived'}`).join('; ')}), ${perLink} requests per link at ${rate}/s, CPU ×${throttle} (${phone.method}), ${report.meta.wall_s} s.`,
    '',
    markdownTable(table),
    '',
    `Simulated/real latency per request: p10 ${fid.latency_ratio.p10.toFixed(2)}, p50 ${fid.latency_ratio.p50.toFixed(2)}, p90 ${fid.latency_ratio.p90.toFixed(2)} (n ${fid.latency_ratio.n}).`,
    '',
    '| target | met | figure |',
    '|---|---|---|',
    ...checks.map((c) => `| ${c.target} | ${c.met ? 'yes' : 'no'} | ${c.detail} |`),
  ].join('\n');
  console.log('\n' + md);
  if (values.out) {
    const out = resolve(values.out);
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, JSON.stringify(report, null, 1));
    writeFileSync(out.replace(/\.json$/i, '') + '.md', md + '\n');
    const plots = resolve(values.plots ?? dirname(out));
    mkdirSync(plots, { recursive: true });
    writeFileSync(join(plots, 'replay-predicted-vs-measured.svg'), await predictedVsMeasuredSvg(records));
    writeFileSync(join(plots, 'replay-attainment-real-vs-sim.svg'), await attainmentRealVsSimSvg(table));
    writeFileSync(join(plots, 'replay-latency-cdf.svg'), await latencyCdfSvg(records));
    log(`wrote ${out} and plots in ${plots}`);
  }
}

/** The same busy loop in a worker of an unthrottled browser, for the slowdown the phone's quota gives. */
async function unthrottledWorkerMs(origin: string): Promise<number> {
  const desktop = await launchPhone({ throttle: 1 });
  try {
    const page = await desktop.browser.newPage();
    await page.goto(`${origin}/manifest.webmanifest`).catch(() => undefined);
    return await workerBusyLoopMs(page);
  } finally {
    await desktop.close();
  }
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    const err = e as Error;
    console.error(`eval:replay: ${err.name}: ${err.message}`);
    process.exit(2);
  },
);
