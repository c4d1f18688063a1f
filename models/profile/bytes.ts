/**
 * Bytes on the wire: what re-encoding a photo before upload saves and costs in recall, what a split detector
 * ships, and reply sizes; all measured on the profiling set.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import sharp from 'sharp';
import type { DetSplitProfile, ReencodeProfile, TransferProfile } from '../../core/profiles';
import type { OcrResponse } from '../../core/protocol/v1';
import { decodeRgba, type DetRow } from '../../bench/eval-ocr/dataset';
import { wordRecall } from '../../bench/eval-ocr/metrics';
import { decodeModel, encodeModel } from '../variants/onnx-graph';
import { splitModel } from '../variants/split';
import { runSession, type NodeSessions } from './node-sessions';
import { fitLine, latencyStats, share } from './stats';

export interface ReencodeOption {
  maxSide: number;
  quality: number;
}

/** Resize so the longest side is at most maxSide (never enlarge) and encode as JPEG. */
export async function reencodeJpeg(bytes: Uint8Array, opt: ReencodeOption): Promise<{ jpeg: Uint8Array; pixels: number }> {
  const { data, info } = await sharp(bytes)
    .resize({ width: opt.maxSide, height: opt.maxSide, fit: 'inside', withoutEnlargement: true })
    .jpeg({ quality: Math.round(opt.quality * 100) })
    .toBuffer({ resolveWithObject: true });
  return { jpeg: new Uint8Array(data), pixels: info.width * info.height };
}

/**
 * Per option: encoded bits per output pixel over the set, and word recall on the re-encoded photos relative to
 * the originals, both read by the default models at the detector side the upload allows (min(maxSide, detSide)).
 */
export async function measureReencode(
  sessions: NodeSessions,
  models: { det: string; cls: string; rec: string },
  options: ReencodeOption[],
  detSide: number,
  setDir: string,
  rows: DetRow[],
  log: (line: string) => void,
): Promise<ReencodeProfile[]> {
  const pipeline = sessions.pipeline(models);
  const originals = await Promise.all(rows.map((r) => readFileSync(join(setDir, r.image))));
  const baseline = new Map<number, number>();
  const recallAt = async (images: Uint8Array[], side: number) => {
    let found = 0;
    let total = 0;
    for (const [i, row] of rows.entries()) {
      const res = await pipeline.run(await decodeRgba(images[i]), { maxSide: side });
      const w = wordRecall(
        row.boxes,
        res.lines.map((l) => l.text),
      );
      found += w.found;
      total += w.total;
    }
    return found / Math.max(1, total);
  };
  const out: ReencodeProfile[] = [];
  for (const opt of options) {
    const side = Math.min(opt.maxSide, detSide);
    if (!baseline.has(side)) baseline.set(side, await recallAt(originals, side));
    const encoded = await Promise.all(originals.map((b) => reencodeJpeg(b, opt)));
    const bits = encoded.reduce((a, e) => a + e.jpeg.byteLength * 8, 0) / encoded.reduce((a, e) => a + e.pixels, 0);
    const recall = await recallAt(
      encoded.map((e) => e.jpeg),
      side,
    );
    const base = baseline.get(side)!;
    const p: ReencodeProfile = {
      maxSide: opt.maxSide,
      quality: opt.quality,
      bitsPerPixel: Math.round(bits * 1000) / 1000,
      recallFactor: base > 0 ? Math.round((recall / base) * 1e4) / 1e4 : 1,
    };
    out.push(p);
    log(`  reencode ${opt.maxSide} q${opt.quality}: ${p.bitsPerPixel} bit/px, recall ${recall.toFixed(4)} vs ${base.toFixed(4)} → ×${p.recallFactor}`);
  }
  return out;
}

interface SplitPointsFile {
  points: { name: string; cut: string[]; atSizes: { input: [number, number]; bytes: number }[] }[];
}

/**
 * Each recorded cut of the detector: activation bytes per input pixel from the recorded boundary sizes, and the
 * head's share of the detector's time measured here (head alone vs the whole model, same input, one thread).
 */
