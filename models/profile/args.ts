/** Command line of `npm run profile`. */
import { parseArgs } from 'node:util';

export interface ProfileArgs {
  /** Set folder given on the command line, or null for the shared dev set. */
  set: string | null;
  /** Only this file is written when given; otherwise models/profiles.json and models/repository/profiles.json. */
  out: string | null;
  /** Fewer sizes, images and repetitions: minutes instead of half an hour, for trying the profiler out. */
  quick: boolean;
  /** Images scored (default: all, 20 with --quick). */
  limit: number;
  /** Score every n-th photo and word crop of the set (1: all). */
  sample: number;
  /** Every detector configuration with every recogniser (default: other recognisers at the default side only). */
  cross: boolean;
  /** Every detector configuration also with the recogniser of its own variant (the sets a device runs together). */
  matched: boolean;
  /** Take accuracy, uploads, reply sizes and lines per image from this profiles file and time the runtimes only. */
  accuracyFrom: string | null;
  /** Take the runtimes' timings and the detector cuts from this profiles file and score accuracy only. */
  latencyFrom: string | null;
  /** Leave out the Chromium runtimes (edge figures and accuracy only). */
  browser: boolean;
  /**
   * With --accuracy-from: keep that file's runtimes and detector cuts too, and re-time only the throttled device
   * runtimes (the phone the planner starts from), e.g. after the way the phone is slowed changed.
   */
  retimeThrottled: boolean;
}

export const USAGE =
  'Usage: npm run profile -- [--set DIR] [--out FILE] [--quick] [--limit N] [--sample N] [--cross | --matched] [--no-browser] [--accuracy-from FILE [--retime-throttled] | --latency-from FILE]';

export function parseProfileArgs(argv: string[]): ProfileArgs {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        set: { type: 'string' },
        out: { type: 'string' },
        quick: { type: 'boolean', default: false },
        limit: { type: 'string' },
        sample: { type: 'string' },
        cross: { type: 'boolean', default: false },
        matched: { type: 'boolean', default: false },
        'no-browser': { type: 'boolean', default: false },
        'accuracy-from': { type: 'string' },
        'latency-from': { type: 'string' },
        'retime-throttled': { type: 'boolean', default: false },
      },
    }));
  } catch (e) {
    throw usage((e as Error).message);
  }
  let limit = values.quick ? 20 : Infinity;
  if (values.limit !== undefined) {
    limit = Number(values.limit);
    if (!Number.isInteger(limit) || limit < 1) throw usage(`--limit expects a whole number ≥ 1, got "${values.limit}"`);
  }
  let sample = 1;
  if (values.sample !== undefined) {
    sample = Number(values.sample);
    if (!Number.isInteger(sample) || sample < 1) throw usage(`--sample expects a whole number ≥ 1, got "${values.sample}"`);
  }
  if (values['accuracy-from'] !== undefined && values['latency-from'] !== undefined) throw usage('--accuracy-from and --latency-from exclude each other');
  if (values['retime-throttled'] && values['accuracy-from'] === undefined) throw usage('--retime-throttled needs --accuracy-from FILE (the figures it keeps)');
  if (values['retime-throttled'] && values['no-browser']) throw usage('--retime-throttled times Chromium runtimes; it cannot go with --no-browser');
  return {
    retimeThrottled: values['retime-throttled'] ?? false,
    latencyFrom: values['latency-from'] ?? null,
    sample,
    set: values.set ?? null,
    out: values.out ?? null,
    quick: values.quick ?? false,
    limit,
    cross: values.cross ?? false,
    matched: values.matched ?? false,
    browser: !values['no-browser'],
    accuracyFrom: values['accuracy-from'] ?? null,
  };
}

function usage(msg: string): Error {
  const e = new Error(`${msg}. ${USAGE}`);
  e.name = 'BAD_ARGUMENT';
  return e;
}
