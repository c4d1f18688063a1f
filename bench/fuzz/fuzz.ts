/**
 * `npm run fuzz -- [--cases 10000] [--seed N] [--concurrency 4] [--batch 100] [--rss-ceiling-gb 2] [--models a,b]
 * [--no-bomb] [--out FILE]`: starts the edge server as its own process on loopback (default settings, shared memory
 * on loopback, a throwaway web app folder), sends generated requests to every surface (edge-server/fuzz/), prints
 * the counts by status and the failures, and exits 1 on any undocumented 5xx, hang, error without a JSON body,
 * leak, failed health check or RSS over the ceiling. The seed is printed, so a failing run can be replayed.
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { formatCounts, prepareFuzzTarget, runFuzz } from '../../edge-server/fuzz/run-fuzz';
import { startEdgeProcess, stopEdgeProcess } from '../../test-support/edge-process';

const { values } = parseArgs({
  options: {
    cases: { type: 'string', default: '10000' },
    seed: { type: 'string' },
    concurrency: { type: 'string', default: '4' },
    batch: { type: 'string', default: '100' },
    'rss-ceiling-gb': { type: 'string', default: '2' },
    models: { type: 'string' },
    'no-bomb': { type: 'boolean', default: false },
    out: { type: 'string' },
  },
});
const positive = (name: string, raw: string | undefined): number => {
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name} must be a positive number, got ${raw}`);
  return n;
};
const cases = Math.floor(positive('cases', values.cases));
const seed = values.seed === undefined ? Math.floor(Math.random() * 2 ** 31) : Math.floor(Number(values.seed));
const ceiling = positive('rss-ceiling-gb', values['rss-ceiling-gb']) * 1e9;

const target = prepareFuzzTarget();
const edge = await startEdgeProcess({ ...target.env, ...(values.models ? { MODELS: values.models } : {}) });
let failed = true;
try {
  console.log(`fuzz: ${cases} cases, seed ${seed}, server pid ${edge.child.pid} at ${edge.base}`);
  const report = await runFuzz({
    base: edge.base,
    pid: edge.child.pid!,
    cases,
    seed,
    secret: target.secret,
    shm: target.shm,
    rssCeilingBytes: ceiling,
    batchSize: Math.floor(positive('batch', values.batch)),
    concurrency: Math.floor(positive('concurrency', values.concurrency)),
    withBomb: !values['no-bomb'],
    onBatch: (done, r) => process.stdout.write(`\r${done}/${cases} sent, ${r.failures.length} failures, peak RSS ${(r.peakRssBytes / 1e9).toFixed(2)} GB   `),
  });
  console.log(`\n\n${formatCounts(report)}\n`);
  console.log(
    `${report.cases} cases in ${report.seconds.toFixed(0)} s, ${report.batches} batches, peak server RSS ${(report.peakRssBytes / 1e9).toFixed(2)} GB ` +
      `(ceiling ${(ceiling / 1e9).toFixed(2)} GB), ${report.unsendable} not sendable by node:http`,
  );
  for (const f of report.failures.slice(0, 20)) console.log(`FAIL #${f.index} ${f.kind}: ${f.what}\n  ${f.request}\n  ${f.status ?? ''} ${f.body ?? ''}`);
  if (report.failures.length > 20) console.log(`... and ${report.failures.length - 20} more failures`);
  console.log(report.failures.length ? `${report.failures.length} failures (replay with --seed ${seed} --cases ${cases})` : 'no failures');
  if (values.out) writeFileSync(values.out, JSON.stringify(report, null, 2) + '\n');
  failed = report.failures.length > 0;
} finally {
  await stopEdgeProcess(edge);
  target.dispose();
}
process.exit(failed ? 1 : 0);
