/**
 * Accepted configurations: a request may list the model variants and detector sizes it is content with, so that an edge
 * server under load can run a cheaper one for it (and a more accurate one for others) instead of refusing. The reply
 * says which configuration ran.
 *
 * - `POST /v1/ocr`: header `x-tandem-accept: det=ppocr-det,ppocr-det-int8;max_side=960,640,480;rec=ppocr-rec,ppocr-rec-int8`
 *   (or the same text in the `accept` query parameter). A key left out means the request's own value for it (the
 *   `maxSide` query parameter, the server's default models). The reply carries `config` and `x-tandem-config`
 *   (`det=…;max_side=…;rec=…`).
 * - Open Inference Protocol infer: `parameters.accept`, a string holding a JSON list of model names (`"[\"ppocr-det\",
 *   \"ppocr-det-int8\"]"`) or the names separated by commas; each must take the same inputs and give the same outputs as
 *   the model in the URL. The reply's `model_name`/`model_version` (and `parameters.model_name`/`model_version`) name
 *   the model that ran.
 */
import type { ParameterValue } from './oip';

import { ACCEPT_HEADER, CONFIG_HEADER } from './headers';

export { ACCEPT_HEADER, CONFIG_HEADER } from './headers';
/** Query parameter of /v1/ocr carrying the same text as ACCEPT_HEADER (for clients that cannot set headers). */
export const ACCEPT_QUERY = 'accept';
/** Inference request parameter listing the accepted models. */
export const OIP_ACCEPT_PARAMETER = 'accept';

/** Detector longest-side range a request may ask for. */
export const MIN_MAX_SIDE = 32;
export const MAX_MAX_SIDE = 4096;
/** At most this many names or sizes per key, and configurations per request: the server searches all of them. */
export const MAX_ACCEPT_VALUES = 8;
export const MAX_ACCEPT_CONFIGS = 64;

/** What a whole-image OCR request accepts, per dimension; an absent key means the request's own or the default value. */
export interface OcrAccept {
  det?: string[];
  maxSide?: number[];
  rec?: string[];
}

/** One whole-image configuration: what ran, or what may run. */
export interface OcrConfig {
  det: string;
  maxSide: number;
  rec: string;
}

export class AcceptError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AcceptInvalid';
  }
}

const MODEL_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const KEYS: Record<string, keyof OcrAccept> = { det: 'det', rec: 'rec', max_side: 'maxSide', maxside: 'maxSide' };

/** Parses `det=a,b;max_side=960,640;rec=c`; throws AcceptError naming what is wrong. */
export function parseOcrAccept(text: string): OcrAccept {
  const accept: OcrAccept = {};
  if (text.length > 2048) throw new AcceptError(`${ACCEPT_HEADER} is ${text.length} characters long; at most 2048`);
  for (const part of text.split(';')) {
    if (part.trim() === '') continue;
    const eq = part.indexOf('=');
    if (eq < 0) throw new AcceptError(`${ACCEPT_HEADER}: "${part.trim()}" is not key=value[,value…] (keys: det, max_side, rec)`);
    const rawKey = part.slice(0, eq).trim().toLowerCase();
    const key = KEYS[rawKey];
    if (!key) throw new AcceptError(`${ACCEPT_HEADER}: unknown key "${rawKey}" (keys: det, max_side, rec)`);
    if (accept[key] !== undefined) throw new AcceptError(`${ACCEPT_HEADER}: key "${rawKey}" is given twice`);
    const values = unique(
      part
        .slice(eq + 1)
        .split(',')
        .map((v) => v.trim())
        .filter((v) => v !== ''),
    );
    if (values.length === 0) throw new AcceptError(`${ACCEPT_HEADER}: "${rawKey}" lists no value`);
    if (values.length > MAX_ACCEPT_VALUES) throw new AcceptError(`${ACCEPT_HEADER}: "${rawKey}" lists ${values.length} values; at most ${MAX_ACCEPT_VALUES}`);
    if (key === 'maxSide') accept.maxSide = values.map(parseSide);
    else accept[key] = values.map((v) => modelName(v, `${ACCEPT_HEADER}: ${rawKey}`));
  }
  const configs = (accept.det?.length ?? 1) * (accept.maxSide?.length ?? 1) * (accept.rec?.length ?? 1);
  if (configs > MAX_ACCEPT_CONFIGS) throw new AcceptError(`${ACCEPT_HEADER} allows ${configs} configurations; at most ${MAX_ACCEPT_CONFIGS}`);
  return accept;
}

