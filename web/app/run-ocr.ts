import type { OcrLine } from '../../core/ocr/types';
import { edgeOcr } from '../edge-client';
import type { DeviceOcrResult, LoadInfo } from '../worker/api';
import { edgeFailureIsRecoverable, place } from './placement';
import type { Mode, Placement, Target } from './placement';

export interface OcrOutcome {
  target: Target;
  placement: Placement;
  /** Set when the first target failed and the fallback answered. */
  fellBack?: string;
  lines: OcrLine[];
  image: { width: number; height: number };
  /** Milliseconds per stage, in display order. */
  stages: [string, number][];
  /** Human-readable "where it ran". */
  where: string;
  wallMs: number;
}

export interface RunContext {
  device: {
    /** Makes sure models and runtime are ready (downloading if needed). */
    load(): Promise<LoadInfo>;
    ocr(image: Blob): Promise<DeviceOcrResult>;
  };
  online: boolean;
  edgeReachable?: boolean;
  budgetMs?: number;
}

export async function runOcr(image: Blob, mode: Mode, context: RunContext): Promise<OcrOutcome> {
  const placement = place(mode, context.online, context.edgeReachable);
  const started = performance.now();
  try {
    return await runOn(placement.target, image, placement, context, started);
  } catch (error) {
    if (!placement.fallback || !edgeFailureIsRecoverable(error)) throw error;
    const outcome = await runOn(placement.fallback, image, placement, context, started);
    return { ...outcome, fellBack: (error as Error).message };
  }
}

async function runOn(target: Target, image: Blob, placement: Placement, context: RunContext, started: number): Promise<OcrOutcome> {
  if (target === 'device') {
    const info = await context.device.load();
    const result = await context.device.ocr(image);
    const t = result.timings;
    return {
      target,
      placement,
      lines: result.lines,
      image: result.image,
      stages: [
        ['decode', result.device.decodeMs],
        ['preprocess', t.preprocess],
        ['det', t.det],
        ['postprocess', t.postprocess],
        ['cls', t.cls],
        ['rec', t.rec],
        ['total', t.total],
      ],
      where: `This device · ${info.backend}${info.backend === 'wasm' ? ` · ${info.threads} thread${info.threads === 1 ? '' : 's'}` : ''}`,
      wallMs: performance.now() - started,
    };
  }
  const reply = await edgeOcr(image, { budgetMs: context.budgetMs });
  const serverTotal = reply.serverTiming.total ?? reply.response.server.total;
  const stages = Object.entries(reply.serverTiming);
  stages.push(['network', Math.max(0, reply.roundTripMs - serverTotal)]);
  return {
    target,
    placement,
    lines: reply.response.lines,
    image: reply.response.image,
    stages,
    where: `Edge · ${new URL(location.href).host} · ${reply.response.models.det}, ${reply.response.models.rec}`,
    wallMs: performance.now() - started,
  };
}
