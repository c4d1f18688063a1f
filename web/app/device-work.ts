/**
 * Device work still running (e.g. the device side of a race the edge won): the worker runs one request at a time,
 * so a new device run waits for it. Its remaining time is guessed from the last device run.
 */
export class DeviceWork {
  private running = 0;
  private startedAt = 0;
  private lastMs = 0;

  async track<T>(work: () => Promise<T>): Promise<T> {
    const started = performance.now();
    if (this.running++ === 0) this.startedAt = started;
    try {
      return await work();
    } finally {
      this.lastMs = performance.now() - started;
      this.running--;
    }
  }

  busyMs(): number {
    return this.running > 0 ? Math.max(0, this.startedAt + this.lastMs - performance.now()) : 0;
  }
}
