/** Command line of bench:ocr-peers: which set, how many images, where the JSON goes. */
import { parseArgs } from 'node:util';

export interface PeerBenchArgs {
  /** Set folder given on the command line, or null for the default shared dev set. */
  set: string | null;
  out: string | null;
  limit: number;
}

export function parsePeerBenchArgs(argv: string[]): PeerBenchArgs {
  let values;
  try {
    ({ values } = parseArgs({ args: argv, options: { set: { type: 'string' }, out: { type: 'string' }, limit: { type: 'string' } } }));
  } catch (e) {
    throw usage((e as Error).message);
  }
  let limit = Infinity;
  if (values.limit !== undefined) {
    limit = Number(values.limit);
    if (!Number.isInteger(limit) || limit < 1) throw usage(`--limit expects a whole number ≥ 1, got "${values.limit}"`);
  }
  return { set: values.set ?? null, out: values.out ?? null, limit };
}

function usage(msg: string): Error {
  const e = new Error(`${msg}. Usage: npm run bench:ocr-peers -- [--set DIR] [--out FILE] [--limit N]`);
  e.name = 'BAD_ARGUMENT';
  return e;
}
