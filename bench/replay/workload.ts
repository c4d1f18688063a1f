/**
 * What a replay runs: a subset of links from a trace folder spread over link types, and per link a seeded Poisson
 * stream of labelled photos from an OCR evaluation folder. The same workload (links, photos, arrival times) is
 * replayed for every policy and budget, so they are compared on equal terms.
 */
import { basename, join } from 'node:path';
import { loadSet, type DetRow } from '../eval-ocr/dataset';
import { loadImages, type SimImage } from '../sim/images';
import { simError, type LinkTrace, type LinkType } from '../sim/traces';
import { mulberry32 } from '../../test-support/random';

export interface ReplayImage {
  /** Path relative to the evaluation folder (its det.jsonl name). */
  file: string;
  path: string;
  sim: SimImage;
  labels: DetRow['boxes'];
  dataset: string;
}

export interface ReplayRequest {
  /** Index within the link's stream. */
  k: number;
  /** When the user asks, ms after the session is ready (the page's clock; the trace's clock is read at the click). */
  arrivalMs: number;
  image: ReplayImage;
  budgetMs: number;
}

/** Kinds of link in the order a default subset takes them: the ones phones meet most, then the rest. */
const TYPE_ORDER: LinkType[] = ['lte', '3g', 'wifi', '5g', 'broadband', 'cellular', 'unknown'];

function hash(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return h >>> 0;
}

/**
 * `n` links, one link type after another (round robin over TYPE_ORDER), within a type those with a measured uplink
 * first, then in a seeded order; links shorter than `minDurationMs` are left out.
 */
export function pickLinks(traces: readonly LinkTrace[], n: number, seed: number, minDurationMs: number): LinkTrace[] {
  const byType = new Map<LinkType, LinkTrace[]>();
  for (const t of traces) {
    if (t.durationMs < minDurationMs) continue;
    const list = byType.get(t.linkType) ?? [];
    list.push(t);
    byType.set(t.linkType, list);
  }
  for (const list of byType.values()) {
    list.sort((a, b) => Number(b.upFrom === 'up') - Number(a.upFrom === 'up') || (hash(a.name) ^ seed) - (hash(b.name) ^ seed));
  }
  const out: LinkTrace[] = [];
  for (let round = 0; out.length < n; round++) {
    let took = false;
    for (const type of TYPE_ORDER) {
      const t = byType.get(type)?.[round];
      if (t && out.length < n) {
        out.push(t);
        took = true;
      }
    }
    if (!took) break;
  }
  return out;
}

/** The labelled photos of an evaluation folder (det.jsonl), with the sizes the simulator plans with. */
export function loadReplayImages(dir: string): ReplayImage[] {
  const sims = new Map(loadImages(dir).map((s) => [s.file, s]));
  return loadSet(dir).det.map((row) => ({
    file: row.image,
    path: join(dir, row.image),
    sim: sims.get(row.image)!,
    labels: row.boxes,
    dataset: row.dataset,
  }));
}

/** The photos named in `names` (comma-separated file names without extension), in that order; all when undefined. */
export function selectPhotos(images: readonly ReplayImage[], names: string | undefined): ReplayImage[] {
  if (names === undefined) return [...images];
  const byName = new Map(images.map((im) => [basename(im.file).replace(/\.[^.]+$/, ''), im]));
  return names.split(',').map((n) => {
    const im = byName.get(n.trim());
    if (im === undefined) throw simError('ReplayBadArgument', `--photos: no photo "${n.trim()}" in the evaluation folder`);
    return im;
  });
}

/**
 * `count` requests at `ratePerS` (exponential gaps, first one a gap after the start), each a photo drawn from
 * `images`, alternating datasets so a short stream holds both scenes and documents (or, `inOrder`, the photos as
 * listed, round after round), and the budgets taking turns in a seeded order per round (so every budget meets every
 * part of the link and both kinds of photo).
 */
export function requestStream(
  link: string,
  images: readonly ReplayImage[],
  count: number,
  ratePerS: number,
  seed: number,
  budgets: readonly number[],
  inOrder = false,
): ReplayRequest[] {
  const rnd = mulberry32(hash(link) ^ seed);
  const byDataset = new Map<string, ReplayImage[]>();
  for (const im of images) byDataset.set(im.dataset, [...(byDataset.get(im.dataset) ?? []), im]);
  const groups = [...byDataset.keys()].sort().map((d) => byDataset.get(d)!);
  const first = Math.floor(rnd() * groups.length);
  const out: ReplayRequest[] = [];
  let t = 0;
  let round: number[] = [];
  for (let k = 0; k < count; k++) {
    t += (-Math.log(1 - rnd()) * 1000) / ratePerS;
    const group = groups[(first + k) % groups.length];
    if (round.length === 0) round = shuffled(budgets, rnd);
    const drawn = group[Math.floor(rnd() * group.length)];
    out.push({ k, arrivalMs: t, image: inOrder ? images[k % images.length] : drawn, budgetMs: round.pop()! });
  }
  return out;
}

function shuffled<T>(xs: readonly T[], rnd: () => number): T[] {
  const out = [...xs];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}