export function formatOcrAccept(accept: OcrAccept): string {
  const parts: string[] = [];
  if (accept.det) parts.push(`det=${accept.det.join(',')}`);
  if (accept.maxSide) parts.push(`max_side=${accept.maxSide.join(',')}`);
  if (accept.rec) parts.push(`rec=${accept.rec.join(',')}`);
  return parts.join(';');
}

/** `det=ppocr-det-int8;max_side=960;rec=ppocr-rec`: the CONFIG_HEADER value. */
export function formatOcrConfig(config: OcrConfig): string {
  return `det=${config.det};max_side=${config.maxSide};rec=${config.rec}`;
}

export function parseOcrConfig(text: string): OcrConfig {
  const a = parseOcrAccept(text);
  if (a.det?.length !== 1 || a.maxSide?.length !== 1 || a.rec?.length !== 1) {
    throw new AcceptError(`${CONFIG_HEADER}: expected exactly one det, max_side and rec, got "${text}"`);
  }
  return { det: a.det[0], maxSide: a.maxSide[0], rec: a.rec[0] };
}

/** Every configuration an OcrAccept allows, with `own` filling the keys it leaves out. */
export function ocrConfigs(accept: OcrAccept, own: OcrConfig): OcrConfig[] {
  const out: OcrConfig[] = [];
  for (const det of accept.det ?? [own.det]) {
    for (const maxSide of accept.maxSide ?? [own.maxSide]) {
      for (const rec of accept.rec ?? [own.rec]) out.push({ det, maxSide, rec });
    }
  }
  return out;
}

/**
 * The models an inference request accepts (`parameters.accept`), without duplicates; null when it states none.
 * Throws AcceptError when the value is neither a JSON list of names nor names separated by commas.
 */
export function parseOipAccept(value: ParameterValue | undefined): string[] | null {
  if (value === undefined) return null;
  const where = `parameters.${OIP_ACCEPT_PARAMETER}`;
  if (typeof value !== 'string') throw new AcceptError(`${where} must be a string: a JSON list of model names or names separated by commas`);
  const text = value.trim();
  let names: unknown[];
  if (text.startsWith('[')) {
    try {
      names = JSON.parse(text) as unknown[];
    } catch (e) {
      throw new AcceptError(`${where} is not a valid JSON list (${(e as Error).message})`);
    }
    if (!Array.isArray(names)) throw new AcceptError(`${where} must be a JSON list of model names`);
  } else
    names = text
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== '');
  if (names.length === 0) throw new AcceptError(`${where} lists no model`);
  const list = unique(
    names.map((n) => {
      if (typeof n !== 'string') throw new AcceptError(`${where}: ${JSON.stringify(n)} is not a model name`);
      return modelName(n, where);
    }),
  );
  if (list.length > MAX_ACCEPT_VALUES) throw new AcceptError(`${where} lists ${list.length} models; at most ${MAX_ACCEPT_VALUES}`);
  return list;
}

/** The `parameters.accept` value for a list of model names. */
export function formatOipAccept(models: readonly string[]): string {
  return JSON.stringify(models);
}

function parseSide(v: string): number {
  const n = Number(v);
  if (!/^\d+$/.test(v) || n < MIN_MAX_SIDE || n > MAX_MAX_SIDE) {
    throw new AcceptError(`${ACCEPT_HEADER}: max_side ${JSON.stringify(v)} must be an integer from ${MIN_MAX_SIDE} to ${MAX_MAX_SIDE}`);
  }
  return n;
}

function modelName(v: string, where: string): string {
  if (!MODEL_NAME.test(v)) throw new AcceptError(`${where}: ${JSON.stringify(v)} is not a model name (letters, digits, ".", "_", "-")`);
  return v;
}

function unique<T>(values: T[]): T[] {
  return [...new Set(values)];
}
