/**
 * Trace-driven evaluation of placement policies.
 *
 *   npm run eval:placement -- --traces DIR [--images DIR] [--slo 500,1000,2000,4000] [--profiles FILE] [--out FILE]
 *                             [--plots DIR] [--max-requests N] [--rate R] [--up-ratio X] [--seed S] [--cost-weight W]
 *                             [--netinfo none|chrome] [--device-runtime ID] [--edge-runtime ID] [--probe-bytes N]
 *                             [--plan-space page|full] [--variant int8-weights] [--photo-recall FILE|none]
 *
 * Prints a Markdown table; --out writes the JSON report; SVG plots go to --plots (default: beside --out, else not
 * written). Profiles default to models/repository/profiles.json when it exists, else the built-in example profiles
 * (reported as "example profile, not measured"). Device latencies come from the profiles' default device runtime
 * (else a 4× CPU-throttled one), edge latencies from the default edge runtime (else onnxruntime-node). Policies plan
 * over the page's plan space (every model variant set, or the one `--variant` names; no split detection) unless
 * `--plan-space full`. A request reads what its photo reads at the plan's side (`--photo-recall`, by default the dev
 * set's committed measurements when `--images` is the dev set; `none`: the configuration's set-wide recall for every
 * photo).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { EXAMPLE_PROFILES } from '../../core/placement';
import { parseProfiles, type Profiles } from '../../core/profiles';
import { numberArg } from './args';
import { DEV_PHOTO_RECALL, loadImages, photoRecall } from './images';
import { attainmentSvg, latencyCdfSvg } from './plots';
import { buildReport, markdown } from './report';
import { simulate } from './simulate';
import { loadTraces, simError } from './traces';

const DEFAULT_PROFILES = 'models/repository/profiles.json';
const DEFAULT_IMAGES = '../shared/ocr-eval/dev';

function fail(e: unknown): never {
  const err = e as Error;
  console.error(`eval:placement: ${err.name}: ${err.message}`);
  process.exit(2);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      traces: { type: 'string' },
      images: { type: 'string' },
      'photo-recall': { type: 'string' },
      slo: { type: 'string' },
      profiles: { type: 'string' },
      out: { type: 'string' },
      plots: { type: 'string' },
      'max-requests': { type: 'string' },
      rate: { type: 'string' },
      'up-ratio': { type: 'string' },
      seed: { type: 'string' },
      'cost-weight': { type: 'string' },
      netinfo: { type: 'string' },
      'device-runtime': { type: 'string' },
      'edge-runtime': { type: 'string' },
      'probe-bytes': { type: 'string' },
      'poll-ms': { type: 'string' },
      'plan-space': { type: 'string' },
      variant: { type: 'string' },
      quiet: { type: 'boolean' },
    },
  });
  if (!values.traces) throw simError('SimBadArgument', '--traces DIR is required (a folder of t_ms,kbps[,rtt_ms] CSV traces)');
  const budgets = (values.slo ?? '500,1000,2000,4000').split(',').map((s) => numberArg(s.trim(), '--slo', 0, 1));
  const maxRequests = numberArg(values['max-requests'], '--max-requests', 40, 1);
  const rate = numberArg(values.rate, '--rate', 0.5, 0.001);
  const upRatio = numberArg(values['up-ratio'], '--up-ratio', 0.5, 0.001, 100);
  const seed = numberArg(values.seed, '--seed', 1, 0);
  const netInfo = values.netinfo ?? 'none';
  if (netInfo !== 'none' && netInfo !== 'chrome') throw simError('SimBadArgument', `--netinfo must be "none" or "chrome", got "${netInfo}"`);
  const costWeight = numberArg(values['cost-weight'], '--cost-weight', 0, 0, 1);
  // What the page does (web/placement/link-monitor.ts): a 48 KB uplink probe on joining a network, /v1/status every 7 s.
  const probeBytes = numberArg(values['probe-bytes'], '--probe-bytes', 48 * 1024, 0);
  const pollMs = numberArg(values['poll-ms'], '--poll-ms', 7000, 100);
  const planSpace = values['plan-space'] ?? 'page';
  if (planSpace !== 'page' && planSpace !== 'full') throw simError('SimBadArgument', `--plan-space must be "page" or "full", got "${planSpace}"`);

  let profiles: Profiles;
  let profilesFrom: string;
  // `--profiles example` asks for the built-in example profiles even when measured ones are installed.
  const profilesPath = values.profiles === 'example' ? undefined : (values.profiles ?? (existsSync(DEFAULT_PROFILES) ? DEFAULT_PROFILES : undefined));
  if (profilesPath !== undefined) {
    if (!existsSync(profilesPath)) throw simError('SimBadArgument', `--profiles ${profilesPath} does not exist`);
    profiles = parseProfiles(readFileSync(profilesPath, 'utf8'));
    profilesFrom = profilesPath;
  } else {
    profiles = EXAMPLE_PROFILES;
    profilesFrom = 'core/placement/example-profiles.ts';
  }
  const imagesDir = values.images ?? DEFAULT_IMAGES;
  const traces = loadTraces(resolve(values.traces), { upFromDown: upRatio });
  const recallArg = values['photo-recall'];
  const recallFile = recallArg === 'none' ? undefined : (recallArg ?? (resolve(imagesDir) === resolve(DEFAULT_IMAGES) ? DEV_PHOTO_RECALL : undefined));
  const images = loadImages(resolve(imagesDir), recallFile === undefined ? undefined : photoRecall(recallFile));

  const started = Date.now();
  if (profiles.source.kind === 'example')
    process.stderr.write(
      'eval:placement: EXAMPLE PROFILES, NOT MEASURED: compute latencies and accuracies are illustrative (pass --profiles FILE or run `npm run models`).\n',
    );
  else process.stderr.write(`eval:placement: measured profiles from ${profilesFrom}\n`);
  const runtimes = { device: values['device-runtime'], edge: values['edge-runtime'] };
  const simOpts = {
    budgets,
    ratePerS: rate,
    maxRequestsPerTrace: maxRequests,
    seed,
    probeEveryMs: pollMs,
    uplinkProbeBytes: probeBytes,
    costWeight,
    netInfo: netInfo as 'none' | 'chrome',
    runtimes,
    planSpace: planSpace as 'page' | 'full',
    variant: values.variant,
  };
  const result = simulate(profiles, traces, images, simOpts, (i, name) => {
    if (!values.quiet && (i % 25 === 0 || i === traces.length - 1)) process.stderr.write(`  trace ${i + 1}/${traces.length} ${name}\n`);
  });
  const linkTypes: Record<string, number> = {};
  for (const t of traces) linkTypes[`${t.linkType} (${t.linkSource})`] = (linkTypes[`${t.linkType} (${t.linkSource})`] ?? 0) + 1;
  const report = buildReport(result, {
    profileKind: profiles.source.kind,
    profileDescription: `${profilesFrom}: ${profiles.source.description}`,
    budgets,
    run: {
      traces: result.traces,
      requests: result.requests,
      images: images.length,
      images_with_measured_recall: images.filter((i) => i.recallBySide !== undefined).length,
      seed,
      rate_per_s: rate,
      max_requests_per_trace: maxRequests,
      up_from_down_ratio: upRatio,
      uplink_from_downlink: traces.filter((t) => t.upDerived).length,
      downlink_from_uplink: traces.filter((t) => t.downFrom === 'up').length,
      link_types: linkTypes,
      traces_dir: values.traces,
      images_dir: imagesDir,
      cost_weight: costWeight,
      netinfo: netInfo,
      device_runtime: result.runtimes.device,
      edge_runtime: result.runtimes.edge,
      uplink_probe_bytes: probeBytes,
      status_poll_ms: pollMs,
      wall_s: (Date.now() - started) / 1000,
    },
  });
  process.stdout.write(markdown(report));
  process.stdout.write(
    `\nLink types (source): ${Object.entries(linkTypes)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}; replay took ${(report.run.wall_s as number).toFixed(1)} s.\n`,
  );
  if (values.out) {
    mkdirSync(dirname(resolve(values.out)), { recursive: true });
    writeFileSync(values.out, JSON.stringify(report, null, 2) + '\n');
  }
  const plotsDir = values.plots ?? (values.out ? dirname(resolve(values.out)) : undefined);
  if (plotsDir !== undefined) {
    mkdirSync(plotsDir, { recursive: true });
    writeFileSync(join(plotsDir, 'placement-attainment.svg'), await attainmentSvg(report));
    writeFileSync(join(plotsDir, 'placement-latency-cdf.svg'), await latencyCdfSvg(result, report));
    process.stdout.write(`Plots: ${join(plotsDir, 'placement-attainment.svg')}, ${join(plotsDir, 'placement-latency-cdf.svg')}\n`);
  }
}

main().catch(fail);
