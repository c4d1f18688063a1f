/**
 * Same-conditions comparison with the peer library @gutenye/ocr-node: images alternate between the peer and the
 * edge pipeline (in-process onnxruntime-node), so machine load falls on both alike. The peer is not a project
 * dependency; install it elsewhere first (see README).
 *   tsx bench/eval-ocr/vs-peer.ts --peer /tmp/peer [--set DIR] [--limit N] [--max-side N]
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { createOcrPipeline } from '../../core/ocr';
import { createOrtNodeOcr } from '../../test-support/ort-node-infer';
import { sharedEvalDir } from '../../test-support/shared-set';
import { decodeRgba, loadSet } from './dataset';
import { percentile, wordRecall } from './metrics';

const { values: a } = parseArgs({ options: { peer: { type: 'string' }, set: { type: 'string' }, limit: { type: 'string' }, 'max-side': { type: 'string' } } });
if (!a.peer) {
  console.error('vs-peer: --peer DIR is required (a folder where `npm install @gutenye/ocr-node@1.4.8` was run with onnxruntime-node-install=skip)');
  process.exit(2);
}
const setDir = a.set ? resolve(a.set) : sharedEvalDir();
if (!setDir) process.exit(2);
const rows = loadSet(setDir).det.slice(0, a.limit ? Number(a.limit) : Infinity);

const peerEntry = join(resolve(a.peer), 'node_modules', '@gutenye', 'ocr-node', 'build', 'index.js');
const Peer = (await import(pathToFileURL(peerEntry).href)).default;
const peer = await Peer.create();
const ours = await createOrtNodeOcr({ overrides: a['max-side'] ? { maxSide: Number(a['max-side']) } : {} });
const pipeline = createOcrPipeline(ours.config, ours.infer, () => performance.now());

type Who = 'peer' | 'tandem';
const read: Record<Who, (file: string) => Promise<string[]>> = {
  peer: async (file) => (await peer.detect(file)).map((l: { text: string }) => l.text),
  tandem: async (file) => (await pipeline.run(await decodeRgba(readFileSync(file)))).lines.map((l) => l.text),
};
const ms: Record<Who, number[]> = { peer: [], tandem: [] };
const words: Record<Who, { found: number; total: number }> = { peer: { found: 0, total: 0 }, tandem: { found: 0, total: 0 } };

// The peer logs timings to the console on every call.
const log = console.log;
const quiet = () => {};
Object.assign(console, { log: quiet, time: quiet, timeEnd: quiet });
try {
  await read.peer(join(setDir, rows[0].image));
  await read.tandem(join(setDir, rows[0].image));
  for (const [i, row] of rows.entries()) {
    const order: Who[] = i % 2 ? ['peer', 'tandem'] : ['tandem', 'peer'];
    for (const who of order) {
      const t0 = performance.now();
      const texts = await read[who](join(setDir, row.image));
      ms[who].push(performance.now() - t0);
      const w = wordRecall(row.boxes, texts);
      words[who].found += w.found;
      words[who].total += w.total;
    }
  }
} finally {
  console.log = log;
  await ours.release();
}
for (const who of ['peer', 'tandem'] as Who[]) {
  console.log(
    `${who.padEnd(6)}  word recall ${(words[who].found / words[who].total).toFixed(3)}  ms/image p50 ${percentile(ms[who], 0.5).toFixed(0)}  p90 ${percentile(ms[who], 0.9).toFixed(0)}`,
  );
}
