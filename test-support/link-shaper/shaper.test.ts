import { randomBytes } from 'node:crypto';
import { type AddressInfo, type Server, type Socket, connect, createServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { RateSeries } from '../../bench/sim/traces';
import { LinkShaper, type ShapeSpec, constantShape } from './index';

/** Measured figures, printed once so runs on a loaded machine can be compared. */
const report: string[] = [];
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const now = () => performance.now();

async function target(onSocket: (s: Socket) => void): Promise<{ server: Server; port: number }> {
  const server = createServer({ allowHalfOpen: true }, onSocket);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const sockets = new Set<Socket>();
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  cleanups.push(
    () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  );
  return { server, port: (server.address() as AddressInfo).port };
}

async function shaper(port: number, shape?: ShapeSpec): Promise<LinkShaper> {
  const s = await LinkShaper.start({ target: { host: '127.0.0.1', port }, shape });
  cleanups.push(() => s.close());
  return s;
}

async function dial(port: number): Promise<Socket> {
  const c = connect({ host: '127.0.0.1', port, allowHalfOpen: true });
  c.setNoDelay(true);
  c.on('error', () => {});
  cleanups.push(() => {
    c.destroy();
  });
  await new Promise<void>((r) => c.once('connect', () => r()));
  return c;
}

/** Resolves with the wall time at which `n` bytes have arrived on `s`. */
function receive(s: Socket, n: number): Promise<number> {
  let got = 0;
  return new Promise((resolve) => {
    const on = (b: Buffer) => {
      got += b.length;
      if (got >= n) {
        s.off('data', on);
        resolve(now());
      }
    };
    s.on('data', on);
  });
}

/**
 * Timed checks on a shared 2-core machine: a load spike can stall the event loop for tens of ms. Measure up to
 * `attempts` times, pausing between, and keep the first run within tolerance; a shaper that paces wrongly misses on
 * every run.
 */
async function timed<T>(run: () => Promise<T>, ok: (t: T) => boolean, attempts = 3): Promise<{ result: T; runs: number }> {
  let result = await run();
  let runs = 1;
  while (!ok(result) && runs < attempts) {
    await new Promise((r) => setTimeout(r, 300));
    result = await run();
    runs++;
  }
  return { result, runs };
}
const tries = (n: number) => (n > 1 ? ` [run ${n}]` : '');

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const within = (got: number, want: number, rel: number) => Math.abs(got - want) <= rel * want;
const near = (v: number) => v.toFixed(1);

describe('LinkShaper', () => {
  it('paces an upload and a download to the trace integral plus rtt/2', async () => {
    const rtt = 40;
    const up = new RateSeries([0, 100, 200, 300], [2000, 500, 0, 4000]);
    const down = new RateSeries([0, 100, 200], [2000, 500, 4000]);
    const spec: ShapeSpec = { up, down, rttMs: () => rtt };
    const bytes = 300 * 1024;
    const run = async () => {
      let sinkDone: (t: number) => void = () => {};
      const sunk = new Promise<number>((r) => (sinkDone = r));
      let serverStart = { wall: 0, trace: 0 };
      let link: LinkShaper | undefined;
      const { port } = await target((s) => {
        let got = 0;
        s.on('data', (b) => {
          if (b.toString() === 'download') {
            serverStart = { wall: now(), trace: link!.nowTraceMs() };
            s.write(randomBytes(bytes));
            return;
          }
          got += b.length;
          if (got >= bytes) sinkDone(now());
        });
      });
      link = await shaper(port);
      const upload = await dial(link.port);
      await new Promise((r) => setTimeout(r, 20)); // the proxy's leg to the target is up
      link.shape(spec);
      const t0 = now();
      const trace0 = link.nowTraceMs();
      upload.write(randomBytes(bytes));
      const upMs = (await sunk) - t0;
      const upWant = up.transferMs(trace0, bytes) + rtt / 2;

      const dl = await dial(link.port);
      await new Promise((r) => setTimeout(r, 20));
      const arrived = receive(dl, bytes);
      dl.write('download');
      const downMs = (await arrived) - serverStart.wall;
      const downWant = down.transferMs(serverStart.trace, bytes) + rtt / 2;
      return { upMs, upWant, downMs, downWant, counters: link.counters() };
    };
    const { result: r, runs } = await timed(run, (r) => within(r.upMs, r.upWant, 0.05) && within(r.downMs, r.downWant, 0.05));
    report.push(`upload 300 KB over 2000/500/0/4000 kbit/s 100 ms steps, rtt 40: ${near(r.upMs)} ms, trace says ${near(r.upWant)} ms${tries(runs)}`);
    report.push(`download 300 KB over 2000/500/4000 kbit/s 100 ms steps, rtt 40: ${near(r.downMs)} ms, trace says ${near(r.downWant)} ms${tries(runs)}`);
    expect(within(r.upMs, r.upWant, 0.05), `upload ${r.upMs} vs ${r.upWant}`).toBe(true);
    expect(within(r.downMs, r.downWant, 0.05), `download ${r.downMs} vs ${r.downWant}`).toBe(true);
    expect(r.counters).toEqual({ upBytes: bytes + 'download'.length, downBytes: bytes, connections: 2 });
  });

  it('adds the round trip to a ping', async () => {
    const { port } = await target((s) => s.pipe(s));
    const link = await shaper(port, constantShape({ upKbps: 10_000, downKbps: 10_000, rttMs: 80 }));
    const c = await dial(link.port);
    const run = async () => {
      const rtts: number[] = [];
      for (let i = 0; i < 9; i++) {
        const back = receive(c, 8);
        const t = now();
        c.write('ping0000');
        rtts.push((await back) - t);
      }
      return rtts;
    };
    const { result: rtts, runs } = await timed(run, (r) => Math.abs(median(r) - 80) <= 2, 5);
    report.push(`ping at rtt 80 ms: median ${near(median(rtts))} ms of ${rtts.map(near).join(', ')}${tries(runs)}`);
    expect(Math.abs(median(rtts) - 80)).toBeLessThanOrEqual(2);
  });

  it('slows bytes already queued when the shape changes mid-transfer', async () => {
    const bytes = 400 * 1024;
    const rtt = 20;
    const run = async () => {
      let start = 0;
      const { port } = await target((s) =>
        s.once('data', () => {
          start = now();
          s.write(randomBytes(bytes));
        }),
      );
      const link = await shaper(port, constantShape({ upKbps: 2000, downKbps: 2000, rttMs: rtt }));
      const c = await dial(link.port);
      const arrived = receive(c, bytes);
      c.write('go');
      await new Promise((r) => setTimeout(r, 250));
      link.shape(constantShape({ upKbps: 2000, downKbps: 1000, rttMs: rtt }));
      // The prediction assumes the link started sending when the server wrote; a late first read in the proxy
      // shows up scaled by old/new rate, hence a modest 2:1 change.
      const changedAfter = now() - start;
      const sentBefore = Math.min(bytes, (changedAfter * 2000) / 8);
      const want = changedAfter + ((bytes - sentBefore) * 8) / 1000 + rtt / 2;
      return { changedAfter, want, got: (await arrived) - start };
    };
    const { result: r, runs } = await timed(run, (r) => within(r.got, r.want, 0.05));
    const oldRate = (bytes * 8) / 2000 + rtt / 2;
    report.push(
      `400 KB at 2000 then 1000 kbit/s from ${near(r.changedAfter)} ms: ${near(r.got)} ms, predicted ${near(r.want)} ms (old rate alone ${near(oldRate)} ms)${tries(runs)}`,
    );
    expect(within(r.got, r.want, 0.05), `${r.got} vs ${r.want}`).toBe(true);
  });

  it('shares one link between connections', async () => {
    const bytes = 200 * 1024;
    const want = (2 * bytes * 8) / 4000 + 10;
    const run = async () => {
      const starts: number[] = [];
      const { port } = await target((s) =>
        s.once('data', () => {
          starts.push(now());
          s.write(randomBytes(bytes));
        }),
      );
      const link = await shaper(port, constantShape({ upKbps: 4000, downKbps: 4000, rttMs: 20 }));
      const [a, b] = await Promise.all([dial(link.port), dial(link.port)]);
      const done = Promise.all([receive(a, bytes), receive(b, bytes)]);
      a.write('go');
      b.write('go');
      const ends = await done;
      return ends.map((e) => e - Math.min(...starts));
    };
    const { result: got, runs } = await timed(run, (g) => g.every((x) => within(x, want, 0.05)));
    report.push(`two 200 KB downloads sharing 4000 kbit/s: ${got.map(near).join(' and ')} ms, shared link says ${near(want)} ms${tries(runs)}`);
    for (const g of got) expect(within(g, want, 0.05), `${g} vs ${want}`).toBe(true);
  });

  it('stops reading a sender the link cannot carry and resumes when it can', async () => {
    const bytes = 16 * 1024 * 1024;
    let source: Socket | undefined;
    const { port } = await target((s) =>
      s.once('data', () => {
        source = s;
        s.write(Buffer.alloc(bytes, 7));
      }),
    );
    const link = await shaper(port, constantShape({ upKbps: 1000, downKbps: 0, rttMs: 10 }));
    const c = await dial(link.port);
    const arrived = receive(c, bytes);
    c.write('go');
    await new Promise((r) => setTimeout(r, 300));
    expect(link.counters().downBytes).toBe(0);
    // The stalled link pushed back to the sender instead of buffering 16 MB in the proxy.
    expect(source!.writableLength).toBeGreaterThan(0);
    link.shape(null);
    await arrived;
    expect(link.counters().downBytes).toBe(bytes);
  });

  it('passes bytes through unshaped, counts them, carries half-closes, and closes cleanly', async () => {
    const kinds = ['TCPSocketWrap', 'TCPServerWrap', 'Timeout'];
    const handles = () => process.getActiveResourcesInfo().filter((k) => kinds.includes(k)).length;
    const before = handles();
    const { server, port } = await target((s) => s.pipe(s));
    const link = await LinkShaper.start({ target: { host: '127.0.0.1', port } });
    const c = connect({ host: '127.0.0.1', port: link.port, allowHalfOpen: true });
    const payload = randomBytes(1024 * 1024);
    const chunks: Buffer[] = [];
    c.on('data', (b) => chunks.push(b));
    const ended = new Promise<void>((r) => c.on('end', r));
    c.end(payload);
    await ended;
    expect(Buffer.concat(chunks).equals(payload)).toBe(true);
    expect(link.counters()).toEqual({ upBytes: payload.length, downBytes: payload.length, connections: 1 });

    const open = connect({ host: '127.0.0.1', port: link.port });
    open.on('error', () => {});
    await new Promise((r) => open.once('connect', r));
    const closedByShaper = new Promise((r) => open.once('close', r));
    await link.close();
    await closedByShaper;
    c.destroy();
    await new Promise<void>((r) => server.close(() => r()));
    await new Promise((r) => setTimeout(r, 50));
    expect(handles()).toBeLessThanOrEqual(before);
  });

  it('closes the client when the target refuses, and propagates a reset', async () => {
    const gone = createServer();
    await new Promise<void>((r) => gone.listen(0, '127.0.0.1', r));
    const gonePort = (gone.address() as AddressInfo).port;
    await new Promise((r) => gone.close(r));
    const refused = await shaper(gonePort);
    const c = connect({ host: '127.0.0.1', port: refused.port });
    c.on('error', () => {});
    await new Promise((r) => c.once('close', r));

    const { port } = await target((s) => s.once('data', () => s.resetAndDestroy()));
    const link = await shaper(port, constantShape({ upKbps: 1000, downKbps: 1000, rttMs: 20 }));
    const d = await dial(link.port);
    const error = new Promise<NodeJS.ErrnoException>((r) => d.once('error', r));
    d.write('x');
    expect((await error).code).toBe('ECONNRESET');
  });

  it('prints measured figures', () => {
    console.log(`link shaper timings:\n  ${report.join('\n  ')}`);
  });
});
