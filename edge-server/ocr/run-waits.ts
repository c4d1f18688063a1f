/**
 * The time one request's model runs of one stage spent waiting with none of them running: a stage's recognition
 * batches may be out on several workers at once, and one batch waiting for a worker while another of the same
 * request runs costs the request nothing. With runs one after another this is the sum of their waits.
 */
export class RunWaits {
  /** Per run: asked for, started, answered (ms, one clock). */
  private readonly runs: Array<[number, number, number]> = [];

  add(askedAt: number, startedAt: number, answeredAt: number): void {
    const started = Math.min(answeredAt, Math.max(askedAt, startedAt));
    this.runs.push([askedAt, started, answeredAt]);
  }

  waitedMs(): number {
    // Sweep over the edges: +1/−1 waiting, +1/−1 running; time counts while something waits and nothing runs.
    const edges: Array<[number, number, number]> = [];
    for (const [asked, started, answered] of this.runs) {
      if (started > asked) edges.push([asked, 1, 0], [started, -1, 0]);
      if (answered > started) edges.push([started, 0, 1], [answered, 0, -1]);
    }
    edges.sort((a, b) => a[0] - b[0]);
    let waiting = 0;
    let running = 0;
    let total = 0;
    let at = -Infinity;
    for (const [t, dw, dr] of edges) {
      if (waiting > 0 && running === 0) total += t - at;
      waiting += dw;
      running += dr;
      at = t;
    }
    return total;
  }
}
