/**
 * A TCP proxy on loopback that makes the path between a browser and a server behave like a traced access link:
 * per direction one shared pacer (capacity over trace time) followed by a delay line (rtt/2). Needs no root and
 * shapes everything the browser sends through it, service-worker fetches included.
 */
import { type AddressInfo, type Server, type Socket, connect, createServer } from 'node:net';
import { DelayLine } from './delay-line';
import { type Direction, LinkClock, wallNow } from './link-clock';
import { Pacer, type Payload } from './pacer';
import type { ShapeSpec } from './shape-spec';

/**
 * TCP backpressure: a flow's sender is paused while the bytes it has waiting in the pacer plus the receiver's write
 * buffer exceed this bound, and resumed below half of it. The bound covers half a second of the link's current
 * rate (at least 64 KB) so the pacer keeps bytes to send through event-loop stalls on a loaded machine; a smaller
 * one lets the link idle and lose capacity the trace says it had.
 */
const MIN_PAUSE_BYTES = 64 * 1024;
const MAX_PAUSE_BYTES = 8 * 1024 * 1024;
const BUFFER_MS = 500;

interface Flow {
  readonly dir: Direction;
  readonly src: Socket;
  readonly dst: Socket;
  /** Bytes read from src that have not yet left the pacer. */
  queued: number;
  paused: boolean;
  dead: boolean;
}

interface Link {
  pacer: Pacer<Flow>;
  delay: DelayLine<Flow>;
}

export interface LinkCounters {
  /** Bytes delivered to the server (client→server). */
  upBytes: number;
  /** Bytes delivered to the client. */
  downBytes: number;
  /** Client connections accepted. */
  connections: number;
}

export class LinkShaper {
  readonly port: number;
  readonly url: string;
  private readonly clock = new LinkClock();
  private readonly links: Record<Direction, Link>;
  private readonly sockets = new Set<Socket>();
  private readonly count: LinkCounters = { upBytes: 0, downBytes: 0, connections: 0 };
  private closing: Promise<void> | null = null;

  static async start(o: {
    target: { host: string; port: number };
    host?: string;
    port?: number;
    /** Shape from the first byte (default unshaped). */
    shape?: ShapeSpec | null;
  }): Promise<LinkShaper> {
    const host = o.host ?? '127.0.0.1';
    const server = createServer({ allowHalfOpen: true });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(o.port ?? 0, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const shaper = new LinkShaper(server, host, o.target);
    if (o.shape) shaper.shape(o.shape);
    return shaper;
  }

  private constructor(
    private readonly server: Server,
    host: string,
    private readonly target: { host: string; port: number },
  ) {
    this.port = (server.address() as AddressInfo).port;
    this.url = `http://${host.includes(':') ? `[${host}]` : host}:${this.port}`;
    const link = (dir: Direction): Link => {
      const delay = new DelayLine<Flow>(this.clock, (f, p) => this.deliver(f, p));
      const pacer = new Pacer<Flow>(this.clock, dir, (f, p, at) => {
        if (p !== null) {
          f.queued -= p.length;
          this.updatePause(f);
        }
        delay.push(f, p, at);
      });
      return { pacer, delay };
    };
    this.links = { up: link('up'), down: link('down') };
    server.on('connection', (client) => this.accept(client));
  }

  /**
   * Applies a shape at once, to bytes already queued and in flight too, and restarts the link clock at its
   * `startAtMs`. null passes bytes through without delay.
   */
  shape(spec: ShapeSpec | null): void {
    const now = wallNow();
    this.links.up.pacer.beforeReshape(now);
    this.links.down.pacer.beforeReshape(now);
    this.clock.reset(spec, now);
    for (const l of [this.links.up, this.links.down]) {
      l.delay.reshape();
      l.pacer.afterReshape();
    }
  }

  /** Where the link clock is in the trace (ms since `startAtMs`-anchored restart; the series wrap at their end). */
  nowTraceMs(): number {
    return this.clock.traceAt(wallNow());
  }

  counters(): LinkCounters {
    return { ...this.count };
  }

  close(): Promise<void> {
    this.closing ??= new Promise<void>((resolve) => {
      for (const l of [this.links.up, this.links.down]) {
        l.pacer.close();
        l.delay.close();
      }
      for (const s of this.sockets) s.destroy();
      this.sockets.clear();
      this.server.close(() => resolve());
    });
    return this.closing;
  }

  private accept(client: Socket): void {
    if (this.closing) {
      client.destroy();
      return;
    }
    this.count.connections++;
    const server = connect({ host: this.target.host, port: this.target.port, allowHalfOpen: true });
    const up: Flow = { dir: 'up', src: client, dst: server, queued: 0, paused: false, dead: false };
    const down: Flow = { dir: 'down', src: server, dst: client, queued: 0, paused: false, dead: false };
    let aborted = false;
    // A reset or error on either side resets the other at once, as a middlebox forwarding an RST would.
    const abort = (): void => {
      if (aborted) return;
      aborted = true;
      for (const f of [up, down]) {
        f.dead = true;
        this.links[f.dir].pacer.drop(f);
      }
      reset(client);
      reset(server);
    };
    for (const [s, f] of [
      [client, up],
      [server, down],
    ] as const) {
      this.sockets.add(s);
      s.setNoDelay(true);
      s.on('error', abort);
      s.on('close', (hadError) => {
        this.sockets.delete(s);
        if (hadError) abort();
      });
      s.on('data', (b: Buffer) => {
        f.queued += b.length;
        this.links[f.dir].pacer.push(f, b);
        this.updatePause(f);
      });
      s.on('end', () => this.links[f.dir].pacer.push(f, null));
    }
    server.on('drain', () => this.updatePause(up));
    client.on('drain', () => this.updatePause(down));
  }

  private deliver(f: Flow, p: Payload): void {
    if (f.dead || f.dst.destroyed) return;
    if (p === null) {
      f.dst.end();
      return;
    }
    if (f.dir === 'up') this.count.upBytes += p.length;
    else this.count.downBytes += p.length;
    f.dst.write(p);
    this.updatePause(f);
  }

  private updatePause(f: Flow): void {
    if (f.dead) return;
    const backlog = f.queued + f.dst.writableLength;
    const kbps = this.clock.rate(f.dir)?.rateAt(this.nowTraceMs()) ?? 0;
    const pauseAbove = Math.min(MAX_PAUSE_BYTES, Math.max(MIN_PAUSE_BYTES, (kbps * BUFFER_MS) / 8));
    if (!f.paused && backlog > pauseAbove) {
      f.paused = true;
      f.src.pause();
    } else if (f.paused && backlog <= pauseAbove / 2) {
      f.paused = false;
      f.src.resume();
    }
  }
}

function reset(s: Socket): void {
  if (s.destroyed) return;
  try {
    s.resetAndDestroy();
  } catch {
    s.destroy();
  }
}
