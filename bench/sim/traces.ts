/**
 * Network traces for replay: `t_ms,kbps[,rtt_ms]` CSVs, one per direction. Each row's rate holds until the next
 * row (the last row for one step); a replay past the end wraps around, so a short trace still carries a long upload.
 *
 * Pairing: files named `<unit>__up.csv` / `<unit>__down.csv` are one link. A downlink without an uplink partner also
 * serves as the uplink at `upFromDown` of its rate (cellular and home links upload slower than they download); an
 * uplink without a downlink serves as the downlink unchanged (replies are small).
 *
 * Link type: from the link column of any Markdown listing (README*.md beside or above the folder) that names the
 * file, else from words in the file name; it sets the default RTT when the trace carries none and whether bytes
 * count as cellular.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

export type LinkType = 'wifi' | 'broadband' | '5g' | 'lte' | '3g' | 'cellular' | 'unknown';

/** Round trip to a nearby edge when the trace does not say (ms). */
export const DEFAULT_RTT_MS: Record<LinkType, number> = {
  wifi: 20,
  broadband: 30,
  '5g': 40,
  lte: 60,
  '3g': 150,
  cellular: 80,
  unknown: 60,
};

export function isCellular(t: LinkType): boolean {
  return t === '5g' || t === 'lte' || t === '3g' || t === 'cellular';
}

/** Piecewise-constant rate over time. */
export class RateSeries {
  /** Start of each step (ms), strictly increasing, first 0. */
  readonly t: Float64Array;
  /** kbit/s = bits per ms. */
  readonly kbps: Float64Array;
  readonly durationMs: number;
  readonly meanKbps: number;

  constructor(t: readonly number[], kbps: readonly number[], scale = 1) {
    if (t.length === 0) throw simError('SimTraceInvalid', 'a trace needs at least one row');
    const t0 = t[0];
    this.t = Float64Array.from(t, (x) => x - t0);
    this.kbps = Float64Array.from(kbps, (x) => Math.max(0, x * scale));
    const step = t.length > 1 ? this.t[t.length - 1] - this.t[t.length - 2] : 1000;
    this.durationMs = this.t[t.length - 1] + Math.max(1, step);
    let bits = 0;
    for (let i = 0; i < this.t.length; i++) bits += this.kbps[i] * (this.end(i) - this.t[i]);
    this.meanKbps = bits / this.durationMs;
  }

  private end(i: number): number {
    return i + 1 < this.t.length ? this.t[i + 1] : this.durationMs;
  }

  /** Step index holding time `x` within one period. */
  private index(x: number): number {
    let lo = 0;
    let hi = this.t.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.t[mid] <= x) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  rateAt(atMs: number): number {
    return this.kbps[this.index(mod(atMs, this.durationMs))];
  }

  /**
   * Time to move `bytes` starting at `startMs`, integrating the rate step by step (wrapping around the trace).
   * Returns Infinity if the link delivers nothing for `maxMs`.
   */
  transferMs(startMs: number, bytes: number, maxMs = 600_000): number {
    let bits = bytes * 8;
    if (bits <= 0) return 0;
    if (this.meanKbps <= 0) return Infinity;
    let period = Math.floor(startMs / this.durationMs);
    let x = startMs - period * this.durationMs;
    let i = this.index(x);
    let elapsed = 0;
    while (elapsed <= maxMs) {
      const end = this.end(i);
      const span = end - x;
      const r = this.kbps[i];
      if (r > 0 && r * span >= bits) return elapsed + bits / r;
      bits -= r * span;
      elapsed += span;
      x = end;
      i++;
      if (i >= this.t.length) {
        i = 0;
        x = 0;
        period++;
      }
    }
    return Infinity;
  }
}

function mod(a: number, m: number): number {
  const r = a % m;
  return r < 0 ? r + m : r;
}

export interface LinkTrace {
  /** Unit name (file name without direction and extension). */
  name: string;
  files: string[];
  linkType: LinkType;
  /** Where the link type came from. */
  linkSource: 'listing' | 'file-name' | 'none';
  up: RateSeries;
  down: RateSeries;
  /** How the uplink was obtained. */
  upFrom: 'up' | 'down×ratio';
  /** True when no uplink was measured and the uplink is the downlink at a ratio (upFrom 'down×ratio'). */
  upDerived: boolean;
  downFrom: 'down' | 'up';
  /** RTT samples from the trace (time, ms), sorted; empty when it has none. */
  rttAt: Float64Array;
  rttMs: Float64Array;
  durationMs: number;
}

