/** Builds complete observations from a few fields: for tests, benchmarks and the simulator. */
import type { Observation } from './observations';

export type ObservationOverrides = Partial<Omit<Observation, 'request' | 'preferences' | 'device' | 'edge'>> & {
  request?: Partial<Observation['request']>;
  preferences?: Partial<Observation['preferences']>;
  device?: Partial<Observation['device']>;
  edge?: Partial<Observation['edge']>;
};

/** A 1280×960 photo of 250 kB with a 2 s budget, online over Wi-Fi, every model warm on a 2-thread WASM device. */
export function buildObservation(o: ObservationOverrides = {}): Observation {
  return {
    nowMs: o.nowMs ?? 0,
    online: o.online ?? true,
    connection: o.connection ?? 'wifi',
    networkId: o.networkId,
    netInfo: o.netInfo,
    rtt: o.rtt ?? [],
    throughput: o.throughput ?? [],
    device: {
      backend: 'wasm',
      threads: 2,
      models: [
        { model: 'ppocr-det@fp32', state: 'warm' },
        { model: 'ppocr-det@int8-weights', state: 'warm' },
        { model: 'ppocr-rec@fp32', state: 'warm' },
        { model: 'ppocr-cls@fp32', state: 'warm' },
      ],
      ...o.device,
    },
    edge: { ...o.edge },
    request: { bytes: 250_000, width: 1280, height: 960, mime: 'image/jpeg', budgetMs: 2000, ...o.request },
    preferences: { costWeight: 0, saveData: false, offloadOnCellular: true, ...o.preferences },
  };
}

/** Link samples as the adapters would report them: `count` RTT probes and uploads of `bytes` at `upKbps`. */
export function linkSamples(opts: {
  atMs: number;
  rttMs: number;
  upKbps: number;
  downKbps?: number;
  count?: number;
  bytes?: number;
}): Pick<Observation, 'rtt' | 'throughput'> {
  const n = opts.count ?? 5;
  const bytes = opts.bytes ?? 200_000;
  const rtt = [];
  const throughput = [];
  for (let k = 0; k < n; k++) {
    const at = opts.atMs - (n - k) * 200;
    rtt.push({ atMs: at, rttMs: opts.rttMs });
    throughput.push({ atMs: at + 100, direction: 'up' as const, bytes, elapsedMs: opts.rttMs + (bytes * 8) / opts.upKbps, serverMs: 0 });
    if (opts.downKbps !== undefined)
      throughput.push({ atMs: at + 150, direction: 'down' as const, bytes, elapsedMs: opts.rttMs + (bytes * 8) / opts.downKbps, serverMs: 0 });
  }
  return { rtt, throughput };
}
