/**
 * Server-Timing as the edge server writes it and every client reads it: the metric names, the one formatter and the
 * one parser. Durations are milliseconds with one decimal; `batch` carries a count as its description.
 */

export const SERVER_TIMING_HEADER = 'Server-Timing';

/** Metric names the edge server sends. */
export const TIMING = {
  /** /v1/ocr stages: image decoding and the pipeline's own (core/ocr StageTimings). */
  decode: 'decode',
  preprocess: 'preprocess',
  det: 'det',
  postprocess: 'postprocess',
  cls: 'cls',
  rec: 'rec',
  /** Waiting for a free worker, summed over the request's model runs. */
  queue: 'queue',
  /** The server's whole time for the request. */
  total: 'total',
  /**
   * Reading the request body (probes, OIP infer, /v1/ocr): from the request's arrival to its last byte, the upload
   * as the server saw it, without the client's own delays around it.
   */
  read: 'read',
  /** Everything after the body was read (probes). */
  proc: 'proc',
  /** The model run inside its worker (OIP infer). */
  infer: 'infer',
  /** Callers that shared the model run (dynamic batching); a description, not a duration. */
  batch: 'batch',
} as const;

export type TimingName = (typeof TIMING)[keyof typeof TIMING];

/** `name;dur=12.3` per duration (in the given order), then `name;desc="…"` per description. */
export function formatServerTiming(
  durations: ReadonlyArray<readonly [TimingName, number]>,
  descriptions: ReadonlyArray<readonly [TimingName, string | number]> = [],
): string {
  const parts = durations.map(([name, ms]) => `${name};dur=${ms.toFixed(1)}`);
  for (const [name, desc] of descriptions) parts.push(`${name};desc="${desc}"`);
  return parts.join(', ');
}

/**
 * Parses a Server-Timing header (`decode;dur=3.1, det;dur=40;desc="x"`) into milliseconds per metric name.
 * Metrics without `dur` are skipped; a repeated name keeps its first value, as the spec says.
 */
export function parseServerTiming(header: string | null | undefined): Record<string, number> {
  const stages: Record<string, number> = {};
  if (!header) return stages;
  for (const metric of header.split(',')) {
    const [rawName, ...params] = metric.split(';');
    const name = rawName?.trim();
    if (!name || name in stages) continue;
    for (const param of params) {
      const [key, value] = param.split('=').map((s) => s.trim());
      if (key?.toLowerCase() === 'dur' && value !== undefined) {
        const ms = Number(value.replace(/^"|"$/g, ''));
        if (Number.isFinite(ms)) stages[name] = ms;
        break;
      }
    }
  }
  return stages;
}