/** RTT at a time: the latest measured value (wrapping), else the link type's default. */
export function rttAt(trace: LinkTrace, atMs: number): number {
  const n = trace.rttAt.length;
  if (n === 0) return DEFAULT_RTT_MS[trace.linkType];
  const x = mod(atMs, trace.durationMs);
  let k = -1;
  for (let i = 0; i < n && trace.rttAt[i] <= x; i++) k = i;
  return trace.rttMs[k < 0 ? n - 1 : k];
}

interface ParsedCsv {
  t: number[];
  kbps: number[];
  rttAt: number[];
  rttMs: number[];
}

export function parseTraceCsv(text: string, file: string): ParsedCsv {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '');
  const header = (lines[0] ?? '').split(',').map((h) => h.trim());
  const ti = header.indexOf('t_ms');
  const ki = header.indexOf('kbps');
  const ri = header.indexOf('rtt_ms');
  if (ti < 0 || ki < 0) throw simError('SimTraceInvalid', `${file}: header must name t_ms and kbps columns (got "${lines[0] ?? ''}")`);
  const out: ParsedCsv = { t: [], kbps: [], rttAt: [], rttMs: [] };
  for (let n = 1; n < lines.length; n++) {
    const c = lines[n].split(',');
    const t = Number(c[ti]);
    const k = Number(c[ki]);
    if (!Number.isFinite(t) || !Number.isFinite(k) || k < 0)
      throw simError('SimTraceInvalid', `${file}:${n + 1}: expected t_ms,kbps numbers, got "${lines[n]}"`);
    if (out.t.length > 0 && t <= out.t[out.t.length - 1]) throw simError('SimTraceInvalid', `${file}:${n + 1}: t_ms must increase`);
    out.t.push(t);
    out.kbps.push(k);
    if (ri >= 0 && c[ri] !== undefined && c[ri].trim() !== '') {
      const r = Number(c[ri]);
      if (Number.isFinite(r) && r > 0) {
        out.rttAt.push(t);
        out.rttMs.push(r);
      }
    }
  }
  if (out.t.length === 0) throw simError('SimTraceInvalid', `${file}: no rows`);
  const t0 = out.t[0];
  out.rttAt = out.rttAt.map((x) => x - t0);
  return out;
}

/** Link words → type; the first match wins, so more specific words come first. */
const LINK_WORDS: [RegExp, LinkType][] = [
  [/wi-?fi|wlan/i, 'wifi'],
  [/fixed broadband|broadband|dsl|cable|fibre|fiber|ethernet/i, 'broadband'],
  [/\b5g\b|mmwave|\bnr\b/i, '5g'],
  [/\blte\b|\b4g\b/i, 'lte'],
  [/\b3g\b|hsdpa|hspa|umts|ev-?do|gprs/i, '3g'],
  [/cellular|mobile network|carrier/i, 'cellular'],
];

export function linkTypeOf(text: string): LinkType | null {
  // File names use _ and - as separators; make them word boundaries.
  const t = text.replace(/[_-]+/g, ' ');
  for (const [re, type] of LINK_WORDS) if (re.test(t) || re.test(text)) return type;
  return null;
}

/** File names glue words together ("irish5g", "4g_trace"): looser patterns, most specific first. */
const FILE_NAME_WORDS: [RegExp, LinkType][] = [
  [/wi-?fi|wlan/i, 'wifi'],
  [/broadband|dsl|ethernet/i, 'broadband'],
  [/(?<![0-9])4g|lte/i, 'lte'],
  [/(?<![0-9])5g|mmwave/i, '5g'],
  [/(?<![0-9])3g|hsdpa|hspa|umts|evdo/i, '3g'],
  [/cellular|mobile/i, 'cellular'],
];

export function linkTypeOfFileName(name: string): LinkType | null {
  for (const [re, type] of FILE_NAME_WORDS) if (re.test(name)) return type;
  return null;
}

/** File name → link description from Markdown tables (`| file | link | ...`) in listings beside or above `dir`. */
export function readListings(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const d of [dir, dirname(dir)]) {
    let names: string[] = [];
    try {
      names = readdirSync(d).filter((f) => /^readme.*\.md$/i.test(f));
    } catch {
      continue;
    }
    for (const f of names) {
      for (const line of readFileSync(join(d, f), 'utf8').split('\n')) {
        const m = /^\|\s*([^|]+?\.csv)\s*\|\s*([^|]*?)\s*\|/.exec(line);
        if (m && !out.has(m[1])) out.set(m[1], m[2]);
      }
    }
  }
  return out;
}

export interface LoadOptions {
  /** Uplink rate as a share of the downlink when only a downlink trace exists. */
  upFromDown: number;
}