export async function measureSplits(
  sessions: NodeSessions,
  det: { id: string; name: string },
  pointsFile: string,
  dims: number[],
  reps: number,
  log: (line: string) => void,
): Promise<DetSplitProfile[]> {
  const points = (JSON.parse(readFileSync(pointsFile, 'utf8')) as SplitPointsFile).points;
  const model = decodeModel(readFileSync(join(sessions.repositoryDir, sessions.manifest.models.find((m) => m.name === det.name)!.file.path)));
  const input = { data: new Float32Array(dims.reduce((a, b) => a * b, 1)).fill(0.5), dims };
  const time = async (run: () => Promise<unknown>) => {
    await run();
    const s: number[] = [];
    for (let i = 0; i < reps; i++) {
      const t0 = performance.now();
      await run();
      s.push(performance.now() - t0);
    }
    return latencyStats(s).p50;
  };
  const whole = await sessions.create(det.name);
  const out: DetSplitProfile[] = [];
  try {
    for (const p of points) {
      const head = await ort.InferenceSession.create(encodeModel(splitModel(model, p.cut).head), {
        intraOpNumThreads: sessions.intraOpNumThreads,
        interOpNumThreads: 1,
        graphOptimizationLevel: 'all',
      });
      // Alternate the two so load changes on the machine hit both alike.
      let headMs = 0;
      let wholeMs = 0;
      for (let k = 0; k < 2; k++) {
        headMs += await time(() => head.run({ [head.inputNames[0]]: new ort.Tensor('float32', input.data, dims) }));
        wholeMs += await time(() => runSession(whole, input));
      }
      await head.release();
      const perPixel = p.atSizes.map((s) => s.bytes / (s.input[0] * s.input[1]));
      const split: DetSplitProfile = {
        id: `det-${p.name}`,
        det: det.id,
        headShare: Math.round(share(headMs, wholeMs) * 1000) / 1000,
        activationBytesPerPixel: Math.round((perPixel.reduce((a, b) => a + b, 0) / perPixel.length) * 100) / 100,
      };
      out.push(split);
      log(
        `  split ${split.id}: head ${(headMs / 2).toFixed(1)} of ${(wholeMs / 2).toFixed(1)} ms → share ${split.headShare}, ${split.activationBytesPerPixel} B/px`,
      );
    }
  } finally {
    await whole.release();
  }
  return out;
}

/** Reply sizes as the edge serialises them (JSON OcrResponse), fitted as base + per line over the set's replies. */
export function measureTransfer(
  replies: { lines: { box: number[][]; text: string; score: number }[] }[],
  recWidth: number,
  lineHeight: number,
): TransferProfile {
  const timings = { preprocess: 12.3, det: 123.4, postprocess: 12.3, cls: 0, rec: 123.4, total: 345.6 };
  const full = replies.map((r) => {
    const body: OcrResponse = {
      lines: r.lines.map((l) => ({ box: l.box as OcrResponse['lines'][number]['box'], text: l.text, score: l.score, boxScore: 0.876543, rotated: false })),
      timings,
      detInput: { width: 960, height: 544 },
      image: { width: 1280, height: 720 },
      server: { decode: 12.3, queue: 0.1, total: 400.2 },
      models: { det: 'ppocr-det', cls: 'ppocr-cls', rec: 'ppocr-rec' },
    };
    return { x: r.lines.length, y: new TextEncoder().encode(JSON.stringify(body)).byteLength };
  });
  const boxes = replies.map((r) => ({
    x: r.lines.length,
    y: new TextEncoder().encode(JSON.stringify({ boxes: r.lines.map((l) => ({ box: l.box, score: l.score })), detInput: { width: 960, height: 544 } }))
      .byteLength,
  }));
  const f = fitLine(full);
  const b = fitLine(boxes);
  return {
    responseBytes: { base: f.base, perLine: f.perUnit },
    // One float32 recogniser input per line over the binary inference protocol.
    cropBytesPerLine: 3 * lineHeight * recWidth * 4,
    boxesBytes: { base: b.base, perLine: b.perUnit },
  };
}
