/** Tandem's own HTTP header names (all `x-tandem-*`), in one place for the server, the page, the worker and the benches. */

/** Request header carrying the client's remaining latency budget in milliseconds. */
export const BUDGET_HEADER = 'x-tandem-budget-ms';
/** Request header listing the whole-image configurations the caller accepts (core/protocol/accept.ts). */
export const ACCEPT_HEADER = 'x-tandem-accept';
/** Reply header naming the whole-image configuration that ran. */
export const CONFIG_HEADER = 'x-tandem-config';
/**
 * Request header `x-tandem-late-answer: wanted`: the client still wants the answer after its budget, and hangs up when
 * it no longer does. Such a request is still refused on arrival when it cannot make its deadline (the client may
 * choose otherwise then), but once admitted it is finished rather than answered 503 at the deadline, so a receipt
 * nearly read is not sent and read again from the start; past its deadline its model runs wait behind requests still
 * in time. Any other value is 400.
 */
export const LATE_ANSWER_HEADER = 'x-tandem-late-answer';
export const LATE_ANSWER_WANTED = 'wanted';

/**
 * Request header with the pixel size of the image in the body, `WIDTHxHEIGHT`: the server judges a request's cost on
 * arrival, before its body is read, and a receipt costs several street photos at the same detector side. A hint only:
 * the server checks the decoded image against it.
 */
export const IMAGE_SIZE_HEADER = 'x-tandem-image-size';

export function formatImageSize(width: number, height: number): string {
  return `${Math.round(width)}x${Math.round(height)}`;
}

/** null when absent; undefined when malformed (not two positive integers joined by `x`). */
export function parseImageSize(raw: string | undefined): { width: number; height: number } | null | undefined {
  if (raw === undefined) return null;
  const m = /^\s*(\d{1,6})x(\d{1,6})\s*$/.exec(raw);
  if (!m) return undefined;
  const width = Number(m[1]);
  const height = Number(m[2]);
  return width > 0 && height > 0 ? { width, height } : undefined;
}

/**
 * Request header `x-tandem-escalate: side=960; below=20; ms=1300` on /v1/ocr: when detection at the request's side
 * finds fewer than `below` lines, detect again at `side` on the decoded image (no second upload, the few lines not
 * read) if `ms`, the caller's prediction of that second detection, the recognition of the lines it expects and the
 * reply's transfer, still fits before the deadline. Without a budget the second detection always runs when short.
 */
export const ESCALATE_HEADER = 'x-tandem-escalate';

export interface EscalateRequest {
  side: number;
  below: number;
  ms: number;
}

export function formatEscalate(e: EscalateRequest): string {
  return `side=${Math.round(e.side)}; below=${Math.ceil(e.below)}; ms=${Math.max(0, Math.round(e.ms))}`;
}

/** null when absent; undefined when malformed (each of side, below and ms once, as non-negative integers, side > 0). */
export function parseEscalate(raw: string | undefined): EscalateRequest | null | undefined {
  if (raw === undefined) return null;
  const fields = new Map<string, number>();
  for (const part of raw.split(';')) {
    const m = /^\s*(side|below|ms)\s*=\s*(\d{1,7})\s*$/.exec(part);
    if (!m || fields.has(m[1])) return undefined;
    fields.set(m[1], Number(m[2]));
  }
  const side = fields.get('side');
  const below = fields.get('below');
  const ms = fields.get('ms');
  return side !== undefined && side > 0 && below !== undefined && ms !== undefined ? { side, below, ms } : undefined;
}