/** Every trace unit in `dir` (non-recursive), sorted by name. */
export function loadTraces(dir: string, opts: LoadOptions): LinkTrace[] {
  if (!existsSync(dir)) throw simError('SimNoTraces', `trace folder ${dir} does not exist; pass --traces DIR with t_ms,kbps CSV files`);
  const files = readdirSync(dir)
    .filter((f) => f.toLowerCase().endsWith('.csv'))
    .sort();
  if (files.length === 0) throw simError('SimNoTraces', `no .csv traces in ${dir}; expected files with a t_ms,kbps[,rtt_ms] header`);
  const listing = readListings(dir);
  const units = new Map<string, { up?: string; down?: string; other?: string }>();
  for (const f of files) {
    const m = /^(.*?)[_.-]+(up|down)\.csv$/i.exec(f);
    const unit = m ? m[1] : f.replace(/\.csv$/i, '');
    const u = units.get(unit) ?? {};
    if (m && m[2].toLowerCase() === 'up') u.up = f;
    else if (m) u.down = f;
    else u.other = f;
    units.set(unit, u);
  }
  const traces: LinkTrace[] = [];
  for (const [name, u] of units) {
    const downFile = u.down ?? u.other;
    const upFile = u.up;
    const read = (f: string) => parseTraceCsv(readFileSync(join(dir, f), 'utf8'), f);
    const down = downFile ? read(downFile) : undefined;
    const up = upFile ? read(upFile) : undefined;
    const used = [downFile, upFile].filter((x): x is string => x !== undefined);
    let linkType: LinkType | null = null;
    let linkSource: LinkTrace['linkSource'] = 'none';
    for (const f of used) {
      const desc = listing.get(f);
      const t = desc !== undefined ? linkTypeOf(desc) : null;
      if (t !== null) {
        linkType = t;
        linkSource = 'listing';
        break;
      }
    }
    if (linkType === null) {
      linkType = linkTypeOfFileName(basename(name));
      if (linkType !== null) linkSource = 'file-name';
    }
    const downSeries = down ? new RateSeries(down.t, down.kbps) : new RateSeries(up!.t, up!.kbps);
    const upSeries = up ? new RateSeries(up.t, up.kbps) : new RateSeries(down!.t, down!.kbps, opts.upFromDown);
    const rttSrc = [down, up].find((x) => x !== undefined && x.rttAt.length > 0);
    traces.push({
      name,
      files: used,
      linkType: linkType ?? 'unknown',
      linkSource,
      up: upSeries,
      down: downSeries,
      upFrom: up ? 'up' : 'down×ratio',
      upDerived: !up,
      downFrom: down ? 'down' : 'up',
      rttAt: Float64Array.from(rttSrc?.rttAt ?? []),
      rttMs: Float64Array.from(rttSrc?.rttMs ?? []),
      durationMs: Math.max(downSeries.durationMs, upSeries.durationMs),
    });
  }
  return traces.sort((a, b) => (a.name < b.name ? -1 : 1));
}

/**
 * Links held at one setting, as a person testing on a known network sets them: `type:downKbps/upKbps/rttMs`, e.g.
 * `wifi:50000/20000/10` (the type sets whether bytes count as cellular). Several are separated by commas.
 */
export function fixedLinks(spec: string): LinkTrace[] {
  return spec.split(',').map((part) => {
    const m = /^\s*([a-z0-9]+):(\d+(?:\.\d+)?)\/(\d+(?:\.\d+)?)\/(\d+(?:\.\d+)?)\s*$/i.exec(part);
    const type = m ? (m[1].toLowerCase() as LinkType) : null;
    if (m === null || type === null || !(type in DEFAULT_RTT_MS)) {
      throw simError(
        'SimBadLink',
        `"${part}" is not a fixed link: expected type:downKbps/upKbps/rttMs with type one of ${Object.keys(DEFAULT_RTT_MS).join(', ')}`,
      );
    }
    const [down, up, rtt] = [Number(m[2]), Number(m[3]), Number(m[4])];
    if (!(down > 0 && up > 0)) throw simError('SimBadLink', `"${part}": rates must be above 0 kbit/s`);
    return {
      name: `fixed-${type}-${down}-${up}-${rtt}`,
      files: [],
      linkType: type,
      linkSource: 'none' as const,
      up: new RateSeries([0], [up]),
      down: new RateSeries([0], [down]),
      upFrom: 'up' as const,
      upDerived: false,
      downFrom: 'down' as const,
      rttAt: Float64Array.of(0),
      rttMs: Float64Array.of(rtt),
      durationMs: 1000,
    };
  });
}

export function simError(name: string, message: string): Error {
  const e = new Error(message);
  e.name = name;
  return e;
}
